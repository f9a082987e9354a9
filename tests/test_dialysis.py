"""Hemodialysis (`mgckd.dialysis`): prescriptions, sessions, the dialyzer, mass balance, the
periodic steady state, scenario files and the SBML export. On the Mg model (fast); the whole-body
model gets the same code (tests/test_dialysis_whole_body.py)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mgckd.chemistry import PlasmaComposition, reference_plasma, speciate
from mgckd.dialysis import (
    DialysisPatients,
    Match,
    Prescription,
    Schedule,
    dialysis_scenario,
    dialyzable_fractions,
    hemodialysis,
    koa_from_clearance,
    michaels_clearance,
    periodic_steady_state,
    session_windows,
    sessions,
    simulate_dialysis,
    with_dialysis,
)
from mgckd.dialysis._model import reference_dialyzable_fraction
from mgckd.dialysis._periodic import averaged_steady_state
from mgckd.exceptions import ModelDefinitionError, ScenarioError
from mgckd.model import Compartment, Model, Param, Rule, Species, compile_model, sym
from mgckd.model._roadrunner import load_roadrunner, run_roadrunner
from mgckd.model._units import unit_problems
from mgckd.physiology import magnesium_model
from mgckd.simulate import export_sbml

WEEK_H = 168.0


@pytest.fixture(scope="module")
def model() -> Model:
    return with_dialysis(magnesium_model())


@pytest.fixture(scope="module")
def reference_week(model: Model):  # type: ignore[no-untyped-def]
    hd = hemodialysis(magnesium_model())
    steady = periodic_steady_state(hd)
    return hd, steady, simulate_dialysis(hd, duration_h=WEEK_H, initial=steady.states)


# --- prescriptions and schedules ----------------------------------------------------------------


def test_a_prescription_outside_its_range_is_refused_naming_field_value_and_range() -> None:
    with pytest.raises(ScenarioError) as error:
        Prescription(dialysate_mg_mmol_l=3.0)
    assert str(error.value) == (
        "dialysate_mg_mmol_l: 3 mmol/L is outside the accepted range 0.25-1 mmol/L"
    )
    with pytest.raises(ScenarioError, match="dialysate_ca_mmol_l: 2 mmol/L"):
        Prescription(dialysate_ca_mmol_l=2.0)
    with pytest.raises(ScenarioError, match="must exceed the blood flow"):
        Prescription(blood_flow_ml_min=400.0, dialysate_flow_ml_min=350.0)
    with pytest.raises(ScenarioError, match="use modality hdf"):
        Prescription(substitution_volume_l=20.0)
    with pytest.raises(ScenarioError, match=r"schedule\.duration_h: 30 h"):
        Schedule(duration_h=30.0)


def test_defaults_come_from_the_registry() -> None:
    default = Prescription()
    assert (default.dialysate_mg_mmol_l, default.blood_flow_ml_min) == (0.5, 300.0)
    assert Prescription(modality="hdf").substitution_volume_l == 21.0
    assert default.substitution_flow_l_h() == 0.0


def test_schedules_weekly_and_every_n_days() -> None:
    assert Schedule(weekdays=("fri", "mon", "wed")).starts_h == (0.0, 48.0, 96.0)
    assert Schedule().gaps_before_h() == (68.0, 44.0, 44.0)
    assert Schedule(every_days=2).period_h == 48.0
    with pytest.raises(ScenarioError, match="distinct days"):
        Schedule(weekdays=("mon", "mon"))
    with pytest.raises(ScenarioError, match="not both"):
        Schedule(weekdays=("mon",), every_days=2)


def test_missed_sessions_and_ultrafiltration() -> None:
    held = sessions(Schedule(), duration_h=2 * WEEK_H, missed=[4])
    assert [s.number for s in held] == [1, 2, 3, 5, 6]
    fifth = held[3]
    assert fifth.gap_h == 168.0 + 48.0 - 100.0  # since Friday's end of week 1
    assert fifth.ultrafiltration_factor == (fifth.gap_h + 4.0) / 4.0
    with pytest.raises(ScenarioError, match=r"missed_sessions: \[9\]"):
        sessions(Schedule(), duration_h=WEEK_H, missed=[9])


def test_a_year_of_thrice_weekly_sessions_is_six_windows() -> None:
    held = sessions(Schedule(), duration_h=52 * WEEK_H)
    windows = session_windows(held, period_h=WEEK_H, fluid_gain_l_h=0.05)
    assert len(held) == 156
    assert len(windows) == 6
    assert sum(w.count for w in windows) == 2 * 156


# --- the dialyzer -------------------------------------------------------------------------------


def test_michaels_formula_and_its_inverse() -> None:
    koa = koa_from_clearance(160.0, 187.0, 500.0)
    assert float(michaels_clearance(koa, 187.0, 500.0)) == pytest.approx(160.0)
    assert float(michaels_clearance(1e6, 187.0, 500.0)) == pytest.approx(187.0)
    assert float(michaels_clearance(1e-6, 187.0, 500.0)) == pytest.approx(1e-6, rel=1e-3)
    with pytest.raises(ModelDefinitionError):
        koa_from_clearance(200.0, 187.0, 500.0)


def test_with_dialysis_is_idempotent_dimensionally_sound_and_names_what_is_missing(
    model: Model,
) -> None:
    assert with_dialysis(model) is model
    assert unit_problems(model) == []
    lacking = Model(
        name="no_fraction",
        compartments=(Compartment("ecf", "ecf_volume_l"),),
        species=(Species("pi_ecf", "ecf", 15.0, element="P"),),
        parameters=(Param("ecf_volume_l", "L", value=14.0),),
        fluxes=(),
        rules=(Rule("plasma_pi_mmol_l", sym("pi_ecf") / sym("ecf_volume_l"), "mmol/L"),),
    )
    with pytest.raises(ModelDefinitionError, match="pi_ultrafilterable_fraction"):
        with_dialysis(lacking)
    no_total = replace(lacking, species=(Species("mg_ecf", "ecf", 12.0, element="Mg"),), rules=())
    with pytest.raises(ModelDefinitionError, match="plasma_mg_total_mmol_l"):
        with_dialysis(no_total)


def test_the_dialyzer_sees_ionized_and_small_complexed_mg_and_ca_not_bound() -> None:
    """Mg and Ca bound to albumin or to the lumped uremic anion stay in the blood: the
    dialyzable fraction is the ionized plus complexed one of the chemistry, per patient."""
    plasma = reference_plasma("hemodialysis")
    frame = speciate(plasma).to_frame()
    fractions = dialyzable_fractions(frame)
    for x in ("mg", "ca"):
        expected = frame[f"{x}_ionized_fraction"] + frame[f"{x}_complexed_fraction"]
        assert fractions[f"{x}_dialyzable_fraction"][0] == pytest.approx(expected.iloc[0])
        assert fractions[f"{x}_dialyzable_fraction"][0] < frame[f"{x}_ultrafilterable_fraction"][0]
    fields = plasma.to_dict()
    fields["uremic_anion_mmol_l"] = fields["uremic_anion_mmol_l"] * 2.0
    more_bound = PlasmaComposition.from_dict(fields, assumed=plasma.assumed)
    parameters = hemodialysis(
        magnesium_model(), patients=DialysisPatients(plasma=more_bound)
    ).parameters()
    assert parameters["mg_dialyzable_fraction"][0] < fractions["mg_dialyzable_fraction"][0]


def test_switched_off_with_no_excess_water_it_is_the_base_model(model: Model) -> None:
    base = compile_model(magnesium_model())
    compiled = compile_model(model)
    p_base = base.parameter_array(None, 1)
    y = base.guess(p_base) * 1.07
    p = compiled.parameter_array(None, 1)
    full = np.vstack([y, np.zeros((1, 1))])
    np.testing.assert_allclose(
        compiled.rhs(0.0, full, p)[:-1], base.rhs(0.0, y, p_base), rtol=1e-12, atol=1e-15
    )


def _dialyzer_flux(model: Model, mg_ecf: np.ndarray, ultrafiltration: float) -> np.ndarray:
    compiled = compile_model(model)
    n = mg_ecf.size
    p = compiled.parameter_array({"dialysis_on": 1.0, "ultrafiltration_l_h": ultrafiltration}, n)
    y = np.repeat(compiled.guess(p[:, :1]), n, axis=1)
    y[compiled.species.index("mg_ecf")] = mg_ecf
    flux: np.ndarray = compiled.fluxes(0.0, y, p)[compiled.model.flux_names.index("mg_dialyzer")]
    return flux


def test_the_flux_flips_where_dialyzable_mg_crosses_the_dialysate(model: Model) -> None:
    compiled = compile_model(model)
    p = dict(zip(compiled.parameters, compiled.default_parameters, strict=True))
    volume, fraction, bath = p["ecf_volume_l"], p["mg_dialyzable_fraction"], 0.5
    crossing = bath / fraction * volume  # mmol of ECF Mg at which f_D·C = C_d
    amounts = crossing * np.array([0.8, 0.99, 1.01, 1.2])
    flux = _dialyzer_flux(model, amounts, ultrafiltration=0.0)
    assert list(np.sign(flux)) == [-1.0, -1.0, 1.0, 1.0]  # gain below, removal above
    assert _dialyzer_flux(model, np.array([crossing]), 0.0)[0] == pytest.approx(0.0, abs=1e-12)
    # with ultrafiltration the water leaving at the bath concentration moves the flip lower
    clearance = compile_model(model).rules(
        0.0,
        np.repeat(compiled.guess(compiled.parameter_array(None, 1)), 1, axis=1),
        compiled.parameter_array({"ultrafiltration_l_h": 0.6}, 1),
    )[compiled.model.rule_names.index("dialyzer_mg_clearance_l_h"), 0]
    shifted = crossing * (1 - 0.6 / clearance)
    assert _dialyzer_flux(model, np.array([shifted]), 0.6)[0] == pytest.approx(0.0, abs=1e-9)


# --- simulation ---------------------------------------------------------------------------------


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    bath=st.sampled_from([0.25, 0.5, 1.0]),
    gfr=st.floats(0.0, 8.0),
    gain=st.floats(0.0, 3.0),
    missed=st.lists(st.integers(1, 6), max_size=2),
    modality=st.sampled_from(["hd", "hdf"]),
)
def test_mass_balance_holds_across_sessions(
    bath: float, gfr: float, gain: float, missed: list[int], modality: str
) -> None:
    hd = hemodialysis(
        magnesium_model(),
        Prescription(dialysate_mg_mmol_l=bath, modality=modality),  # type: ignore[arg-type]
        DialysisPatients(residual_gfr_ml_min=gfr, fluid_gain_l_d=gain),
    )
    compiled = compile_model(hd.model)
    start = averaged_steady_state(compiled, compiled.parameter_array(hd.parameters(), 1), hd)
    run = simulate_dialysis(hd, duration_h=2 * WEEK_H, missed_sessions=missed, initial=start)
    assert np.max(np.abs(run.simulation.mass_balance_error("Mg"))) < 1e-12
    frame = run.sessions_frame(chemistry=False)
    removed = frame["mg_removed_mmol"].sum()
    booked = -run.simulation.ledgers[
        -1,
        compiled.model.ledgers.index(
            next(lg for lg in compiled.model.ledgers if lg.flux == "mg_dialyzer")
        ),
        0,
    ]
    assert removed == pytest.approx(booked, rel=1e-9, abs=1e-9)
    water = run.simulation.species("ecf_excess_water_l")[:, 0]
    assert water.min() > -1e-9  # sessions return the patient to dry weight, not below


def test_the_periodic_steady_state_repeats_and_matches_a_target(reference_week) -> None:  # type: ignore[no-untyped-def]
    hd, steady, week = reference_week
    np.testing.assert_allclose(week.simulation.states[-1, :, 0], steady.states[:, 0], rtol=1e-6)
    target = 1.2
    matched = periodic_steady_state(
        hd, match=[Match("diet_mg_mmol_h", "plasma_mg_total_mmol_l", 2, target)]
    )
    overrides = {
        "diet_mg_mmol_h": matched.parameters[hd.model.parameter_names.index("diet_mg_mmol_h")]
    }
    run = simulate_dialysis(
        hemodialysis(magnesium_model(), overrides=overrides),
        duration_h=WEEK_H,
        initial=matched.states,
    )
    frame = run.sessions_frame(chemistry=False)
    assert frame.loc[frame["session"] == 2, "mg_total_pre_mmol_l"].item() == pytest.approx(target)


def test_sessions_lower_mg_buffered_by_the_pools_and_rebound_after(reference_week) -> None:  # type: ignore[no-untyped-def]
    _, _, week = reference_week
    frame = week.sessions_frame()
    first = frame.iloc[0]
    assert (
        first["mg_total_post_mmol_l"]
        < first["mg_total_rebound_mmol_l"]
        < first["mg_total_pre_mmol_l"]
    )
    ecf_drop = first["mg_total_pre_mmol_l"] * 14.0 + 0 - first["mg_total_post_mmol_l"] * 14.0
    assert first["mg_removed_mmol"] > ecf_drop  # the cells and bone gave Mg during the session
    assert first["mg_ionized_pre_mmol_l"] < first["mg_total_pre_mmol_l"]
    assert first["fluid_removed_l"] == pytest.approx(68.0 / 24.0, rel=1e-6)


def test_raising_the_dialysate_raises_steady_predialysis_mg() -> None:
    hd = hemodialysis(
        magnesium_model(), [Prescription(dialysate_mg_mmol_l=x) for x in (0.25, 0.5, 1.0)]
    )
    run = simulate_dialysis(hd, duration_h=WEEK_H)
    pre = run.sessions_frame(chemistry=False).query("session == 1")["mg_total_pre_mmol_l"]
    assert np.all(np.diff(pre.to_numpy()) > 0)


def test_batches_need_one_schedule() -> None:
    with pytest.raises(ScenarioError, match="share the schedule"):
        hemodialysis(
            magnesium_model(),
            [Prescription(), Prescription(schedule=Schedule(every_days=2))],
        )


def test_the_exported_sbml_matches_the_native_solver_within_half_a_percent(reference_week) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("roadrunner")
    pytest.importorskip("libsbml")
    hd, steady, _ = reference_week
    scenario, held = dialysis_scenario(
        hd, duration_h=2 * WEEK_H, missed_sessions=[2], initial=steady.states
    )
    times = np.array([s.start_h for s in held] + [s.end_h for s in held] + [2 * WEEK_H])
    times = np.unique(times)
    native = simulate_dialysis(
        hd, duration_h=2 * WEEK_H, missed_sessions=[2], initial=steady.states
    )
    sbml = export_sbml(hd.model, scenario)
    assert sbml.count("<event ") == 2 * len(
        session_windows(held, period_h=WEEK_H, fluid_gain_l_h=hd.fluid_gain_l_h())
    )
    peer = run_roadrunner(load_roadrunner(sbml, rtol=1e-9, atol=1e-11), times, ["mg_ecf"])
    ours = native.simulation.species("mg_ecf")[np.searchsorted(native.simulation.time_h, times), 0]
    np.testing.assert_allclose(peer["mg_ecf"], ours, rtol=5e-3)


def test_replacing_a_prescription_keeps_validation() -> None:
    with pytest.raises(ScenarioError, match="dialysate_mg_mmol_l"):
        replace(Prescription(), dialysate_mg_mmol_l=0.1)


# --- intradialytic Mg: the dialyzable fraction and the tissue exchange -------------------------


def _post_on_pre(overrides: dict[str, float]) -> tuple[float, float]:
    """Slope of post- on pre-dialysis Mg across two patients matched to 0.8 and 1.2 mmol/L
    (dialysate 0.5 mmol/L), and the pre-dialysis Mg at which post equals pre."""
    hd = hemodialysis(magnesium_model(), [Prescription()] * 2, overrides=overrides)
    target = np.array([0.8, 1.2])
    steady = periodic_steady_state(
        hd, match=[Match("diet_mg_mmol_h", "plasma_mg_total_mmol_l", 2, target)]
    )
    diet = steady.parameters[hd.model.parameter_names.index("diet_mg_mmol_h")]
    matched = hemodialysis(
        magnesium_model(), hd.prescriptions, overrides={**overrides, "diet_mg_mmol_h": diet}
    )
    frame = simulate_dialysis(matched, duration_h=WEEK_H, initial=steady.states).sessions_frame(
        chemistry=False
    )
    row = frame[frame["session"] == 2].sort_values("patient")
    pre, post = row["mg_total_pre_mmol_l"].to_numpy(), row["mg_total_post_mmol_l"].to_numpy()
    slope = float((post[1] - post[0]) / (pre[1] - pre[0]))
    return slope, float((post[0] - slope * pre[0]) / (1.0 - slope))


@pytest.mark.slow
def test_post_dialysis_mg_heads_for_the_dialysate_over_the_dialyzable_fraction() -> None:
    """A session pulls plasma Mg most of the way to the level whose dialyzable part equals the
    dialysate; the intracellular pools buffer a little. With the ²⁸Mg components read as pool
    half-times of 3 h and 24 h (the earlier reading) the pools hold plasma Mg up instead."""
    slope, crossover = _post_on_pre({})
    assert crossover == pytest.approx(0.5 / reference_dialyzable_fraction("Mg"), abs=0.03)
    assert 0.2 < slope < 0.5
    fast_pools, _ = _post_on_pre({"cell_fast_half_life_h": 3.0, "cell_slow_half_life_h": 24.0})
    assert fast_pools > 0.7
