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

from mgckd.model import CompiledModel
from mgckd.model._schedule import Action, Occurrence
from mgckd.simulate import _rodas_kernel as kernel
from mgckd.simulate._result import SolverStats

FloatArray = NDArray[np.float64]

MIN_PATIENTS_PER_THREAD = 8  # below this, a thread costs more than it saves


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
    """

    rtol: float = 1e-6
    atol: float = 1e-9
    max_steps: int = 200_000
    max_step_h: float = np.inf
    min_step_h: float = 1e-10


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
    breaks = np.array(sorted({o.time_h for o in schedule} | {0.0, duration_h}))
    segment = {t: k for k, t in enumerate(breaks.tolist())}
    events = np.array(
        [[segment[o.time_h], int(o.action), _row(compiled, o), o.source] for o in schedule],
        dtype=np.int64,
    ).reshape(-1, 4)
    values = np.array(
        [np.broadcast_to(o.values, (n_patients,)) for o in schedule], dtype=np.float64
    ).reshape(-1, n_patients)
    y, ledger = y0.copy(), np.zeros((m, n_patients))
    saved = [np.full((save_times.size, rows, n_patients), np.nan) for rows in (n, m, n_rules)]
    steps = np.zeros(n_patients, dtype=np.int64)
    counts = np.zeros((n_patients, 3), dtype=np.int64)
    functions = compiled.kernel
    settings = np.array(
        [solver.rtol, solver.atol, solver.max_steps, solver.max_step_h, solver.min_step_h]
    )
    saves = np.ascontiguousarray(save_times, dtype=np.float64)

    def run(patients: slice) -> None:
        kernel.simulate_batch(  # type: ignore[call-arg]  # numba's stub: no arguments
            functions.rates_into,
            functions.linearize_into,
            functions.rules_into,
            y[:, patients],
            ledger[:, patients],
            status[patients],
            steps[patients],
            p[:, patients],
            breaks,
            events,
            values[:, patients],
            n_sources,
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
