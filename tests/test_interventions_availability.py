"""How much of a Mg salt's Mg dissolves into the absorptive gut lumen (docs/physiology.md,
Interventions): the per-salt available fraction, its derivation from Firoz & Graber 2001, its place
in the one model definition (native and SBML), and what it leaves alone (phosphate binding)."""

from __future__ import annotations

import pytest

from mgckd._pint import quantity
from mgckd.interventions import Drug, Intervention, intervention_schedule
from mgckd.model import CompiledModel, Dose, compile_model
from mgckd.params import parameters
from mgckd.physiology import MG_SALT_INPUTS, magnesium_model, whole_body_model
from mgckd.simulate import Scenario, export_sbml, steady_state

MG_ONLY = compile_model(magnesium_model())
WHOLE = compile_model(whole_body_model())

FIROZ_DOSE_MMOL_D = 10.5
"""Firoz & Graber 2001 (PMID 11794633): about 21 mEq/d of each preparation."""
FIROZ_MGO_FRACTIONAL_ABSORPTION = 0.04
"""Firoz & Graber 2001: fractional absorption of MgO, urinary Mg increment over the dose."""
LINDBERG_MGO_SOLUBLE_PEAK_ACID = 0.43
"""Lindberg et al. 1990 (doi:10.1080/07315724.1990.10720349): share of a 25 mmol MgO load that
dissolved in vitro at simulated peak gastric acid secretion; an in-vivo fraction stays below."""
OXIDE = "supplement_mg_oxide_mmol_h"


def _per_h(mmol_d: float) -> float:
    return float(quantity(mmol_d, "mmol/d").to("mmol/h").magnitude)


def _steady(compiled: CompiledModel, overrides: dict[str, float]) -> dict[str, float]:
    p = compiled.parameter_array(overrides)
    solved = steady_state(compiled, p)
    values = compiled.reported_rules(0.0, solved.states, p)[:, 0]
    return dict(zip(compiled.model.rule_names, values, strict=True))


def test_every_mg_salt_has_an_available_fraction_in_the_registry() -> None:
    registry = parameters()
    for fraction in MG_SALT_INPUTS.values():
        assert 0 < registry[fraction].to("1") <= 1
    assert registry["mg_oxide_available_fraction"].status == "derived"
    assert registry["mg_oxide_available_fraction"].to("1") < LINDBERG_MGO_SOLUBLE_PEAK_ACID


def test_a_fully_available_salt_gives_more_absorbed_mg_than_mgo_at_the_same_dose() -> None:
    dose = _per_h(FIROZ_DOSE_MMOL_D)
    none = _steady(MG_ONLY, {})
    soluble = _steady(MG_ONLY, {"supplement_mg_mmol_h": dose})
    oxide = _steady(MG_ONLY, {OXIDE: dose})
    assert none["mg_absorbed_mmol_d"] < oxide["mg_absorbed_mmol_d"] < soluble["mg_absorbed_mmol_d"]
    assert oxide["plasma_mg_total_mmol_l"] < soluble["plasma_mg_total_mmol_l"]
    # the fraction is what makes the difference: MgO at fraction 1 is a soluble salt
    whole_oxide = _steady(MG_ONLY, {OXIDE: dose, "mg_oxide_available_fraction": 1.0})
    assert whole_oxide["mg_absorbed_mmol_d"] == pytest.approx(soluble["mg_absorbed_mmol_d"])


def test_mgo_fraction_reproduces_the_measured_fractional_absorption() -> None:
    """The derivation of `mg_oxide_available_fraction`: in the healthy reference adult at the
    reference diet the model's urinary increment on 10.5 mmol/d MgO is Firoz & Graber's 4 % of
    the dose, against about 15 % for a salt that dissolves completely."""
    dose = _per_h(FIROZ_DOSE_MMOL_D)
    none = _steady(MG_ONLY, {})["urine_mg_mmol_d"]
    oxide = _steady(MG_ONLY, {OXIDE: dose})["urine_mg_mmol_d"]
    soluble = _steady(MG_ONLY, {"supplement_mg_mmol_h": dose})["urine_mg_mmol_d"]
    assert (oxide - none) / FIROZ_DOSE_MMOL_D == pytest.approx(
        FIROZ_MGO_FRACTIONAL_ABSORPTION, rel=0.02
    )
    assert (soluble - none) / FIROZ_DOSE_MMOL_D > 3 * FIROZ_MGO_FRACTIONAL_ABSORPTION


def test_mg_salts_bind_phosphate_by_the_mg_taken_not_the_mg_dissolved() -> None:
    """S0-11 is unchanged: binding follows the elemental Mg of the salt, dissolved or not."""
    dose = _per_h(30.0)
    no_binding = {"gut_mg_phosphate_binding": 0.0}
    taken = _steady(WHOLE, {OXIDE: dose})
    unbound = _steady(WHOLE, {OXIDE: dose, **no_binding})
    soluble = _steady(WHOLE, {"supplement_mg_mmol_h": dose})
    soluble_unbound = _steady(WHOLE, {"supplement_mg_mmol_h": dose, **no_binding})
    bound_oxide = unbound["pi_absorbed_mmol_d"] - taken["pi_absorbed_mmol_d"]
    bound_soluble = soluble_unbound["pi_absorbed_mmol_d"] - soluble["pi_absorbed_mmol_d"]
    assert bound_oxide > 0
    assert bound_oxide == pytest.approx(bound_soluble, rel=0.05)


def test_schedules_put_each_salt_on_its_own_input_and_doses_carry_the_dissolved_mg() -> None:
    mgo = Intervention(drug=Drug.MAGNESIUM_OXIDE, dose_mg=330, delivery="doses")
    fraction = parameters()["mg_oxide_available_fraction"].to("1")
    (dose,) = intervention_schedule([mgo], duration_h=48.0)
    assert isinstance(dose, Dose)
    assert dose.amounts[0] == pytest.approx(mgo.mg_per_dose_mmol() * fraction)
    calmag = Intervention(drug=Drug.CALCIUM_ACETATE_MAGNESIUM_CARBONATE, dose_mg=435).per_dose()
    assert "supplement_mg_carbonate_mmol_h" in calmag
    assert "supplement_mg_mmol_h" not in calmag
    hydroxide = Intervention(drug=Drug.MAGNESIUM_HYDROXIDE, dose_mg=583.19)
    assert hydroxide.dissolved_mg_per_dose_mmol() == pytest.approx(
        10.0 * parameters()["mg_hydroxide_available_fraction"].to("1"), rel=1e-4
    )


def test_the_fractions_are_in_the_sbml_export() -> None:
    """The exported model carries each salt's fraction as a parameter and lets only that share
    of the salt's Mg into the lumen (the same definition `simulate` compiles)."""
    libsbml = pytest.importorskip("libsbml")
    scenario = Scenario(duration_h=24.0, parameters={OXIDE: 0.5})
    model = libsbml.readSBMLFromString(export_sbml(WHOLE, scenario)).getModel()
    for fraction in MG_SALT_INPUTS.values():
        assert model.getParameter(fraction).getValue() == pytest.approx(
            parameters()[fraction].to("1")
        )
    law = model.getReaction("mg_supplement").getKineticLaw().getMath()
    assert libsbml.formulaToL3String(law) == "mg_supplement_dissolved_mmol_h"
    rule = model.getAssignmentRuleByVariable("mg_supplement_dissolved_mmol_h")
    dissolved = libsbml.formulaToL3String(rule.getMath())
    for rate, fraction in MG_SALT_INPUTS.items():
        assert f"{fraction} * {rate}" in dissolved
