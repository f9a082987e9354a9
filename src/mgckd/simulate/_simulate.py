"""`simulate`: one entry point joining a model, a scenario, a solver and save times."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mgckd.exceptions import ScenarioError, SimulationError
from mgckd.model import CompiledModel, Model, compile_model
from mgckd.model._schedule import Action, Occurrence, occurrences
from mgckd.simulate._result import SimulationResult, SolverStats, Status
from mgckd.simulate._rodas import Rodas4, solve_rodas4
from mgckd.simulate._scenario import Scenario
from mgckd.simulate._scipy import ScipySolver, Segment, advance_scipy
from mgckd.simulate._steady import SteadyStateSettings, steady_state

FloatArray = NDArray[np.float64]
Solver = Rodas4 | ScipySolver

DEFAULT_SAVE_POINTS = 101


def simulate(
    model: Model | CompiledModel,
    scenario: Scenario,
    *,
    solver: Solver = Rodas4(),  # noqa: B008  (frozen settings)
    save_at: ArrayLike | None = None,
    steady: SteadyStateSettings = SteadyStateSettings(),  # noqa: B008
    throw: bool = True,
) -> SimulationResult:
    """Simulate every patient of `scenario` with `model`.

    Parameters
    ----------
    model : a declarative model (compiled on first use, then cached) or a compiled one.
    scenario : duration, batch size, parameter overrides, schedule and initial states.
    solver : `Rodas4` (native, vectorized over patients) or `ScipySolver` (BDF/Radau).
    save_at : save times in hours within [0, duration]; default 101 evenly spaced, both ends
        included. Values at an event time are those after the event.
    steady : settings of the steady-state solve behind ``initial="steady_state"``.
    throw : raise `SimulationError` when any patient fails (default); with False, failed
        patients keep NaN after their failure and their status says why.

    Returns
    -------
    SimulationResult
    """
    compiled = model if isinstance(model, CompiledModel) else compile_model(model)
    scenario.check_against(compiled)
    n_patients = scenario.n_patients
    p = compiled.parameter_array(scenario.parameters, n_patients)
    times = _save_times(save_at, scenario.duration_h)
    y0, status = initial_states(compiled, scenario, p, steady)
    schedule = occurrences(scenario.schedule, scenario.duration_h)
    if isinstance(solver, Rodas4):
        states, ledgers, rules, stats = solve_rodas4(
            solver,
            compiled,
            y0,
            status,
            p,
            schedule=schedule,
            n_sources=len(scenario.schedule),
            duration_h=scenario.duration_h,
            save_times=times,
        )
        rules *= compiled.report_factors[None, :, None]
    else:
        states, ledgers, rules, stats = _solve_by_segments(
            solver, compiled, y0, status, p, schedule, scenario.duration_h, times
        )
    result = SimulationResult(
        compiled=compiled,
        time_h=times,
        states=states,
        ledgers=ledgers,
        doses=_doses(compiled, schedule, times, n_patients),
        rules=rules,
        status=status,
        stats=stats,
    )
    if throw and not result.succeeded.all():
        first = int(np.flatnonzero(~result.succeeded)[0])
        failed = int((~result.succeeded).sum())
        reason = Status(result.status[first])
        raise SimulationError(
            f"model {compiled.model.name!r}: {failed} of {n_patients} patient(s) failed; "
            f"patient {first}: {reason.name.lower()} — {reason.message} (use throw=False to "
            "keep the others)"
        )
    return result


def _doses(
    compiled: CompiledModel, schedule: list[Occurrence], times: FloatArray, n_patients: int
) -> FloatArray:
    """Cumulative amount of each element dosed by each save time, (n_save, n_elements, N)."""
    elements = compiled.model.elements
    doses = np.zeros((times.size, len(elements), n_patients))
    for event in schedule:
        if event.action is not Action.DOSE:
            continue
        element = compiled.model.get(event.target).element  # type: ignore[union-attr]
        if element is not None:
            doses[times >= event.time_h, elements.index(element)] += event.values
    return doses


def _solve_by_segments(  # noqa: PLR0917  (a whole simulation's inputs)
    solver: ScipySolver,
    compiled: CompiledModel,
    y0: FloatArray,
    status: NDArray[np.int8],
    p: FloatArray,
    schedule: list[Occurrence],
    duration_h: float,
    times: FloatArray,
) -> tuple[FloatArray, FloatArray, FloatArray, SolverStats]:
    """The SciPy path: the batch segment by segment between event times, events applied in
    Python."""
    model_ = compiled.model
    n_patients = y0.shape[1]
    n_save, n, m = times.size, compiled.n_species, len(model_.ledgers)
    p = p.copy()
    out = _Outputs(
        states=np.full((n_save, n, n_patients), np.nan),
        ledgers=np.full((n_save, m, n_patients), np.nan),
        rules=np.full((n_save, len(model_.rules), n_patients), np.nan),
    )
    state = Segment(y=y0, ledger=np.zeros((m, n_patients)), status=status)
    events: dict[float, list[Occurrence]] = {}
    for occurrence in schedule:
        events.setdefault(occurrence.time_h, []).append(occurrence)
    breaks = sorted(set(events) | {0.0, duration_h})
    held: dict[int, FloatArray] = {}
    for start, end in itertools.pairwise(breaks):
        for event in events.get(start, []):
            _apply(compiled, event, y=state.y, p=p, held=held)
        _record(compiled, state, p, t=start, at=np.flatnonzero(times == start), out=out)
        inside = (times > start) & (times < end)
        saved_y, saved_ledger = advance_scipy(
            solver, compiled, state, p, t0=start, t1=end, save_times=times[inside]
        )
        out.states[inside], out.ledgers[inside] = saved_y, saved_ledger
        with np.errstate(all="ignore"):  # failed patients hold NaN; their status says why
            for k in np.flatnonzero(inside):
                out.rules[k] = compiled.reported_rules(times[k], out.states[k], p)
    _record(compiled, state, p, t=duration_h, at=np.flatnonzero(times == duration_h), out=out)
    return out.states, out.ledgers, out.rules, SolverStats(0, 0, state.rhs_calls)


@dataclass(frozen=True, slots=True)
class _Outputs:
    """The arrays a simulation fills, (n_save, ·, n_patients) each."""

    states: FloatArray
    ledgers: FloatArray
    rules: FloatArray


def _save_times(save_at: ArrayLike | None, duration_h: float) -> FloatArray:
    if save_at is None:
        return np.linspace(0.0, duration_h, DEFAULT_SAVE_POINTS)
    times = np.array(save_at, dtype=float, ndmin=1)
    if times.ndim != 1 or times.size == 0 or not np.all(np.isfinite(times)):
        raise ScenarioError(f"save_at: give one or more finite times in hours, not {save_at!r}")
    if np.any(np.diff(times) <= 0):
        raise ScenarioError("save_at: times must be strictly increasing")
    if times[0] < 0 or times[-1] > duration_h:
        raise ScenarioError(
            f"save_at: times must lie within [0, {duration_h}] h (the scenario's duration), "
            f"not {times[0]}–{times[-1]} h"
        )
    return times


def initial_states(
    compiled: CompiledModel,
    scenario: Scenario,
    p: FloatArray,
    settings: SteadyStateSettings = SteadyStateSettings(),  # noqa: B008  (frozen settings)
) -> tuple[FloatArray, NDArray[np.int8]]:
    """Initial states and status: the steady state, with any given states put in."""
    given = {} if isinstance(scenario.initial, str) else scenario.initial
    if set(given) == set(compiled.species):
        y = np.zeros((compiled.n_species, scenario.n_patients))
        status = np.zeros(scenario.n_patients, dtype=np.int8)
    else:
        solved = steady_state(compiled, p, t_h=0.0, settings=settings)
        y, status = solved.states, solved.status
    if not isinstance(scenario.initial, str):
        for name, value in scenario.initial.items():
            y[compiled.species.index(name)] = np.asarray(value, dtype=float)
    return y, status


def _apply(
    compiled: CompiledModel,
    event: Occurrence,
    *,
    y: FloatArray,
    p: FloatArray,
    held: dict[int, FloatArray],
) -> None:
    """Apply one event occurrence to every patient."""
    if event.action is Action.DOSE:
        y[compiled.species.index(event.target)] += event.values
        return
    row = compiled.parameters.index(event.target)
    if event.action is Action.WINDOW_START:
        held[event.source] = p[row].copy()
    if event.action is Action.WINDOW_END:
        p[row] = held.pop(event.source)
    else:
        p[row] = event.values


def _record(
    compiled: CompiledModel,
    state: Segment,
    p: FloatArray,
    *,
    t: float,
    at: NDArray[np.intp],
    out: _Outputs,
) -> None:
    """Save the current states (NaN for failed patients) at the save indices `at`."""
    if at.size == 0:
        return
    ok = state.status == Status.SUCCESS
    y = np.where(ok, state.y, np.nan)
    out.states[at] = y
    out.ledgers[at] = np.where(ok, state.ledger, np.nan)
    with np.errstate(all="ignore"):  # failed patients hold NaN; their status says why
        out.rules[at] = compiled.reported_rules(t, y, p)
