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

from mgckd.model._kernel import DERIVE_SIGNATURE, LINEARIZE_SIGNATURE, VECTOR_SIGNATURE

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
RTOL, ATOL, MAX_STEPS_SETTING, MAX_STEP_H, MIN_STEP_H, ENVELOPE_RTOL = 0, 1, 2, 3, 4, 5
ENVELOPE_SAFETY = 0.5  # a jump aims at half the envelope tolerance

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


@_jit
def _segment(  # noqa: PLR0917  (numba: positional arguments only)
    derive_into: Any,
    rates_into: Any,
    linearize_into: Any,
    rules_into: Any,
    context: tuple[Any, Any, Any, Any, Any, int],
    segment: int,
    cursor: tuple[int, int, float, int],
) -> tuple[int, tuple[int, int, float, int]]:
    """One segment of one patient: its events, the saves at its start (values after the
    events), then Rodas4 to its end through the saves inside it. `context` is (patient state,
    schedule, saved arrays, settings, counts, patient), `cursor` (next event, next save, step
    size, steps so far); returns the status and the advanced cursor."""
    patient_state, schedule, saved, settings, counts, patient = context
    y, ledger, p, held, rules = patient_state
    breaks, events, event_values, saves = schedule
    saved_y, saved_ledger, saved_rules = saved
    event, save, h, steps = cursor
    start, end = breaks[segment], breaks[segment + 1]
    changed = event < events.shape[0] and events[event, 0] == segment
    while event < events.shape[0] and events[event, 0] == segment:
        _apply(
            events[event, 1],
            events[event, 2],
            events[event, 3],
            event_values[event, patient],
            y,
            p,
            held,
        )
        event += 1
    if changed:
        derive_into(p)
    while save < saves.size and saves[save] <= start:
        _save(rules_into, start, y, ledger, p, rules, saved, save, patient)
        save += 1
    first = save
    while save < saves.size and saves[save] < end:
        save += 1
    stops = np.empty(save - first + 1)
    stops[:-1] = saves[first:save]
    stops[-1] = end
    outcome, h, steps = _integrate(
        rates_into,
        linearize_into,
        y,
        ledger,
        p,
        h,
        steps,
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
            rules_into(saves[inside], saved_y[inside, :, patient].copy(), p, rules)
            saved_rules[inside, :, patient] = rules
    return outcome, (event, save, h, steps)


@_jit
def _segments(  # noqa: PLR0917  (numba: positional arguments only)
    derive_into: Any,
    rates_into: Any,
    linearize_into: Any,
    rules_into: Any,
    context: tuple[Any, Any, Any, Any, Any, int],
    first: int,
    last: int,
    cursor: tuple[int, int, float, int],
) -> tuple[int, tuple[int, int, float, int]]:
    """Segments `first` to `last` (excluded) one after the other (`_segment`); stops at a
    failure."""
    outcome = SUCCESS
    for segment in range(first, last):
        outcome, cursor = _segment(
            derive_into, rates_into, linearize_into, rules_into, context, segment, cursor
        )
        if outcome != SUCCESS:
            break
    return outcome, cursor


@_jit
def _scaled_norm(change: Any, y: Any, rtol: float, atol: float) -> float:
    """Root-mean-square of `change` in units of the tolerance at `y`."""
    total = 0.0
    for k in range(y.size):
        total += (change[k] / (atol + rtol * abs(y[k]))) ** 2
    return math.sqrt(total / y.size)


@_jit
def _jump(curvature: float, interval: int, limit: int) -> int:
    """Cycles to extrapolate over: the most H ≤ `limit` whose predicted miss at the landing
    cycle's end, `curvature` · D(D + L)/2 (D = H + 1 cycles ahead of a chord measured over L =
    `interval` cycles; scaled, per cycle²), stays within the safety share of the tolerance."""
    if curvature == 0.0:
        return limit
    if not math.isfinite(curvature):
        return 0
    ahead = (math.sqrt(interval**2 + 8.0 * ENVELOPE_SAFETY / curvature) - interval) / 2.0
    return min(limit, int(ahead) - 1)


@_jit
def _landing(  # noqa: PLR0917  (numba: positional arguments only)
    derive_into: Any,
    rates_into: Any,
    linearize_into: Any,
    rules_into: Any,
    context: tuple[Any, Any, Any, Any, Any, int],
    jump: tuple[int, int, int, int],
    cursor: tuple[int, int, float, int],
    slope: Any,
    ledger_slope: Any,
) -> tuple[int, tuple[int, int, float, int]]:
    """The cycle a jump lands on, integrated in full, and the saves of the cycles jumped over:
    each takes the landing cycle's states and ledgers at the same place in the cycle, moved back
    along the envelope by its distance in cycles times the slope per cycle (`slope`,
    `ledger_slope`), and rules computed from them. `jump` is (first segment of the run,
    segments per cycle, cycle jumped from, cycles jumped); returns the status and the cursor
    after the landing cycle."""
    patient_state, schedule, saved, settings, counts, patient = context
    y, ledger, p, _, rules = patient_state
    breaks, events, event_values, saves = schedule
    saved_y, saved_ledger, saved_rules = saved
    first, per_cycle, cycle, cycles = jump
    landing = first + (cycle + cycles) * per_cycle
    end = landing + per_cycle
    jumped = cursor[1]
    inside = jumped  # saves from here on lie in the landing cycle, up to `last`
    while inside < saves.size and saves[inside] < breaks[landing]:
        inside += 1
    if inside == jumped:
        return _segments(
            derive_into, rates_into, linearize_into, rules_into, context, landing, end, cursor
        )
    last = inside
    while last < saves.size and saves[last] < breaks[end]:
        last += 1
    segment = np.searchsorted(breaks, saves[jumped:inside], side="right") - 1
    back = cycle + cycles - (segment - first) // per_cycle  # cycles from each save to landing
    times = np.empty(last - jumped)
    times[: inside - jumped] = breaks[segment + back * per_cycle] + (
        saves[jumped:inside] - breaks[segment]
    )
    times[inside - jumped :] = saves[inside:last]
    probes = np.unique(times)
    rows = np.searchsorted(probes, times)
    n_probes, n, m = probes.size, y.size, ledger.size
    probed = (
        np.full((n_probes, n, 1), np.nan),
        np.full((n_probes, m, 1), np.nan),
        np.full((n_probes, saved_rules.shape[1], 1), np.nan),
    )
    probe_counts = np.zeros((1, counts.shape[1]), dtype=counts.dtype)
    probing = (  # this patient alone, as patient 0 of the probes
        patient_state,
        (breaks, events, event_values[:, patient : patient + 1], probes),
        probed,
        settings,
        probe_counts,
        0,
    )
    probe_cursor = (cursor[0], 0, cursor[2], cursor[3])
    outcome = SUCCESS
    for at in range(landing, end):
        outcome, probe_cursor = _segment(
            derive_into, rates_into, linearize_into, rules_into, probing, at, probe_cursor
        )
        if outcome != SUCCESS:
            break
        for k in range(last - jumped):  # the saves of this segment, with its parameters
            row = rows[k]
            if not breaks[at] <= probes[row] < breaks[at + 1]:
                continue
            save = jumped + k
            distance = back[k] if k < inside - jumped else 0
            for i in range(n):
                saved_y[save, i, patient] = probed[0][row, i, 0] - distance * slope[i]
            for r in range(m):
                saved_ledger[save, r, patient] = probed[1][row, r, 0] - distance * ledger_slope[r]
            rules_into(saves[save], saved_y[save, :, patient].copy(), p, rules)
            saved_rules[save, :, patient] = rules
    for c in range(counts.shape[1]):
        counts[patient, c] += probe_counts[0, c]
    return outcome, (probe_cursor[0], last, probe_cursor[2], probe_cursor[3])


@_jit
def _envelope(  # noqa: PLR0912, PLR0915, PLR0917  (one periodic run: one loop)
    derive_into: Any,
    rates_into: Any,
    linearize_into: Any,
    rules_into: Any,
    context: tuple[Any, Any, Any, Any, Any, int],
    run: tuple[int, int, int],
    cursor: tuple[int, int, float, int],
) -> tuple[int, tuple[int, int, float, int]]:
    """One patient through a run of identical cycles (`run`: first segment, cycles, segments
    per cycle), following the envelope (Petzold 1981). The state at the end of a cycle
    integrated in full, where the fast modes have settled, changes slowly from cycle to cycle:
    from the chord through the last two such states (its slope per cycle) the state is
    extrapolated over H cycles, and the cycle it lands on is integrated in full. The landing
    cycle's end against the chord's prediction measures the envelope's curvature; a jump that
    missed by more than the envelope tolerance is undone, its saves included, and retried
    shorter. Before a curvature is measured it is bounded by twice the slope (no stable mode
    bends faster). Saves in the cycles jumped over come from the landing cycle (`_landing`);
    ledgers follow their own chord, so mass balance holds."""
    patient_state, schedule, _, settings, _, _ = context
    y, ledger = patient_state[0], patient_state[1]
    events = schedule[1]
    first, n_cycles, per_cycle = run
    rtol, atol = settings[ENVELOPE_RTOL], settings[ATOL]
    n, m = y.size, ledger.size
    slope, ledger_slope = np.zeros(n), np.zeros(m)
    start_y, start_ledger = np.empty(n), np.empty(m)
    miss = np.empty(n)
    known = False  # a slope is known
    interval = 1  # cycles the slope was measured over
    curvature = math.inf  # scaled miss per cycle², not yet measured
    cycle = 0
    outcome = SUCCESS
    while cycle < n_cycles:
        jump = 0
        if known:
            if math.isinf(curvature):
                curvature = 2.0 * _scaled_norm(slope, y, rtol, atol)
            jump = _jump(curvature, interval, n_cycles - 1 - cycle)
            if jump < 2:  # one cycle's jump saves nothing: integrate it
                jump = 0
        base = cursor
        start_y[:] = y
        start_ledger[:] = ledger
        if jump:
            for k in range(n):
                y[k] += jump * slope[k]
            for r in range(m):
                ledger[r] += jump * ledger_slope[r]
            event = cursor[0]
            landing = first + (cycle + jump) * per_cycle
            while event < events.shape[0] and events[event, 0] < landing:
                event += 1
            cursor = (event, cursor[1], cursor[2], cursor[3])
        outcome, cursor = _landing(
            derive_into,
            rates_into,
            linearize_into,
            rules_into,
            context,
            (first, per_cycle, cycle, jump),
            cursor,
            slope,
            ledger_slope,
        )
        if outcome != SUCCESS:
            return outcome, cursor
        ahead = jump + 1
        if known:
            for k in range(n):
                miss[k] = y[k] - start_y[k] - ahead * slope[k]
            missed = _scaled_norm(miss, y, rtol, atol)
            curvature = 2.0 * missed / (ahead * (ahead + interval))
            if jump and missed > 1.0:
                y[:] = start_y  # undo: the envelope bent more than the jump allowed
                ledger[:] = start_ledger
                cursor = (base[0], base[1], cursor[2], cursor[3])
                continue
        for k in range(n):
            slope[k] = (y[k] - start_y[k]) / ahead
        for r in range(m):
            ledger_slope[r] = (ledger[r] - start_ledger[r]) / ahead
        known = True
        interval = ahead
        cycle += ahead
    return outcome, cursor


_BATCH_SIGNATURE = types.void(
    types.FunctionType(DERIVE_SIGNATURE),
    types.FunctionType(VECTOR_SIGNATURE),  # rates_into
    types.FunctionType(LINEARIZE_SIGNATURE),
    types.FunctionType(VECTOR_SIGNATURE),  # rules_into
    types.float64[:, :],  # y (n, N): initial states, final states on return
    types.float64[:, :],  # ledger (m, N)
    types.int8[:],  # status
    types.int64[:],  # steps
    types.float64[:, :],  # p (n_parameters + derived, N): changed by the events
    types.float64[::1],  # breaks: segment boundaries, 0 … duration
    types.int64[:, ::1],  # events (n_events, 4): segment, action, target row, source entry
    types.float64[:, :],  # event_values (n_events, N)
    types.int64,  # n_sources: schedule entries (windows hold a value per entry)
    types.int64[:, ::1],  # runs (n_runs, 3): first segment, cycles, segments per cycle
    types.float64[::1],  # saves: save times, sorted, within [0, duration]
    types.float64[:, :, :],  # saved_y (n_save, n, N), NaN-filled
    types.float64[:, :, :],  # saved_ledger (n_save, m, N), NaN-filled
    types.float64[:, :, :],  # saved_rules (n_save, n_rules, N), NaN-filled
    types.float64[::1],  # settings
    types.int64[:, :],  # counts (N, 3)
)


@numba.njit(_BATCH_SIGNATURE, cache=True, error_model="numpy", nogil=True)
def simulate_batch(  # noqa: PLR0917  (the whole working state of a batch)
    derive_into: Any,
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
    runs: Any,
    saves: Any,
    saved_y: Any,
    saved_ledger: Any,
    saved_rules: Any,
    settings: Any,
    counts: Any,
) -> None:
    """Simulate every patient whose status is success over all segments (`_segment`), each
    periodic run (`runs`, empty unless the envelope is followed) by `_envelope`; the saves at
    the end of the last segment come last. Patients are in the last axis (views of a larger
    batch are fine); a patient that fails keeps NaN from then on. Releases the GIL, so threads
    can run slices side by side."""
    n_rules = saved_rules.shape[1]
    saved = (saved_y, saved_ledger, saved_rules)
    n_segments = breaks.size - 1
    for patient in range(y.shape[1]):
        if status[patient] != SUCCESS:
            continue
        patient_state = (
            y[:, patient].copy(),
            ledger[:, patient].copy(),
            p[:, patient].copy(),
            np.zeros(n_sources),
            np.empty(n_rules),
        )
        derive_into(patient_state[2])
        context = (
            patient_state,
            (breaks, events, event_values, saves),
            saved,
            settings,
            counts,
            patient,
        )
        cursor = (0, 0, math.nan, steps[patient])
        outcome = SUCCESS
        segment = 0
        for run in range(runs.shape[0] + 1):
            stop = runs[run, 0] if run < runs.shape[0] else n_segments
            outcome, cursor = _segments(
                derive_into, rates_into, linearize_into, rules_into, context, segment, stop, cursor
            )
            if outcome != SUCCESS or run == runs.shape[0]:
                break
            outcome, cursor = _envelope(
                derive_into,
                rates_into,
                linearize_into,
                rules_into,
                context,
                (runs[run, 0], runs[run, 1], runs[run, 2]),
                cursor,
            )
            if outcome != SUCCESS:
                break
            segment = stop + runs[run, 1] * runs[run, 2]
        y_patient, ledger_patient, p_patient, _, rules = patient_state
        save = cursor[1]
        if outcome == SUCCESS:
            while save < saves.size:
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
        steps[patient] = cursor[3]
        y[:, patient] = y_patient
        ledger[:, patient] = ledger_patient
