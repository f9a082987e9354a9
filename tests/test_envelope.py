"""Envelope following (`Rodas4(envelope_rtol=...)`): runs of identical cycles are found in the
schedule, cycles are skipped by extrapolation within the tolerance, saves in skipped cycles
come from the landing cycle, and mass balance holds."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from mgckd.dialysis import Prescription, dialysis_scenario, hemodialysis, periodic_steady_state
from mgckd.exceptions import ScenarioError
from mgckd.model import compile_model
from mgckd.model._schedule import Action, Occurrence, occurrences
from mgckd.physiology import magnesium_model
from mgckd.simulate import Dose, Rodas4, SimulationResult, simulate
from mgckd.simulate._rodas import encode_schedule, periodic_runs

WEEK_H = 168.0
WEEKS = 26
SEGMENTS_PER_WEEK = 6  # three sessions, each a start and an end
REFERENCE = Rodas4(rtol=1e-9, atol=1e-12)


def _case(start_on: tuple[float, ...]):  # type: ignore[no-untyped-def]
    """Three patients on dialysate Mg 0.25, 0.5 and 1.0 mmol/L for half a year, from the long
    run of the dialysate levels `start_on`."""
    model = magnesium_model()
    levels = (0.25, 0.5, 1.0)
    start = periodic_steady_state(
        hemodialysis(model, [Prescription(dialysate_mg_mmol_l=x) for x in start_on])
    )
    hd = hemodialysis(model, [Prescription(dialysate_mg_mmol_l=x) for x in levels])
    scenario, _ = dialysis_scenario(hd, duration_h=WEEKS * WEEK_H, initial=start.states)
    return compile_model(hd.model), scenario


@pytest.fixture(scope="module")
def own_cycle():  # type: ignore[no-untyped-def]
    """Each patient from the long run of their own dialysate: the cycles barely change."""
    return _case((0.25, 0.5, 1.0))


@pytest.fixture(scope="module")
def switched_dialysate():  # type: ignore[no-untyped-def]
    """Every patient from the long run on 0.5 mmol/L, switched at time 0: a transient of
    months (the slow tissue pools) for two of them."""
    return _case((0.5, 0.5, 0.5))


def _run(case, solver: Rodas4, save_at: np.ndarray) -> SimulationResult:  # type: ignore[no-untyped-def]
    compiled, scenario = case
    return simulate(compiled, scenario, solver=solver, save_at=save_at)


def _runs(case) -> np.ndarray:  # type: ignore[no-untyped-def]
    compiled, scenario = case
    schedule = occurrences(scenario.schedule, scenario.duration_h)
    return periodic_runs(
        *encode_schedule(compiled, schedule, scenario.duration_h, scenario.n_patients)
    )


def test_thrice_weekly_sessions_are_one_run_of_weekly_cycles(switched_dialysate) -> None:  # type: ignore[no-untyped-def]
    runs = _runs(switched_dialysate)
    assert runs.shape == (1, 3)
    _, cycles, per_cycle = runs[0]
    assert per_cycle == SEGMENTS_PER_WEEK
    assert cycles >= WEEKS - 1  # the first session starts at time 0: a cycle starts after it


def test_a_missed_session_splits_the_run() -> None:
    hd = hemodialysis(magnesium_model(), Prescription())
    scenario, _ = dialysis_scenario(
        hd, duration_h=WEEKS * WEEK_H, missed_sessions=[40], initial=np.ones((8, 1))
    )
    compiled = compile_model(hd.model)
    schedule = occurrences(scenario.schedule, scenario.duration_h)
    runs = periodic_runs(*encode_schedule(compiled, schedule, scenario.duration_h, 1))
    assert len(runs) == 2
    missed_week_start = runs[0, 0] + runs[0, 1] * runs[0, 2]
    assert runs[1, 0] > missed_week_start  # the week of the missed session is stepped through


def test_a_daily_dose_is_a_run_of_one_segment_cycles() -> None:
    compiled = compile_model(magnesium_model())
    schedule = occurrences((Dose("mg_gut", 5.0, start_h=8.0, every_h=24.0, count=60),), 1440.0)
    runs = periodic_runs(*encode_schedule(compiled, schedule, 1440.0, 2))
    assert runs.tolist() == [[1, 59, 1]]  # the dose days; the last day ends the scenario


def test_no_events_no_runs() -> None:
    compiled = compile_model(magnesium_model())
    assert periodic_runs(*encode_schedule(compiled, [], 100.0, 1)).shape == (0, 3)


def test_on_a_settled_cycle_the_envelope_skips_most_cycles(own_cycle) -> None:  # type: ignore[no-untyped-def]
    save_at = np.array([0.0, 10 * WEEK_H, WEEKS * WEEK_H])
    reference = _run(own_cycle, REFERENCE, save_at)
    plain = _run(own_cycle, Rodas4(), save_at)
    envelope = _run(own_cycle, Rodas4(envelope_rtol=1e-4), save_at)
    assert np.nanmax(np.abs(envelope.states / reference.states - 1.0)) < 1e-4
    assert envelope.stats.accepted_steps < plain.stats.accepted_steps / 4


def test_through_a_transient_the_envelope_keeps_its_tolerance(switched_dialysate) -> None:  # type: ignore[no-untyped-def]
    save_at = np.array([0.0, 10 * WEEK_H, WEEKS * WEEK_H])
    reference = _run(switched_dialysate, REFERENCE, save_at)
    envelope = _run(switched_dialysate, Rodas4(envelope_rtol=1e-4), save_at)
    worst = np.nanmax(np.abs(envelope.states / reference.states - 1.0))
    assert worst < 1e-3
    loose = _run(switched_dialysate, Rodas4(envelope_rtol=0.5), save_at)
    assert np.nanmax(np.abs(loose.states / reference.states - 1.0)) > 10 * worst  # it bites


def test_the_envelope_keeps_mass_balance(switched_dialysate) -> None:  # type: ignore[no-untyped-def]
    save_at = np.linspace(0.0, WEEKS * WEEK_H, 4)
    result = _run(switched_dialysate, Rodas4(envelope_rtol=1e-3), save_at)
    assert np.abs(result.mass_balance_error("Mg")).max() < 1e-9


@pytest.mark.parametrize(("case", "within"), [("own_cycle", 1e-4), ("switched_dialysate", 1e-3)])
def test_saves_in_jumped_cycles_come_from_the_landing_cycle(
    case: str, within: float, request: pytest.FixtureRequest
) -> None:
    """Two saves a week at different places in the cycle: the jumped ones are taken from the
    landing cycle moved back along the envelope, within the tolerance and mass-balanced."""
    cycle = request.getfixturevalue(case)
    save_at = np.append(0.0, np.arange(30.0, WEEKS * WEEK_H, WEEK_H / 2))
    reference = _run(cycle, REFERENCE, save_at)
    plain = _run(cycle, Rodas4(), save_at)
    envelope = _run(cycle, Rodas4(envelope_rtol=1e-4), save_at)
    assert np.nanmax(np.abs(envelope.states / reference.states - 1.0)) < within
    assert np.abs(envelope.mass_balance_error("Mg")).max() < 1e-9
    assert envelope.stats.accepted_steps < plain.stats.accepted_steps


def test_envelope_tolerance_is_checked() -> None:
    with pytest.raises(ScenarioError, match="envelope_rtol"):
        Rodas4(envelope_rtol=0.0)


def test_a_run_needs_every_patient_to_repeat() -> None:
    """Cycles are identical only when every patient's values repeat (the kernel's runs are
    shared by the batch): a second patient whose daily dose grows leaves no run."""
    compiled = compile_model(magnesium_model())
    schedule = [
        Occurrence(8.0 + 24.0 * k, Action.DOSE, "mg_gut", np.array([5.0, 5.0 + k]), 0)
        for k in range(20)
    ]
    assert periodic_runs(*encode_schedule(compiled, schedule, 480.0, 2)).shape == (0, 3)
    schedule = [replace(o, values=np.array([5.0, 6.0])) for o in schedule]
    assert periodic_runs(*encode_schedule(compiled, schedule, 480.0, 2)).shape == (1, 3)
