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

from mgckd.model._kernel import LINEARIZE_SIGNATURE, VECTOR_SIGNATURE

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

# status codes (`mgckd.simulate.Status`), event actions (`mgckd.model.Action`) and counters
SUCCESS, MAX_STEPS, STEP_SIZE_TOO_SMALL, NONFINITE = 0, 1, 2, 3
WINDOW_END, SET, WINDOW_START, DOSE = 0, 1, 2, 3
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
    save_offset: int,
    patient: int,
    settings: Any,
    counts: Any,
) -> tuple[int, float, int]:
    """Advance one patient from `t0` through every stop (the last is the end), saving at all
    stops but the last (save rows from `save_offset`). Returns (status, next step size, steps
    so far)."""
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
                saved_y[save_offset + stop_index, :, patient] = y
                saved_ledger[save_offset + stop_index, :, patient] = ledger
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


@_jit
def _apply(  # noqa: PLR0917  (numba: positional arguments only)
    action: int, target: int, source: int, value: float, y: Any, p: Any, held: Any
) -> None:
    """One event occurrence for one patient, as `mgckd.model.Action` defines it."""
    if action == DOSE:
        y[target] += value
    elif action == WINDOW_START:
        held[source] = p[target]
        p[target] = value
    elif action == WINDOW_END:
        p[target] = held[source]
    else:
        p[target] = value


@_jit
def _save(  # noqa: PLR0917  (numba: positional arguments only)
    rules_into: Any,
    t: float,
    y: Any,
    ledger: Any,
    p: Any,
    rules: Any,
    saved: tuple[Any, Any, Any],
    index: int,
    patient: int,
) -> None:
    """Save row `index`: the states, the ledgers and the rules computed from them."""
    saved_y, saved_ledger, saved_rules = saved
    saved_y[index, :, patient] = y
    saved_ledger[index, :, patient] = ledger
    rules_into(t, y, p, rules)
    saved_rules[index, :, patient] = rules


_BATCH_SIGNATURE = types.void(
    types.FunctionType(VECTOR_SIGNATURE),  # rates_into
    types.FunctionType(LINEARIZE_SIGNATURE),
    types.FunctionType(VECTOR_SIGNATURE),  # rules_into
    types.float64[:, :],  # y (n, N): initial states, final states on return
    types.float64[:, :],  # ledger (m, N)
    types.int8[:],  # status
    types.int64[:],  # steps
    types.float64[:, :],  # p (n_parameters, N): changed by the events
    types.float64[::1],  # breaks: segment boundaries, 0 … duration
    types.int64[:, ::1],  # events (n_events, 4): segment, action, target row, source entry
    types.float64[:, :],  # event_values (n_events, N)
    types.int64,  # n_sources: schedule entries (windows hold a value per entry)
    types.float64[::1],  # saves: save times, sorted, within [0, duration]
    types.float64[:, :, :],  # saved_y (n_save, n, N), NaN-filled
    types.float64[:, :, :],  # saved_ledger (n_save, m, N), NaN-filled
    types.float64[:, :, :],  # saved_rules (n_save, n_rules, N), NaN-filled
    types.float64[::1],  # settings
    types.int64[:, :],  # counts (N, 3)
)


@numba.njit(_BATCH_SIGNATURE, cache=True, error_model="numpy", nogil=True)
def simulate_batch(  # noqa: PLR0917  (the whole working state of a batch)
    rates_into: Any,
    linearize_into: Any,
    rules_into: Any,
    y: Any,
    ledger: Any,
    status: Any,
    steps: Any,
    p: Any,
    breaks: Any,
    events: Any,
    event_values: Any,
    n_sources: int,
    saves: Any,
    saved_y: Any,
    saved_ledger: Any,
    saved_rules: Any,
    settings: Any,
    counts: Any,
) -> None:
    """Simulate every patient whose status is success over all segments: at each segment's
    start its events, then the saves at that time (values after the events), then Rodas4 to
    the segment's end through the saves inside it; the saves at the end of the last segment
    come last. Patients are in the last axis (views of a larger batch are fine); a patient
    that fails keeps NaN from then on. Releases the GIL, so threads can run slices side by
    side."""
    n_save = saves.size
    n_rules = saved_rules.shape[1]
    saved = (saved_y, saved_ledger, saved_rules)
    for patient in range(y.shape[1]):
        if status[patient] != SUCCESS:
            continue
        y_patient = y[:, patient].copy()
        ledger_patient = ledger[:, patient].copy()
        p_patient = p[:, patient].copy()
        held = np.zeros(n_sources)
        rules = np.empty(n_rules)
        h = math.nan
        steps_taken = steps[patient]
        outcome = SUCCESS
        event = 0
        save = 0
        for segment in range(breaks.size - 1):
            start, end = breaks[segment], breaks[segment + 1]
            while event < events.shape[0] and events[event, 0] == segment:
                _apply(
                    events[event, 1],
                    events[event, 2],
                    events[event, 3],
                    event_values[event, patient],
                    y_patient,
                    p_patient,
                    held,
                )
                event += 1
            while save < n_save and saves[save] <= start:
                _save(
                    rules_into,
                    start,
                    y_patient,
                    ledger_patient,
                    p_patient,
                    rules,
                    saved,
                    save,
                    patient,
                )
                save += 1
            first = save
            while save < n_save and saves[save] < end:
                save += 1
            stops = np.empty(save - first + 1)
            stops[:-1] = saves[first:save]
            stops[-1] = end
            outcome, h, steps_taken = _integrate(
                rates_into,
                linearize_into,
                y_patient,
                ledger_patient,
                p_patient,
                h,
                steps_taken,
                start,
                stops,
                saved_y,
                saved_ledger,
                first,
                patient,
                settings,
                counts,
            )
            for inside in range(first, save):
                if math.isfinite(saved_y[inside, 0, patient]):  # states saved by _integrate
                    rules_into(saves[inside], saved_y[inside, :, patient].copy(), p_patient, rules)
                    saved_rules[inside, :, patient] = rules
            if outcome != SUCCESS:
                break
        if outcome == SUCCESS:
            while save < n_save:
                _save(
                    rules_into,
                    saves[save],
                    y_patient,
                    ledger_patient,
                    p_patient,
                    rules,
                    saved,
                    save,
                    patient,
                )
                save += 1
        status[patient] = outcome
        steps[patient] = steps_taken
        y[:, patient] = y_patient
        ledger[:, patient] = ledger_patient
