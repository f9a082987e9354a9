"""Rodas4 for one patient at a time, compiled by numba; slices of a batch run in threads.

Each patient advances with its own step size and error control, exactly as Hairer's RODAS
(METH = 1): six stages, one LU factorisation of (I/(γh) − J) per step, the embedded
third-order solution for the error estimate. Ledgers (the cumulative boundary fluxes) are
integrated with the same stages, so mass balance holds to round-off. The model enters as two
compiled functions (`CompiledModel.kernel`) as function pointers, so this file is compiled once
for every model (and cached on disk by numba).

Coefficients: Hairer & Wanner, Solving Ordinary Differential Equations II, 2nd ed. (1996),
section IV.7, as in Hairer's RODAS code (``rodas.f``, METH = 1).
"""

from __future__ import annotations

import math
from typing import Any

import numba
import numpy as np
from numba import types

from mgckd.model._kernel import LINEARIZE_SIGNATURE, RATES_SIGNATURE

GAMMA = 0.25
STAGE_TIME = np.array([0.0, 0.386, 0.21, 0.63, 1.0, 1.0])  # fractions of h
TIME_DERIVATIVE_WEIGHT = np.array([0.25, -0.1043, 0.1035, -0.0362, 0.0, 0.0])
STAGE_WEIGHT = np.array(  # a_ij: stage i's state is y + Σ_j a_ij u_j (rows 1–4)
    [
        [0.0, 0.0, 0.0, 0.0, 0.0],
        [1.544, 0.0, 0.0, 0.0, 0.0],
        [0.9466785280815826, 0.2557011698983284, 0.0, 0.0, 0.0],
        [3.314825187068521, 2.896124015972201, 0.9986419139977817, 0.0, 0.0],
        [1.221224509226641, 6.019134481288629, 12.53708332932087, -0.6878860361058950, 0.0],
    ]
)
COUPLING = np.array(  # c_ij: stage i's right-hand side gains Σ_j c_ij u_j / h
    [
        [0.0, 0.0, 0.0, 0.0, 0.0],
        [-5.668800000000000, 0.0, 0.0, 0.0, 0.0],
        [-2.430093356833875, -0.2063599157091915, 0.0, 0.0, 0.0],
        [-0.1073529058151375, -9.594562251023355, -20.47028614809616, 0.0, 0.0],
        [7.496443313967647, -10.24680431464352, -33.99990352819905, 11.70890893206160, 0.0],
        [
            8.083246795921522,
            -7.981132988064893,
            -31.52159432874371,
            16.31930543123136,
            -6.058818238834054,
        ],
    ]
)
SAFETY = 0.9
GROW_MAX = 6.0
SHRINK_MIN = 0.2
ORDER_EXPONENT = 0.25  # 1 / (embedded order + 1)
FIRST_STEP_FRACTION = 0.01
N_STAGES = 6

# status codes (`mgckd.simulate.Status`) and counters
SUCCESS, MAX_STEPS, STEP_SIZE_TOO_SMALL, NONFINITE = 0, 1, 2, 3
ACCEPTED, REJECTED, RHS_CALLS = 0, 1, 2
# rows of the settings array (`settings_array`)
RTOL, ATOL, MAX_STEPS_SETTING, MAX_STEP_H, MIN_STEP_H = 0, 1, 2, 3, 4

_jit = numba.njit(cache=True, error_model="numpy", nogil=True)


@_jit
def _lu_factor(a: Any, pivots: Any) -> bool:
    """LU-factorise the square matrix `a` in place with partial pivoting; False if singular."""
    n = a.shape[0]
    for k in range(n):
        best = k
        for i in range(k + 1, n):
            if abs(a[i, k]) > abs(a[best, k]):
                best = i
        pivots[k] = best
        if a[best, k] == 0.0 or not math.isfinite(a[best, k]):
            return False
        if best != k:
            for j in range(n):
                a[k, j], a[best, j] = a[best, j], a[k, j]
        for i in range(k + 1, n):
            a[i, k] /= a[k, k]
            factor = a[i, k]
            if factor != 0.0:
                for j in range(k + 1, n):
                    a[i, j] -= factor * a[k, j]
    return True


