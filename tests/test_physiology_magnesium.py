"""The whole-body Mg model (`mgckd.physiology.magnesium_model`): units, the healthy steady state,
its hold, mass balance, the gut's absorption curve, CKD behaviour and the SBML cross-check.

Healthy ranges (research notes physiology-models.md §2a): total Mg 0.7–1.0 mmol/L, ionized
0.45–0.60, FEMg 1–5 %, urinary Mg 3–5 mmol/d, body Mg about 1000 mmol, TAL 60–70 % of the
filtered load, 30–50 % of dietary Mg absorbed. Plasma Mg, urine Mg and the absorbed fraction are
in range by construction (the kidney's and gut's constants are derived from that reference
state, docs/physiology.md); the tests guard the derivation.
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
from mgckd.physiology import GfrCourse, magnesium_model
from mgckd.simulate import Scenario, export_sbml, simulate, steady_state

HOURS_PER_YEAR = quantity(1.0, "year").to("h").magnitude
MODEL = magnesium_model()
COMPILED = compile_model(MODEL)
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
    assert 0.60 <= h["tal_reabsorbed_fraction_reference"] <= 0.70
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
    p = COMPILED.parameter_array({"diet_mg_mmol_h": rate})
    solved = steady_state(COMPILED, p)
    absorbed = COMPILED.fluxes(0.0, solved.states, p)[MODEL.flux_names.index("mg_absorption"), 0]
    assert 0.0 < absorbed / rate <= 1.0


def test_absorbed_fraction_falls_from_fine_1991_low_to_paracellular_limit() -> None:
    intakes = quantity(np.array([1e-4, 12.0, 1e6]), "mmol/d").to("mmol/h").magnitude
    p = COMPILED.parameter_array({"diet_mg_mmol_h": intakes}, 3)
    solved = steady_state(COMPILED, p)
    absorbed = COMPILED.fluxes(0.0, solved.states, p)[MODEL.flux_names.index("mg_absorption")]
    fraction = absorbed / intakes
    assert fraction[0] == pytest.approx(0.65, rel=1e-3)
    assert fraction[1] == pytest.approx(0.40, rel=1e-9)
    assert fraction[2] == pytest.approx(0.07, rel=1e-2)


def test_femg_rises_and_mg_rises_as_gfr_falls() -> None:
    gfr = np.array([120.0, 60.0, 30.0, 15.0])
    l_h = quantity(gfr, "mL/min").to("L/h").magnitude
    p = COMPILED.parameter_array({"gfr_start_l_h": l_h, "gfr_floor_l_h": l_h}, 4)
    solved = steady_state(COMPILED, p)
    rules = COMPILED.reported_rules(0.0, solved.states, p)
    fe = rules[MODEL.rule_names.index("fe_mg_percent")]
    mg = rules[MODEL.rule_names.index("plasma_mg_total_mmol_l")]
    assert np.all(np.diff(fe) > 0)
    assert np.all(np.diff(mg) > 0)
    assert fe[-1] > 15.0


DRAWS = st.fixed_dictionaries(
    {
        "start": st.floats(20.0, 120.0),
        "rate": st.floats(0.0, 1.0),
        "supplement": st.floats(0.0, 2.0),
        "dose": st.floats(0.0, 30.0),
        "loop": st.floats(0.0, 0.9),
        "injury": st.floats(0.0, 0.9),
    }
)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(draw=DRAWS)
def test_mg_mass_balance_closes_over_random_scenarios(draw: dict[str, float]) -> None:
    course = GfrCourse(draw["start"], draw["start"] / 3, draw["rate"])
    scenario = Scenario(
        duration_h=2 * HOURS_PER_YEAR,
        n_patients=2,
        parameters={**_course(course), "tubular_injury": [0.0, draw["injury"]]},
        schedule=(
            SetParameter("supplement_mg_mmol_h", draw["supplement"], at_h=100.0),
            Dose("mg_gut", [draw["dose"], 0.0], start_h=10.0, every_h=500.0, count=5),
            Window("loop_diuretic_inhibition", draw["loop"], start_h=3000.0, duration_h=2000.0),
        ),
    )
    result = simulate(MODEL, scenario, save_at=np.linspace(0.0, 2 * HOURS_PER_YEAR, 9))
    assert np.abs(result.mass_balance_error("Mg")).max() < 1e-6


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
        ),
    )
    times = np.append(0.0, np.linspace(1.0, 2 * HOURS_PER_YEAR - 1.0, 40))
    native = simulate(MODEL, scenario, save_at=times)
    runner = load_roadrunner(export_sbml(MODEL, scenario))
    peer = run_roadrunner(runner, times, MODEL.species_names)
    for i, name in enumerate(MODEL.species_names):
        np.testing.assert_allclose(peer[name], native.states[:, i, 0], rtol=5e-3)
        np.testing.assert_allclose(peer[name], native.states[:, i, 0], rtol=1e-5)
