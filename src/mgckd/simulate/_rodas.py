"""Rodas4, a stiffly accurate L-stable Rosenbrock method of order 4(3), vectorized over patients.

Every patient has its own time and step size; all patients still running advance together, one
vectorized step per iteration, with their small dense linear systems solved as one batched
inverse (no loop over patients). Rosenbrock methods need the exact Jacobian (the model's
analytic one) and no Newton iterations, and they keep linear invariants of the ODE — the mass of
each element, with the ledgers — exact up to round-off.

Coefficients: Hairer & Wanner, Solving Ordinary Differential Equations II, 2nd ed. (1996),
section IV.7, as in Hairer's RODAS code (``rodas.f``, METH = 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from mgckd.model import CompiledModel
from mgckd.simulate._result import Status

FloatArray = NDArray[np.float64]

GAMMA = 0.25
_C = (0.0, 0.386, 0.21, 0.63, 1.0, 1.0)  # stage times (fractions of h)
_D = (0.25, -0.1043, 0.1035, -0.0362, 0.0, 0.0)  # time-derivative weights
_A = (
    (),
    (1.544,),
    (0.9466785280815826, 0.2557011698983284),
    (3.314825187068521, 2.896124015972201, 0.9986419139977817),
    (1.221224509226641, 6.019134481288629, 12.53708332932087, -0.6878860361058950),
)
_GAMMA_COUPLING = (
    (),
    (-5.668800000000000,),
    (-2.430093356833875, -0.2063599157091915),
    (-0.1073529058151375, -9.594562251023355, -20.47028614809616),
    (7.496443313967647, -10.24680431464352, -33.99990352819905, 11.70890893206160),
    (
        8.083246795921522,
        -7.981132988064893,
        -31.52159432874371,
        16.31930543123136,
        -6.058818238834054,
    ),
)
_SAFETY = 0.9
_GROW_MAX = 6.0
_SHRINK_MIN = 0.2
_ORDER_EXPONENT = 0.25  # 1 / (embedded order + 1)
_FIRST_STEP_FRACTION = 0.01


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
    rhs_calls: int = 0


def _solve(inverse: FloatArray, rhs: FloatArray) -> FloatArray:
    """Batched ``inverse @ rhs`` with patients in the last axis of rhs: (k,n,n),(n,k) → (n,k)."""
    out: FloatArray = np.einsum("kij,jk->ik", inverse, rhs)
    return out


def advance(  # noqa: PLR0915  (one Rosenbrock step is long but linear)
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
    stops = np.append(save_times, t1)
    saved_y = np.full((save_times.size, n, n_patients), np.nan)
    saved_ledger = np.full((save_times.size, m, n_patients), np.nan)
    t = np.full(n_patients, t0)
    stop_index = np.zeros(n_patients, dtype=np.intp)
    running = state.status == Status.SUCCESS
    identity = np.eye(n)
    no_increase = np.zeros(n_patients, dtype=bool)
    _first_steps(solver, compiled, state, p, t0=t0, t1=t1, running=running)
    while running.any():
        idx = np.flatnonzero(running)
        tt, yy, pp = t[idx], state.y[:, idx], p[:, idx]
        stop = stops[stop_index[idx]]
        hh = np.minimum(state.h[idx], solver.max_step_h)
        hit = hh >= stop - tt
        hh = np.where(hit, stop - tt, hh)
        gh = GAMMA * hh
        with np.errstate(all="ignore"):  # non-finite values are caught below, per patient
            rates0 = compiled.rates(tt, yy, pp)
            f0, b0 = rates0[:n], rates0[n:]
            jac = compiled.jacobian(tt, yy, pp)
            ledger_jac = compiled.ledger_jacobian(tt, yy, pp)
            if compiled.autonomous:
                ft = np.zeros_like(yy)
                bt = np.zeros((m, idx.size))
            else:
                ft = compiled.time_derivative(tt, yy, pp)
                bt = compiled.ledger_time_derivative(tt, yy, pp)
            jac = np.where(np.isfinite(jac), jac, 0.0)  # failing patients are caught by f0
            inverse = np.linalg.inv(identity / gh[:, None, None] - jac).astype(np.float64)
            u: list[FloatArray] = []
            w: list[FloatArray] = []  # ledger stages
            stage_y = yy
            for s in range(6):
                if s == 0:
                    f, b = f0, b0
                else:
                    if s < 5:
                        stage_y = yy + sum(a * uj for a, uj in zip(_A[s], u, strict=True))
                    else:
                        stage_y = stage_y + u[4]
                    rates = compiled.rates(tt + _C[s] * hh, stage_y, pp)
                    f, b = rates[:n], rates[n:]
                    state.rhs_calls += 1
                coupling = sum(
                    (c * uj for c, uj in zip(_GAMMA_COUPLING[s], u, strict=True)),
                    np.zeros_like(yy),
                )
                ledger_coupling = sum(
                    (c * wj for c, wj in zip(_GAMMA_COUPLING[s], w, strict=True)),
                    np.zeros((m, idx.size)),
                )
                rhs = f + coupling / hh + _D[s] * hh * ft
                us = _solve(inverse, rhs)
                ledger_rhs = b + ledger_coupling / hh + _D[s] * hh * bt
                ws = gh * (ledger_rhs + np.einsum("kij,jk->ik", ledger_jac, us))
                u.append(us)
                w.append(ws)
            y_new = stage_y + u[5]
            ledger_increment = sum(a * wj for a, wj in zip(_A[4], w[:4], strict=True)) + w[4] + w[5]
            scale = solver.atol + solver.rtol * np.maximum(np.abs(yy), np.abs(y_new))
            error = np.sqrt(np.mean((u[5] / scale) ** 2, axis=0))
        state.rhs_calls += 1
        finite = np.isfinite(y_new).all(axis=0) & np.isfinite(error)
        error = np.where(finite, error, np.inf)
        accept = error <= 1.0
        state.steps[idx] += 1
        state.accepted += int(accept.sum())
        state.rejected += int((~accept).sum())
        with np.errstate(divide="ignore"):
            factor = _SAFETY * error ** (-_ORDER_EXPONENT)
        factor = np.clip(np.nan_to_num(factor, posinf=_GROW_MAX), _SHRINK_MIN, _GROW_MAX)
        factor = np.where(accept & no_increase[idx], np.minimum(factor, 1.0), factor)
        no_increase[idx] = ~accept
        new_h = hh * factor
        # accepted: move on; a step that landed on its stop keeps its step size for the next
        take = idx[accept]
        t[take] = np.where(hit[accept], stop[accept], tt[accept] + hh[accept])
        state.y[:, take] = y_new[:, accept]
        state.ledger[:, take] += ledger_increment[:, accept]
        state.h[idx] = np.where(accept & hit, np.maximum(new_h, state.h[idx]), new_h)
        landed = take[hit[accept]]
        is_save = stop_index[landed] < save_times.size
        saving = landed[is_save]
        saved_y[stop_index[saving], :, saving] = state.y[:, saving].T
        saved_ledger[stop_index[saving], :, saving] = state.ledger[:, saving].T
        stop_index[landed] += 1
        running[landed[~is_save]] = False
        nonfinite = np.asarray(~np.isfinite(f0).all(axis=0), dtype=bool)
        _fail(state, solver, idx, new_h=new_h, nonfinite=nonfinite, running=running)
    return saved_y, saved_ledger


def _fail(
    state: Segment,
    solver: Rodas4,
    idx: NDArray[np.intp],
    *,
    new_h: FloatArray,
    nonfinite: NDArray[np.bool_],
    running: NDArray[np.bool_],
) -> None:
    """Mark patients whose rates are not finite, whose step size collapsed or who ran out of
    steps."""
    too_small = new_h < solver.min_step_h
    too_many = state.steps[idx] >= solver.max_steps
    for mask, status in (
        (nonfinite, Status.NONFINITE),
        (too_small, Status.STEP_SIZE_TOO_SMALL),
        (too_many, Status.MAX_STEPS),
    ):
        failed = idx[mask & running[idx]]
        state.status[failed] = status
        running[failed] = False


def _first_steps(
    solver: Rodas4,
    compiled: CompiledModel,
    state: Segment,
    p: FloatArray,
    *,
    t0: float,
    t1: float,
    running: NDArray[np.bool_],
) -> None:
    """A first step size for patients without one: a small fraction of the shortest relative
    turnover time |y|/|dy/dt| at the start (Hairer's heuristic), at most the whole interval."""
    unknown = np.flatnonzero(running & ~np.isfinite(state.h))
    if unknown.size == 0:
        return
    y = state.y[:, unknown]
    f = np.abs(compiled.rhs(t0, y, p[:, unknown]))
    state.rhs_calls += 1
    with np.errstate(divide="ignore", invalid="ignore"):
        fastest = np.max(f / (np.abs(y) + solver.atol), axis=0)
        first = np.where(fastest > 0, _FIRST_STEP_FRACTION / fastest, np.inf)
    state.h[unknown] = np.clip(
        np.nan_to_num(first, nan=solver.min_step_h),
        solver.min_step_h,
        min(t1 - t0, solver.max_step_h),
    )
