"""Rodas4, a stiffly accurate L-stable Rosenbrock method of order 4(3), over a batch of patients.

Every patient has its own time, step size and error control, and is integrated by a compiled
per-patient kernel (`mgckd.simulate._rodas_kernel`, numba), with slices of a batch in threads on
all cores: a batch of one costs what one patient costs, a batch of many scales with the cores.
Rosenbrock methods need the exact Jacobian (the model's analytic one) and no Newton iterations,
and they keep linear invariants of the ODE — the mass of each element, with the ledgers — exact
up to round-off.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache

import numpy as np
from numpy.typing import NDArray

from mgckd.exceptions import ScenarioError
from mgckd.model import CompiledModel
from mgckd.model._schedule import Action, Occurrence
from mgckd.simulate import _rodas_kernel as kernel
from mgckd.simulate._result import SolverStats

FloatArray = NDArray[np.float64]

MIN_PATIENTS_PER_THREAD = 8  # below this, a thread costs more than it saves
MIN_CYCLES = 4  # a run of fewer identical cycles is integrated step by step
DURATION_DIGITS = 9  # segment lengths equal to 1e-9 h are equal (repeat times are sums)


@dataclass(frozen=True, slots=True)
class Rodas4:
    """Settings of the native Rosenbrock solver.

    Attributes
    ----------
    rtol : relative tolerance (per species, root-mean-square over species per patient).
    atol : absolute tolerance, in each species' amount unit.
    max_steps : accepted plus rejected steps allowed per patient over the whole simulation.
    max_step_h : the largest step, hours.
    min_step_h : steps below this (hours) fail the patient (`Status.STEP_SIZE_TOO_SMALL`).
    envelope_rtol : None (default): integrate every step of the schedule. A value: follow the
        envelope over runs of identical cycles of the schedule (`periodic_runs`: thrice-weekly
        sessions, a daily dose): integrate some cycles in full and extrapolate the state at
        cycle ends over the others, keeping the extrapolation error per jump within this
        relative tolerance; a save in a skipped cycle is taken from the integrated cycle the
        jump lands on.
    """

    rtol: float = 1e-6
    atol: float = 1e-9
    max_steps: int = 200_000
    max_step_h: float = np.inf
    min_step_h: float = 1e-10
    envelope_rtol: float | None = None

    def __post_init__(self) -> None:
        if self.envelope_rtol is not None and not 0.0 < self.envelope_rtol < 1.0:
            raise ScenarioError(
                f"envelope_rtol: a relative tolerance in (0, 1), or None to integrate every "
                f"step; not {self.envelope_rtol!r}"
            )


def solve_rodas4(
    solver: Rodas4,
    compiled: CompiledModel,
    y0: FloatArray,
    status: NDArray[np.int8],
    p: FloatArray,
    *,
    schedule: Sequence[Occurrence],
    n_sources: int,
    duration_h: float,
    save_times: FloatArray,
) -> tuple[FloatArray, FloatArray, FloatArray, SolverStats]:
    """Simulate every patient from 0 to `duration_h` with the `schedule`'s event occurrences
    (`n_sources` schedule entries), saving at `save_times` (values at an event time are those
    after it). Returns states, ledgers and rules (model units) at the save times,
    (n_save, ·, N) each with NaN after a patient's failure, and the work done; `status` is
    updated in place."""
    n, n_patients = y0.shape
    m, n_rules = len(compiled.model.ledgers), len(compiled.model.rules)
    breaks, events, values = encode_schedule(compiled, schedule, duration_h, n_patients)
    y, ledger = y0.copy(), np.zeros((m, n_patients))
    kernel_p = compiled.kernel_parameters(p)
    saved = [np.full((save_times.size, rows, n_patients), np.nan) for rows in (n, m, n_rules)]
    steps = np.zeros(n_patients, dtype=np.int64)
    counts = np.zeros((n_patients, 3), dtype=np.int64)
    functions = compiled.kernel
    settings = np.array(
        [
            solver.rtol,
            solver.atol,
            solver.max_steps,
            solver.max_step_h,
            solver.min_step_h,
            solver.envelope_rtol or 0.0,
        ]
    )
    runs = (
        periodic_runs(breaks, events, values)
        if solver.envelope_rtol
        else np.zeros((0, 3), dtype=np.int64)
    )
    saves = np.ascontiguousarray(save_times, dtype=np.float64)

    def run(patients: slice) -> None:
        kernel.simulate_batch(  # type: ignore[call-arg]  # numba's stub: no arguments
            functions.derive_into,
            functions.rates_into,
            functions.linearize_into,
            functions.rules_into,
            y[:, patients],
            ledger[:, patients],
            status[patients],
            steps[patients],
            kernel_p[:, patients],
            breaks,
            events,
            values[:, patients],
            n_sources,
            runs,
            saves,
            *(array[:, :, patients] for array in saved),
            settings,
            counts[patients],
        )

    slices = _slices(n_patients)
    if len(slices) == 1:
        run(slices[0])
    else:
        list(_threads().map(run, slices))  # the kernel releases the GIL
    accepted, rejected, rhs_calls = (int(c) for c in counts.sum(axis=0))
    return saved[0], saved[1], saved[2], SolverStats(accepted, rejected, rhs_calls)


def encode_schedule(
    compiled: CompiledModel, schedule: Sequence[Occurrence], duration_h: float, n_patients: int
) -> tuple[FloatArray, NDArray[np.int64], FloatArray]:
    """The schedule as the kernel reads it: segment boundaries (0 … `duration_h`), one row per
    occurrence (segment, action, target row, source entry) and its values per patient."""
    breaks = np.array(sorted({o.time_h for o in schedule} | {0.0, duration_h}))
    segment = {t: k for k, t in enumerate(breaks.tolist())}
    events = np.array(
        [[segment[o.time_h], int(o.action), _row(compiled, o), o.source] for o in schedule],
        dtype=np.int64,
    ).reshape(-1, 4)
    values = np.array(
        [np.broadcast_to(o.values, (n_patients,)) for o in schedule], dtype=np.float64
    ).reshape(-1, n_patients)
    return breaks, events, values


def periodic_runs(
    breaks: FloatArray, events: NDArray[np.int64], values: FloatArray
) -> NDArray[np.int64]:
    """Runs of at least `MIN_CYCLES` identical cycles of the schedule: (first segment, cycles,
    segments per cycle) per run.

    A segment is known by its length and its events (action, target, source, every patient's
    value); the cycle length (in segments) is the shortest shift under which the most segments
    repeat. A cycle may start only where no window is open, so that a cycle's windows close
    inside it.
    """
    n_segments = breaks.size - 1
    shifts = range(1, n_segments // MIN_CYCLES + 1)
    if not shifts:
        return np.zeros((0, 3), dtype=np.int64)
    keys: dict[tuple[object, ...], int] = {}
    ids = np.empty(n_segments, dtype=np.int64)
    open_windows = np.zeros(n_segments + 1, dtype=np.int64)
    bounds = np.searchsorted(events[:, 0], np.arange(n_segments + 1))  # events sorted by time
    for k in range(n_segments):
        rows = slice(bounds[k], bounds[k + 1])
        key = (
            round(float(breaks[k + 1] - breaks[k]), DURATION_DIGITS),
            events[rows, 1:].tobytes(),
            values[rows].tobytes(),
        )
        ids[k] = keys.setdefault(key, len(keys))
        actions = events[rows, 1]
        open_windows[k + 1] = (
            open_windows[k]
            + np.sum(actions == int(Action.WINDOW_START))
            - np.sum(actions == int(Action.WINDOW_END))
        )
    repeats = [int(np.sum(ids[shift:] == ids[:-shift])) for shift in shifts]
    per_cycle = shifts[int(np.argmax(repeats))]  # the shortest of the most repeating shifts
    found: list[tuple[int, int, int]] = []
    start = 0
    while start + MIN_CYCLES * per_cycle <= n_segments:
        cycles = 0
        pattern = ids[start : start + per_cycle]
        while (
            start + (cycles + 1) * per_cycle <= n_segments
            and open_windows[start + cycles * per_cycle] == 0
            and np.array_equal(
                ids[start + cycles * per_cycle : start + (cycles + 1) * per_cycle], pattern
            )
        ):
            cycles += 1
        if cycles >= MIN_CYCLES:
            found.append((start, cycles, per_cycle))
            start += cycles * per_cycle
        else:
            start += 1
    return np.array(found, dtype=np.int64).reshape(-1, 3)


def _row(compiled: CompiledModel, occurrence: Occurrence) -> int:
    """The species row a dose goes to, or the parameter row an event sets."""
    if occurrence.action is Action.DOSE:
        return compiled.species.index(occurrence.target)
    return compiled.parameters.index(occurrence.target)


def _slices(n_patients: int) -> list[slice]:
    """Contiguous slices of the batch, one per core (a single slice for small batches)."""
    workers = min(os.cpu_count() or 1, n_patients // MIN_PATIENTS_PER_THREAD)
    if workers <= 1:
        return [slice(0, n_patients)]
    bounds = np.linspace(0, n_patients, workers + 1).astype(int)
    return [slice(a, b) for a, b in itertools.pairwise(bounds)]


@cache
def _threads() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=os.cpu_count(), thread_name_prefix="mgckd-rodas4")
