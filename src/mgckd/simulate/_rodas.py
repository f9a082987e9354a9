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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache

import numpy as np
from numpy.typing import NDArray

from mgckd.model import CompiledModel
from mgckd.simulate import _rodas_kernel as kernel

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


@dataclass(slots=True)
class Segment:
    """Mutable working state of one integration from `t0` to `t1` (all patients start at t0)."""

    y: FloatArray  # (n, N) species
    ledger: FloatArray  # (m, N) cumulative ledgers
    h: FloatArray  # (N,) next step size per patient, NaN when unknown
    status: NDArray[np.int8]  # (N,)
    steps: NDArray[np.int64]  # (N,) steps taken so far (accepted + rejected)
    accepted: int = 0
    rejected: int = 0
    rhs_calls: int = 0  # right-hand-side evaluations, summed over patients


def advance(
    solver: Rodas4,
    compiled: CompiledModel,
    state: Segment,
    p: FloatArray,
    *,
    t0: float,
    t1: float,
    save_times: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """Integrate every running patient from `t0` to `t1`, stopping exactly at `save_times`
    (strictly inside the interval). Returns species and ledgers at the save times,
    (n_save, n, N) and (n_save, m, N); NaN for patients that failed before a save time."""
    n, n_patients = state.y.shape
    m = state.ledger.shape[0]
    saved_y = np.full((save_times.size, n, n_patients), np.nan)
    saved_ledger = np.full((save_times.size, m, n_patients), np.nan)
    counts = np.zeros((n_patients, 3), dtype=np.int64)
    functions = compiled.kernel
    stops = np.append(save_times, t1).astype(np.float64)
    settings = np.array(
        [solver.rtol, solver.atol, solver.max_steps, solver.max_step_h, solver.min_step_h]
    )

    def run(patients: slice) -> None:
        kernel.advance_batch(
            functions.rates_into,
            functions.linearize_into,
            state.y[:, patients],
            state.ledger[:, patients],
            state.h[patients],
            state.status[patients],
            state.steps[patients],
            p[:, patients],
            float(t0),
            stops,
            saved_y[:, :, patients],
            saved_ledger[:, :, patients],
            settings,
            counts[patients],
        )

    slices = _slices(n_patients)
    if len(slices) == 1:
        run(slices[0])
    else:
        list(_threads().map(run, slices))  # the kernel releases the GIL
    accepted, rejected, rhs_calls = counts.sum(axis=0)
    state.accepted += int(accepted)
    state.rejected += int(rejected)
    state.rhs_calls += int(rhs_calls)
    return saved_y, saved_ledger


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