@_jit
def _lu_solve(lu: Any, pivots: Any, b: Any) -> None:
    """Solve lu·x = b in place of b (lu and pivots from `_lu_factor`)."""
    n = lu.shape[0]
    for k in range(n):
        j = pivots[k]
        if j != k:
            b[k], b[j] = b[j], b[k]
    for i in range(n):
        for j in range(i):
            b[i] -= lu[i, j] * b[j]
    for i in range(n - 1, -1, -1):
        for j in range(i + 1, n):
            b[i] -= lu[i, j] * b[j]
        b[i] /= lu[i, i]


@_jit
def _first_step(  # noqa: PLR0917  (numba: positional arguments only)
    rates_into: Any, t0: float, y: Any, p: Any, rates: Any, atol: float
) -> float:
    """A small fraction of the shortest relative turnover time |y|/|dy/dt| (Hairer's
    heuristic); inf when nothing moves."""
    rates_into(t0, y, p, rates)
    fastest = 0.0
    for k in range(y.size):
        speed = abs(rates[k]) / (abs(y[k]) + atol)
        if not math.isfinite(speed):
            return math.nan
        fastest = max(fastest, speed)
    return FIRST_STEP_FRACTION / fastest if fastest > 0.0 else math.inf


@_jit
def _integrate(  # noqa: PLR0912, PLR0915, PLR0917  (one Rosenbrock integration: long but linear)
    rates_into: Any,
    linearize_into: Any,
    y: Any,
    ledger: Any,
    p: Any,
    h: float,
    steps: int,
    t0: float,
    stops: Any,
    saved_y: Any,
    saved_ledger: Any,
    patient: int,
    settings: Any,
    counts: Any,
) -> tuple[int, float, int]:
    """Advance one patient from `t0` through every stop (the last is the end), saving at all
    stops but the last. Returns (status, next step size, steps so far)."""
    rtol, atol, max_steps = settings[RTOL], settings[ATOL], settings[MAX_STEPS_SETTING]
    max_step_h, min_step_h = settings[MAX_STEP_H], settings[MIN_STEP_H]
    n, m = y.size, ledger.size
    n_saves = stops.size - 1
    rates = np.empty(n + m)
    jac = np.zeros((n, n))
    ledger_jac = np.zeros((m, n))
    ft = np.zeros(n)
    bt = np.zeros(m)
    lu = np.empty((n, n))
    pivots = np.empty(n, dtype=np.intp)
    u = np.empty((N_STAGES, n))
    w = np.empty((N_STAGES, m))
    stage_y = np.empty(n)
    rhs = np.empty(n)
    y_new = np.empty(n)
    t = t0
    stop_index = 0
    no_increase = False
    if not math.isfinite(h):
        first = _first_step(rates_into, t0, y, p, rates, atol)
        counts[patient, RHS_CALLS] += 1
        if math.isnan(first):
            first = min_step_h
        h = min(max(first, min_step_h), stops[-1] - t0, max_step_h)
    while True:
        stop = stops[stop_index]
        step = min(h, max_step_h)
        hit = step >= stop - t
        if hit:
            step = stop - t
        gh = GAMMA * step
        rates_into(t, y, p, rates)
        linearize_into(t, y, p, jac, ledger_jac, ft, bt)
        finite_start = True
        for k in range(n):
            finite_start = finite_start and math.isfinite(rates[k])
        for i in range(n):
            for j in range(n):
                entry = jac[i, j] if math.isfinite(jac[i, j]) else 0.0
                lu[i, j] = -entry
            lu[i, i] += 1.0 / gh
        error = math.inf
        if _lu_factor(lu, pivots):
            for s in range(N_STAGES):
                if s > 0:
                    if s < N_STAGES - 1:
                        for k in range(n):
                            stage_y[k] = y[k]
                            for j in range(s):
                                stage_y[k] += STAGE_WEIGHT[s, j] * u[j, k]
                    else:
                        for k in range(n):
                            stage_y[k] += u[4, k]
                    rates_into(t + STAGE_TIME[s] * step, stage_y, p, rates)
                    counts[patient, RHS_CALLS] += 1
                for k in range(n):
                    coupling = 0.0
                    for j in range(s):
                        coupling += COUPLING[s, j] * u[j, k]
                    rhs[k] = rates[k] + coupling / step + TIME_DERIVATIVE_WEIGHT[s] * step * ft[k]
                _lu_solve(lu, pivots, rhs)
                for k in range(n):
                    u[s, k] = rhs[k]
                for r in range(m):
                    coupling = 0.0
                    for j in range(s):
                        coupling += COUPLING[s, j] * w[j, r]
                    value = (
                        rates[n + r] + coupling / step + TIME_DERIVATIVE_WEIGHT[s] * step * bt[r]
                    )
                    for k in range(n):
                        value += ledger_jac[r, k] * u[s, k]
                    w[s, r] = gh * value
            total = 0.0
            for k in range(n):
                y_new[k] = stage_y[k] + u[5, k]
                scale = atol + rtol * max(abs(y[k]), abs(y_new[k]))
                total += (u[5, k] / scale) ** 2
            error = math.sqrt(total / n)
            if not math.isfinite(error):
                error = math.inf
        counts[patient, RHS_CALLS] += 1
        steps += 1
        accept = error <= 1.0
        if error == 0.0:
            factor = GROW_MAX
        else:
            factor = min(max(SAFETY * error ** (-ORDER_EXPONENT), SHRINK_MIN), GROW_MAX)
        if accept and no_increase:
            factor = min(factor, 1.0)
        no_increase = not accept
        new_h = step * factor
        if accept:
            counts[patient, ACCEPTED] += 1
            t = stop if hit else t + step
            for k in range(n):
                y[k] = y_new[k]
            for r in range(m):
                ledger[r] += (
                    STAGE_WEIGHT[4, 0] * w[0, r]
                    + STAGE_WEIGHT[4, 1] * w[1, r]
                    + STAGE_WEIGHT[4, 2] * w[2, r]
                    + STAGE_WEIGHT[4, 3] * w[3, r]
                    + w[4, r]
                    + w[5, r]
                )
            h = max(new_h, h) if hit else new_h
            if hit:
                if stop_index == n_saves:
                    return SUCCESS, h, steps
                saved_y[stop_index, :, patient] = y
                saved_ledger[stop_index, :, patient] = ledger
                stop_index += 1
        else:
            counts[patient, REJECTED] += 1
            h = new_h
        if not finite_start:
            return NONFINITE, h, steps
        if new_h < min_step_h:
            return STEP_SIZE_TOO_SMALL, h, steps
        if steps >= max_steps:
            return MAX_STEPS, h, steps


