"""The whole-body model (`mgckd.physiology.whole_body_model`): units, the healthy steady state,
its hold, mass balance of Mg, Ca and phosphate, the gut's Mg absorption curve, CKD behaviour,
drugs, and the SBML cross-check.

Healthy ranges (research notes physiology-models.md §2): total Mg 0.7–1.0 mmol/L, ionized
0.45–0.60, FEMg 1–5 %, urinary Mg 3–5 mmol/d, body Mg about 1000 mmol, TAL 60–70 % of the
filtered Mg; total Ca 2.2–2.6 mmol/L, urinary Ca 2.5–7.5 mmol/d, TAL 20–25 % of filtered Ca;
phosphate 0.8–1.5 mmol/L, FEPi 5–20 %; PTH 1.6–6.9 pmol/L; calcitriol 48–110 pmol/L. Plasma
levels and urine are in range by construction (the kidney's and gut's constants are derived from
the reference state, docs/physiology.md); the tests guard the derivation.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mgckd._pint import quantity
from mgckd.chemistry import reference_plasma, speciate
from mgckd.model import Dose, SetParameter, Window, compile_model
from mgckd.model._roadrunner import load_roadrunner, run_roadrunner
from mgckd.model._units import unit_problems
from mgckd.physiology import GfrCourse, magnesium_model, whole_body_model
from mgckd.simulate import Scenario, export_sbml, simulate, steady_state

HOURS_PER_YEAR = quantity(1.0, "year").to("h").magnitude
MODEL = whole_body_model()
COMPILED = compile_model(MODEL)
MG_ONLY = compile_model(magnesium_model())
"""The Mg module with Ca and hormones held: the gut's Mg curve up to 5000 mmol/d, where the whole
body (hypermagnesemia acting on the CaSR) has no steady state."""
HAS_ROADRUNNER = importlib.util.find_spec("roadrunner") is not None


def _course(course: GfrCourse) -> dict[str, float]:
    to_l_h = quantity(1.0, "mL/min").to("L/h").magnitude
    return {
        "gfr_start_l_h": course.start_ml_min * to_l_h,
        "gfr_floor_l_h": course.floor_ml_min * to_l_h,
        "gfr_decline_per_h": course.rate_per_h(),
    }


def _healthy() -> dict[str, float]:
    p = COMPILED.parameter_array()
    solved = steady_state(COMPILED, p)
    values = COMPILED.reported_rules(0.0, solved.states, p)[:, 0]
    return dict(zip(MODEL.rule_names, values, strict=True))


def test_every_flux_and_rule_is_dimensionally_sound() -> None:
    assert unit_problems(MODEL) == []


def test_chemistry_supplies_the_plasma_fractions() -> None:
    frame = speciate(reference_plasma("normal")).to_frame()
    defaults = dict(zip(COMPILED.parameters, COMPILED.default_parameters, strict=True))
    assert defaults["mg_ionized_fraction"] == frame["mg_ionized_fraction"].item()
    assert defaults["mg_ultrafilterable_fraction"] == frame["mg_ultrafilterable_fraction"].item()


def test_healthy_steady_state_is_in_physiological_ranges() -> None:
    h = _healthy()
    assert 0.7 <= h["plasma_mg_total_mmol_l"] <= 1.0
    assert h["plasma_mg_ionized_mmol_l"] == pytest.approx(0.55, abs=0.05)
    assert 1.0 <= h["fe_mg_percent"] <= 5.0
    assert 3.0 <= h["urine_mg_mmol_d"] <= 5.0
    assert h["body_mg_mmol"] == pytest.approx(1000.0, rel=0.1)
    assert 0.60 <= h["mg_tal_reabsorbed_fraction_reference"] <= 0.70
    assert 2.2 <= h["plasma_ca_total_mmol_l"] <= 2.6
    assert 1.1 <= h["plasma_ca_ionized_mmol_l"] <= 1.3
    assert 2.5 <= h["urine_ca_mmol_d"] <= 7.5
    assert 0.20 <= h["ca_tal_reabsorbed_fraction_reference"] <= 0.25
    assert 0.8 <= h["plasma_pi_mmol_l"] <= 1.5
    assert 5.0 <= h["fe_pi_percent"] <= 20.0
    assert 1.6 <= h["plasma_pth_pmol_l"] <= 6.9
    assert 48.0 <= h["plasma_calcitriol_pmol_l"] <= 110.0
    assert h["plasma_fgf23_relative"] == pytest.approx(1.0)
    intake = quantity(
        COMPILED.default_parameters[COMPILED.parameters.index("diet_mg_mmol_h")], "mmol/h"
    )
    assert 0.3 <= h["mg_absorbed_mmol_d"] / intake.to("mmol/d").magnitude <= 0.5


def test_untreated_model_holds_its_steady_state_for_years() -> None:
    result = simulate(
        MODEL, Scenario(duration_h=5 * HOURS_PER_YEAR), save_at=[0.0, 5 * HOURS_PER_YEAR]
    )
    assert np.abs(result.states[-1] / result.states[0] - 1).max() < 1e-8


@pytest.mark.parametrize("intake_mmol_d", [0.01, 1.0, 12.0, 50.0, 500.0, 5000.0])
def test_absorbed_fraction_never_exceeds_one(intake_mmol_d: float) -> None:
    rate = quantity(intake_mmol_d, "mmol/d").to("mmol/h").magnitude
    p = MG_ONLY.parameter_array({"diet_mg_mmol_h": rate})
    solved = steady_state(MG_ONLY, p)
    absorbed = MG_ONLY.fluxes(0.0, solved.states, p)[
        MG_ONLY.model.flux_names.index("mg_absorption"), 0
    ]
    assert 0.0 < absorbed / rate <= 1.0


def test_absorbed_fraction_falls_from_fine_1991_low_to_paracellular_limit() -> None:
    intakes = quantity(np.array([1e-4, 12.0, 1e6]), "mmol/d").to("mmol/h").magnitude
    p = MG_ONLY.parameter_array({"diet_mg_mmol_h": intakes}, 3)
    solved = steady_state(MG_ONLY, p)
    absorbed = MG_ONLY.fluxes(0.0, solved.states, p)[
        MG_ONLY.model.flux_names.index("mg_absorption")
    ]
    fraction = absorbed / intakes
    assert fraction[0] == pytest.approx(0.65, rel=1e-3)
    assert fraction[1] == pytest.approx(0.40, rel=1e-9)
    assert fraction[2] == pytest.approx(0.07, rel=1e-2)


def test_femg_rises_as_gfr_falls_and_mg_holds_until_advanced_ckd() -> None:
    gfr = np.array([120.0, 60.0, 30.0, 15.0])
    l_h = quantity(gfr, "mL/min").to("L/h").magnitude
    p = COMPILED.parameter_array({"gfr_start_l_h": l_h, "gfr_floor_l_h": l_h}, 4)
    solved = steady_state(COMPILED, p)
    rules = COMPILED.reported_rules(0.0, solved.states, p)
    fe = rules[MODEL.rule_names.index("fe_mg_percent")]
    mg = rules[MODEL.rule_names.index("plasma_mg_total_mmol_l")]
    assert np.all(np.diff(fe) > 0)
    assert np.all((mg[:3] > 0.7) & (mg[:3] < 1.0))
    assert mg[-1] > mg[2]
    assert fe[-1] > 15.0


DRAWS = st.fixed_dictionaries(
    {
        "start": st.floats(20.0, 120.0),
        "rate": st.floats(0.0, 1.0),
        "supplement": st.floats(0.0, 2.0),
        "dose": st.floats(0.0, 30.0),
        "loop": st.floats(0.0, 0.9),
        "injury": st.floats(0.0, 0.9),
        "binder": st.floats(0.0, 0.5),
        "calcium": st.floats(0.0, 1.0),
        "calcitriol": st.floats(0.0, 50.0),
    }
)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(draw=DRAWS)
def test_mass_balance_closes_for_every_element_over_random_scenarios(
    draw: dict[str, float],
) -> None:
    course = GfrCourse(draw["start"], draw["start"] / 3, draw["rate"])
    scenario = Scenario(
        duration_h=2 * HOURS_PER_YEAR,
        n_patients=2,
        parameters={**_course(course), "tubular_injury": [0.0, draw["injury"]]},
        schedule=(
            SetParameter("supplement_mg_mmol_h", draw["supplement"], at_h=100.0),
            Dose("mg_gut", [draw["dose"], 0.0], start_h=10.0, every_h=500.0, count=5),
            Window("loop_diuretic_inhibition", draw["loop"], start_h=3000.0, duration_h=2000.0),
            SetParameter("binder_pi_capacity_mmol_h", draw["binder"], at_h=200.0),
            SetParameter("supplement_ca_mmol_h", draw["calcium"], at_h=300.0),
            Window("calcitriol_dose_pmol_h", draw["calcitriol"], start_h=50.0, duration_h=4000.0),
        ),
    )
    result = simulate(MODEL, scenario, save_at=np.linspace(0.0, 2 * HOURS_PER_YEAR, 9))
    for element in ("Mg", "Ca", "P"):
        assert np.abs(result.mass_balance_error(element)).max() < 1e-6


@pytest.mark.skipif(not HAS_ROADRUNNER, reason="libroadrunner (the 'peers' extra) is not installed")
def test_exported_sbml_in_roadrunner_matches_the_native_solver() -> None:
    """Within 0.5 % (the issue's bound) — in practice about 1e-7."""
    scenario = Scenario(
        duration_h=2 * HOURS_PER_YEAR,
        parameters=_course(GfrCourse.riggs_2012()),
        schedule=(
            SetParameter("supplement_mg_mmol_h", 0.5, at_h=720.5),
            Dose("mg_gut", 10.0, start_h=100.25, every_h=24.0, count=20),
            Window("thiazide_inhibition", 0.3, start_h=5000.25, duration_h=3000.0),
            SetParameter("binder_pi_capacity_mmol_h", 0.2, at_h=900.5),
            Window("calcimimetic_ca_equivalent_mmol_l", 0.5, start_h=7000.25, duration_h=2000.0),
        ),
    )
    times = np.append(0.0, np.linspace(1.0, 2 * HOURS_PER_YEAR - 1.0, 40))
    native = simulate(MODEL, scenario, save_at=times)
    runner = load_roadrunner(export_sbml(MODEL, scenario))
    peer = run_roadrunner(runner, times, MODEL.species_names)
    for i, name in enumerate(MODEL.species_names):
        np.testing.assert_allclose(peer[name], native.states[:, i, 0], rtol=5e-3)
        np.testing.assert_allclose(peer[name], native.states[:, i, 0], rtol=1e-5)


def test_mg_only_model_is_the_mg_module_with_ca_and_hormones_held() -> None:
    mg_only = MG_ONLY
    p = mg_only.parameter_array()
    solved = steady_state(mg_only, p)
    rules = dict(
        zip(
            mg_only.model.rule_names,
            mg_only.reported_rules(0.0, solved.states, p)[:, 0],
            strict=False,
        )
    )
    whole = _healthy()
    for name in ("plasma_mg_total_mmol_l", "fe_mg_percent", "urine_mg_mmol_d"):
        assert rules[name] == pytest.approx(whole[name], rel=1e-9)


def _steady(overrides: dict[str, float]) -> dict[str, float]:
    p = COMPILED.parameter_array(overrides)
    solved = steady_state(COMPILED, p)
    values = COMPILED.reported_rules(0.0, solved.states, p)[:, 0]
    return dict(zip(MODEL.rule_names, values, strict=True))


def test_drugs_move_their_targets_the_right_way() -> None:
    healthy = _healthy()
    binder = _steady({"binder_pi_capacity_mmol_h": 0.2})
    calcitriol = _steady({"calcitriol_dose_pmol_h": 20.0})
    calcimimetic = _steady({"calcimimetic_ca_equivalent_mmol_l": 0.5})
    assert binder["pi_absorbed_mmol_d"] < healthy["pi_absorbed_mmol_d"]
    assert calcitriol["plasma_calcitriol_pmol_l"] > healthy["plasma_calcitriol_pmol_l"]
    assert calcitriol["ca_absorbed_mmol_d"] > healthy["ca_absorbed_mmol_d"]
    assert calcitriol["plasma_pth_pmol_l"] < healthy["plasma_pth_pmol_l"]
    assert calcimimetic["plasma_pth_pmol_l"] < healthy["plasma_pth_pmol_l"]


def test_mg_is_a_partial_casr_agonist_that_lowers_pth() -> None:
    """S1-14: raising Mg lowers PTH, less per mmol/L than raising Ca would."""
    healthy = _healthy()
    mg = _steady({"supplement_mg_mmol_h": 1.0})
    assert mg["plasma_mg_ionized_mmol_l"] > healthy["plasma_mg_ionized_mmol_l"]
    assert mg["plasma_pth_pmol_l"] < healthy["plasma_pth_pmol_l"]
