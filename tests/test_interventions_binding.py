"""Phosphate binders in the model's gut (docs/physiology.md#interventions): the per-gram binding
reproduces Schiller 1989's fall in phosphate absorption per meal, whatever the daily dose's split,
and the calcium acetate/magnesium carbonate tablet carries the SmPC's Ca and Mg."""

from __future__ import annotations

import numpy as np
import pytest

from mgckd._pint import quantity
from mgckd.interventions import Drug, Intervention
from mgckd.model import compile_model
from mgckd.params import parameters
from mgckd.physiology import whole_body_model
from mgckd.simulate import steady_state

WHOLE = compile_model(whole_body_model())

SCHILLER_CALCIUM_ACETATE_MG = 4400.0
"""Schiller et al. 1989 (doi:10.1056/NEJM198904273201703): calcium acetate with one meal."""
SCHILLER_ABSORBED_PLACEBO_MMOL = 9.17
SCHILLER_ABSORBED_BINDER_MMOL = 3.81
"""Phosphorus absorbed from the meal (about 12 mmol) with placebo and with calcium acetate."""
OLD_CAPACITY_MMOL_PER_G = 5.36 / 4.4
"""The reading used until the fourth session: Schiller's bound phosphate per gram as a daily
binding capacity at the reference lumen."""
OSVAREN_CA_MG, OSVAREN_MG_MG = 110.0, 60.0
"""OsvaRen SmPC section 2: Ca and Mg per tablet (435 mg calcium acetate, 235 mg heavy MgCO3)."""
MG_G_MOL, CA_G_MOL = 24.305, 40.078
"""Standard atomic weights of Mg and Ca (IUPAC CIAAW)."""


def _absorbed_ratio(capacity_mmol_d: float) -> float:
    """Phosphate absorbed with a binder of this daily capacity over absorbed without, in the
    model's gut at the healthy reference steady state, (k_a + k_t)/(k_a + k_t + k_b): the
    absorption constant k_a before calcitriol responds (Schiller's balance was one meal)."""
    capacity = float(quantity(capacity_mmol_d, "mmol/d").to("mmol/h").magnitude)
    p = WHOLE.parameter_array({})
    rules = WHOLE.reported_rules(0.0, steady_state(WHOLE, p).states, p)[:, 0]
    names, parameter_names = WHOLE.model.rule_names, WHOLE.model.parameter_names
    transit = float(np.ravel(p[parameter_names.index("gut_transit_per_h")])[0])
    binding = capacity / rules[names.index("gut_reference_pi_mmol")]
    exits = rules[names.index("pi_absorption_per_h")] + transit
    return float(exits / (exits + binding))


def _per_meal_dose_capacity_mmol_d(drug: Drug, grams_per_meal: float) -> float:
    """Daily capacity of a binder taken with every meal, mmol/d."""
    meals = int(parameters()["meals_per_day"].to("1/d"))
    binder = Intervention(drug=drug, dose_mg=grams_per_meal * 1000.0, doses_per_day=meals)
    return binder.per_dose()["binder_pi_capacity_mmol_h"] * meals


def test_calcium_acetate_with_every_meal_lowers_absorption_as_schiller_measured() -> None:
    capacity = _per_meal_dose_capacity_mmol_d(
        Drug.CALCIUM_CARBONATE, SCHILLER_CALCIUM_ACETATE_MG / 1000.0
    )
    measured = SCHILLER_ABSORBED_BINDER_MMOL / SCHILLER_ABSORBED_PLACEBO_MMOL
    assert _absorbed_ratio(capacity) == pytest.approx(measured, rel=1e-3)
    # the earlier reading lowered absorption by a third where Schiller measured 58 %: the test
    # can fail
    grams_a_day = SCHILLER_CALCIUM_ACETATE_MG / 1000.0 * parameters()["meals_per_day"].to("1/d")
    old = _absorbed_ratio(grams_a_day * OLD_CAPACITY_MMOL_PER_G)
    assert 1.0 - old < 0.6 * (1.0 - measured)


def test_the_daily_dose_binds_the_same_however_it_is_split() -> None:
    once = Intervention(drug=Drug.SEVELAMER, dose_mg=4800).per_dose()
    six = Intervention(drug=Drug.SEVELAMER, dose_mg=800, doses_per_day=6).per_dose()
    assert once["binder_pi_capacity_mmol_h"] == pytest.approx(6 * six["binder_pi_capacity_mmol_h"])


def test_the_calmag_tablet_carries_the_smpc_calcium_and_magnesium() -> None:
    tablet = Intervention(drug=Drug.CALCIUM_ACETATE_MAGNESIUM_CARBONATE, dose_mg=435)
    dose = tablet.per_dose()
    mg_mmol = quantity(OSVAREN_MG_MG, "mg") / quantity(MG_G_MOL, "g/mol")
    ca_mmol = quantity(OSVAREN_CA_MG, "mg") / quantity(CA_G_MOL, "g/mol")
    assert tablet.mg_per_dose_mmol() == pytest.approx(mg_mmol.to("mmol").magnitude, rel=1e-3)
    assert dose["supplement_ca_mmol_h"] == pytest.approx(ca_mmol.to("mmol").magnitude, rel=3e-3)
    # its binding: the calcium acetate's (coefficient 1.0) here, the Mg carbonate's through the
    # Mg it carries (mg_salt_pi_binding_ratio, S0-11) in the model
    calcium = Intervention(drug=Drug.CALCIUM_CARBONATE, dose_mg=435).per_dose()
    assert dose["binder_pi_capacity_mmol_h"] == pytest.approx(calcium["binder_pi_capacity_mmol_h"])