_BATCH_SIGNATURE = types.void(
    types.FunctionType(RATES_SIGNATURE),
    types.FunctionType(LINEARIZE_SIGNATURE),
    types.float64[:, :],  # y (n, N)
    types.float64[:, :],  # ledger (m, N)
    types.float64[:],  # h
    types.int8[:],  # status
    types.int64[:],  # steps
    types.float64[:, :],  # p (n_parameters, N)
    types.float64,  # t0
    types.float64[::1],  # stops
    types.float64[:, :, :],  # saved_y (n_save, n, N)
    types.float64[:, :, :],  # saved_ledger (n_save, m, N)
    types.float64[::1],  # settings
    types.int64[:, :],  # counts (N, 3)
)


@numba.njit(_BATCH_SIGNATURE, cache=True, error_model="numpy", nogil=True)
def advance_batch(  # noqa: PLR0917  (numba: positional arguments only)
    rates_into: Any,
    linearize_into: Any,
    y: Any,
    ledger: Any,
    h: Any,
    status: Any,
    steps: Any,
    p: Any,
    t0: float,
    stops: Any,
    saved_y: Any,
    saved_ledger: Any,
    settings: Any,
    counts: Any,
) -> None:
    """Advance every patient whose status is success from `t0` through `stops` (the save times
    inside the interval, then its end); update y, ledger, h, status and steps in place
    (patients in the last axis; views of a larger batch are fine) and fill the save arrays.
    Releases the GIL, so threads can run slices of one batch side by side."""
    for patient in range(y.shape[1]):
        if status[patient] != SUCCESS:
            continue
        y_patient = y[:, patient].copy()
        ledger_patient = ledger[:, patient].copy()
        outcome, h_next, steps_taken = _integrate(
            rates_into,
            linearize_into,
            y_patient,
            ledger_patient,
            p[:, patient].copy(),
            h[patient],
            steps[patient],
            t0,
            stops,
            saved_y,
            saved_ledger,
            patient,
            settings,
            counts,
        )
        status[patient] = outcome
        h[patient] = h_next
        steps[patient] = steps_taken
        y[:, patient] = y_patient
        ledger[:, patient] = ledger_patient
