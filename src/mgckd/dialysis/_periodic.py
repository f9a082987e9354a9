"""The long-run (periodic) steady state of a hemodialysis schedule.

On a repeating schedule the body never stands still: it settles into a cycle that repeats every
period (a week for Mon/Wed/Fri). Its start — the state just before the first session of the
period — is a fixed point of the period map Φ (one simulated period). `periodic_steady_state`
finds it by a quasi-Newton method on Φ(y) − y = 0: the Jacobian of Φ is taken once by finite
differences as extra columns of the same vectorized batch (one per state; each patient's own in
a small batch, the worst patient's shared in a large one), then each patient's copy is updated
by Broyden's rule from its own steps, so convergence is superlinear without further columns.
Periods far from the cycle are simulated at a looser tolerance (about a third of the cost);
only a period at the tight tolerance can end the iterations. The start is the steady state of
the time-averaged treatment (the switch held at the fraction of time on dialysis), or a nearby
solution.

Parameters can be solved for at the same time, one per `Match`, so that pre-dialysis
observables equal measured values: a patient's Mg intake from their measured pre-dialysis Mg.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mgckd.dialysis._model import EXCESS_WATER, SWITCH, ULTRAFILTRATION
from mgckd.dialysis._patients import Hemodialysis
from mgckd.dialysis._sessions import excess_water_at_start_l, session_windows, sessions
from mgckd.exceptions import SimulationError
from mgckd.model import CompiledModel, compile_model
from mgckd.params import parameters
from mgckd.simulate import Rodas4, Scenario, Status, simulate, steady_state

FloatArray = NDArray[np.float64]

SHOOTING_SOLVER = Rodas4(rtol=1e-7, atol=1e-9)
"""Tight tolerances: the finite-difference Jacobian of the period map needs a smooth map."""
LOOSE_SOLVER = Rodas4(rtol=1e-5, atol=1e-9)
"""Periods of patients still far from their cycle: the map's noise (about 1e-5) is far below
their residual."""
LOOSE_UNTIL = 1e-3
"""Largest residual at which a patient's next period is still simulated with LOOSE_SOLVER."""
MAX_ITERATIONS = 40
OWN_JACOBIAN_COLUMNS = 256
"""Patients needing a Jacobian get one each when their finite-difference columns number at
most this or the patients iterating (at most doubling an iteration's cost); otherwise they
share the worst one's."""
_RELATIVE_STEP = 3e-4
"""Finite-difference step of the Jacobian, relative: about the square root of the solver's
relative tolerance, balancing truncation against the solver's noise."""
JACOBIAN_ERROR = 1e-2
"""Bound on the finite-difference Jacobian's relative error (its step, 3e-4, and the solver's
noise over it, about 1e-7 / 3e-4), with a margin of about 10."""
_FLOOR = 1e-3
"""Values below this (their own units) are perturbed, and judged, as if this large."""
_KEEP = 0.1
"""A Newton step leaves every amount at least this fraction of its value."""


@dataclass(frozen=True, slots=True)
class Match:
    """Solve for `parameter` per patient so that `rule` at the start of session `session`
    (1-based within the period) equals `target` (a scalar or one per patient, the rule's
    unit)."""

    parameter: str
    rule: str
    session: int
    target: ArrayLike


@dataclass(frozen=True, eq=False)
class PeriodicSteadyState:
    """The state at the start of the period (just before its first session) in the long run.

    Attributes
    ----------
    states : species amounts, (n_species, n_patients).
    parameters : every model parameter of every patient, (n_parameters, n_patients), with the
        matched parameters' solved values.
    status : per-patient `mgckd.simulate.Status` codes.
    residual : largest relative change over one period (or miss of a matched target), per
        patient.
    iterations : Newton iterations taken.
    """

    states: FloatArray
    parameters: FloatArray
    status: NDArray[np.int8]
    residual: FloatArray
    iterations: int

    @property
    def succeeded(self) -> NDArray[np.bool_]:
        """True where the patient converged."""
        return np.asarray(self.status == Status.SUCCESS)


def period_map(
    compiled: CompiledModel,
    hd: Hemodialysis,
    *,
    p: FloatArray,
    y0: FloatArray,
    gain: FloatArray,
    save_at: FloatArray,
    solver: Rodas4 = SHOOTING_SOLVER,
) -> tuple[FloatArray, FloatArray, NDArray[np.int8]]:
    """States and rules at `save_at` over one period from `y0` for columns (p, y0, gain):
    (n_save, n_species, M), (n_save, n_rules, M) and the status per column."""
    schedule = hd.schedule
    period = schedule.period_h
    windows = session_windows(
        sessions(schedule, duration_h=period), period_h=period, fluid_gain_l_h=gain
    )
    scenario = Scenario(
        duration_h=period,
        n_patients=p.shape[1],
        parameters={name: p[i] for i, name in enumerate(compiled.parameters)},
        schedule=windows,
        initial={name: y0[i] for i, name in enumerate(compiled.species)},
    )
    result = simulate(compiled, scenario, solver=solver, save_at=save_at, throw=False)
    return result.states, result.rules, result.status


def averaged_steady_state(compiled: CompiledModel, p: FloatArray, hd: Hemodialysis) -> FloatArray:
    """Steady state of the time-averaged treatment: the switch at the fraction of time on
    dialysis and ultrafiltration equal to the fluid gain; the excess water set to its value at
    the start of the period. The start of the Newton iterations."""
    schedule = hd.schedule
    averaged = p.copy()
    averaged[compiled.parameters.index(SWITCH)] = (
        len(schedule.starts_h) * schedule.duration_h / schedule.period_h
    )
    gain = hd.fluid_gain_l_h()
    averaged[compiled.parameters.index(ULTRAFILTRATION)] = gain
    try:
        y = steady_state(compiled, averaged).states
    except np.linalg.LinAlgError:
        raise SimulationError(
            "periodic steady state: the time-averaged steady state of the batch is singular "
            "(a patient's model has no steady state under averaged dialysis)"
        ) from None
    y[compiled.species.index(EXCESS_WATER)] = excess_water_at_start_l(schedule, gain)
    return y


@dataclass(frozen=True, slots=True)
class _Setup:
    """Row indices of the unknowns and the matched quantities."""

    unknown: list[int]
    thetas: list[int]
    rules: list[int]
    save_rows: list[int]
    targets: FloatArray  # (n_matches, n_patients)
    save_at: FloatArray


def _setup(compiled: CompiledModel, hd: Hemodialysis, matches: Sequence[Match], n: int) -> _Setup:
    starts = np.array(hd.schedule.starts_h)
    save_at = np.unique(np.append(starts, hd.schedule.period_h))
    for m in matches:
        if not 1 <= m.session <= starts.size:
            raise SimulationError(
                f"match of {m.parameter}: session {m.session} is not one of the period's "
                f"{starts.size} sessions"
            )
    return _Setup(
        unknown=[i for i, name in enumerate(compiled.species) if name != EXCESS_WATER],
        thetas=[compiled.parameters.index(m.parameter) for m in matches],
        rules=[compiled.model.rule_names.index(m.rule) for m in matches],
        save_rows=[int(np.flatnonzero(save_at == starts[m.session - 1])[0]) for m in matches],
        targets=np.array(
            [np.broadcast_to(np.asarray(m.target, dtype=np.float64), (n,)) for m in matches]
        ).reshape(len(matches), n),
        save_at=save_at,
    )


def periodic_steady_state(
    hd: Hemodialysis,
    *,
    match: Sequence[Match] = (),
    guess: PeriodicSteadyState | None = None,
    throw: bool = True,
) -> PeriodicSteadyState:
    """The periodic steady state of every patient of `hd` (see the module docstring).

    Parameters
    ----------
    hd : patients, prescriptions, model.
    match : parameters to solve for so that pre-dialysis observables equal targets.
    guess : a nearby solution of the same batch to start from (states and matched parameters)
        instead of the time-averaged steady state.
    throw : raise `SimulationError` naming the first patient that did not converge (default);
        with False their status says so and their states are NaN.
    """
    compiled = compile_model(hd.model)
    n = hd.n_patients
    p = compiled.parameter_array(hd.parameters(), n)
    gain = hd.fluid_gain_l_h()
    setup = _setup(compiled, hd, match, n)
    if guess is None:
        y = averaged_steady_state(compiled, p, hd)
    else:
        y = np.array(guess.states, dtype=np.float64)
        p[setup.thetas] = guess.parameters[setup.thetas]
    tolerance = parameters()["steady_state_relative_tolerance"].to("1")
    status = np.where(np.isfinite(y).all(axis=0), Status.SUCCESS, Status.STEADY_STATE_FAILED)
    status = status.astype(np.int8)
    residual = np.full(n, np.inf)
    memory = _Memory.empty(len(setup.unknown) + len(setup.thetas), n)
    iteration = 0
    for iteration in range(1, MAX_ITERATIONS + 1):  # noqa: B007  (reported)
        running = np.flatnonzero((status == Status.SUCCESS) & ~(residual < tolerance))
        if running.size == 0:
            break
        _newton_step(
            compiled,
            hd,
            setup,
            y=y,
            p=p,
            gain=gain,
            running=running,
            status=status,
            residual=residual,
            tolerance=tolerance,
            memory=memory,
        )
    status[(status == Status.SUCCESS) & ~(residual < tolerance)] = Status.STEADY_STATE_FAILED
    y[:, status != Status.SUCCESS] = np.nan
    if throw and (status != Status.SUCCESS).any():
        first = int(np.flatnonzero(status != Status.SUCCESS)[0])
        raise SimulationError(
            f"periodic steady state: patient {first} did not converge in {MAX_ITERATIONS} "
            f"iterations ({Status(status[first]).message or 'residual above tolerance'}); "
            "use throw=False to keep the others"
        )
    return PeriodicSteadyState(
        states=y, parameters=p, status=status, residual=residual, iterations=iteration
    )


@dataclass(frozen=True, slots=True)
class _Memory:
    """What each patient's iterations carry over: the Jacobian of the equations in the unknowns
    (NaN until taken by finite differences, then updated by Broyden's rule), and the last point
    and equations."""

    jacobian: FloatArray  # (n_patients, k, k)
    point: FloatArray  # (k, n_patients)
    equations: FloatArray  # (k, n_patients)

    @classmethod
    def empty(cls, k: int, n: int) -> _Memory:
        """No Jacobian, no last point."""
        return cls(np.full((n, k, k), np.nan), np.full((k, n), np.nan), np.full((k, n), np.nan))


def _newton_step(
    compiled: CompiledModel,
    hd: Hemodialysis,
    setup: _Setup,
    *,
    y: FloatArray,
    p: FloatArray,
    gain: FloatArray,
    running: NDArray[np.intp],
    status: NDArray[np.int8],
    residual: FloatArray,
    tolerance: float,
    memory: _Memory,
) -> None:
    """One quasi-Newton iteration for the `running` patients, updating y, p, status, residual
    and memory in place. A patient without a Jacobian gets one by finite differences (its own
    in a small batch, the worst such patient's in a large one); the others update theirs by
    Broyden's rule from the last step. A patient whose residual did not halve loses its
    Jacobian for a fresh one next time."""
    unknown, thetas = setup.unknown, setup.thetas
    n_u, k = len(unknown), len(unknown) + len(thetas)
    m = running.size
    current = np.vstack([y[unknown][:, running], p[thetas][:, running]])
    fresh = running[np.isnan(memory.jacobian[running, 0, 0])]
    own_each = fresh.size * k <= max(OWN_JACOBIAN_COLUMNS, m)
    own = fresh if own_each else fresh[[np.argmax(residual[fresh])]]
    at = np.searchsorted(running, own)
    steps = _RELATIVE_STEP * np.maximum(np.abs(current[:, at]), _FLOOR)  # (k, J)
    columns_y, columns_p = _perturbed(setup, y[:, own], p[:, own], steps)
    batch = np.concatenate([running, np.repeat(own, k)])
    start_y = np.concatenate([y[:, running], columns_y], axis=1)
    loose = ~(residual[batch] <= LOOSE_UNTIL)
    states, rules, solved = _period_maps(
        compiled,
        hd,
        p=np.concatenate([p[:, running], columns_p], axis=1),
        y0=start_y,
        gain=gain[batch],
        save_at=setup.save_at,
        loose=loose,
    )
    equations = np.vstack(
        [states[-1][unknown] - start_y[unknown]]
        + [
            rules[row, rule] - setup.targets[j][batch]
            for j, (row, rule) in enumerate(zip(setup.save_rows, setup.rules, strict=True))
        ]
    )
    failed = solved[:m] != Status.SUCCESS
    status[running[failed]] = solved[:m][failed]
    bad = (solved[m:] != Status.SUCCESS).reshape(own.size, k).any(axis=1)
    status[own[bad]] = Status.STEADY_STATE_FAILED
    base = equations[:, :m]
    scale = np.abs(current) + _FLOOR * _RELATIVE_STEP
    if own.size:
        perturbed = equations[:, m:].reshape(k, own.size, k).transpose(1, 0, 2)  # (J, eq, col)
        taken = (perturbed - base[:, at].T[:, :, None]) / steps.T[:, None, :]
        memory.jacobian[fresh] = taken if own.size == fresh.size else taken[0]
    kept = ~np.isin(running, fresh)
    _broyden_update(
        memory, running[kept], point=current[:, kept], equations=base[:, kept], scale=scale[:, kept]
    )
    memory.point[:, running] = current
    memory.equations[:, running] = base
    previous = residual[running].copy()
    miss = np.abs(base[n_u:]) / np.maximum(np.abs(setup.targets[:, running]), _FLOOR)
    residual[running] = np.max(np.vstack([np.abs(base[:n_u]) / scale[:n_u], miss]), axis=0)
    with np.errstate(all="ignore"):
        step = np.linalg.solve(memory.jacobian[running], -base.T[:, :, None])[:, :, 0].T
        limit = np.where(step[:n_u] < 0, (1 - _KEEP) * current[:n_u] / -step[:n_u], np.inf)
    memory.jacobian[running[~(residual[running] <= 0.5 * previous)]] = np.nan
    fraction = np.minimum(1.0, limit.min(axis=0))
    tight = ~loose[:m]
    move = ~(tight & (residual[running] < tolerance)) & ~failed & np.isfinite(step).all(axis=0)
    move &= status[running] == Status.SUCCESS
    updated = current[:, move] + fraction[move] * step[:, move]
    y[np.ix_(unknown, running[move])] = updated[:n_u]
    p[np.ix_(thetas, running[move])] = updated[n_u:]
    # a residual from a loose period is never accepted; Newton's step criterion: after a full
    # step δ the residual is about the Jacobian's relative error times δ, so a step below
    # tolerance / that error is accepted without another period
    residual[running[~tight]] = np.maximum(residual[running[~tight]], tolerance)
    tiny = np.max(np.abs(step) / scale, axis=0) * JACOBIAN_ERROR < tolerance
    residual[running[move & tiny & tight & (fraction == 1.0)]] = 0.0


def _perturbed(
    setup: _Setup, y: FloatArray, p: FloatArray, steps: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Finite-difference columns (states, parameters) of patients (y, p), each unknown moved by
    its step (k, J): patient-major, own[0] × k, own[1] × k, ..."""
    unknown, thetas = setup.unknown, setup.thetas
    n_u, k = len(unknown), len(unknown) + len(thetas)
    columns_y = np.repeat(y, k, axis=1)
    columns_p = np.repeat(p, k, axis=1)
    which = np.arange(y.shape[1] * k) % k
    shift = steps.T.ravel()
    is_state = which < n_u
    columns_y[np.array(unknown)[which[is_state]], np.flatnonzero(is_state)] += shift[is_state]
    columns_p[
        np.array(thetas, dtype=np.intp)[which[~is_state] - n_u], np.flatnonzero(~is_state)
    ] += shift[~is_state]
    return columns_y, columns_p


def _broyden_update(
    memory: _Memory,
    patients: NDArray[np.intp],
    *,
    point: FloatArray,
    equations: FloatArray,
    scale: FloatArray,
) -> None:
    """Broyden's ("good") rank-one update of the Jacobians of `patients` from their last
    point and equations to these ((k, w) each), in coordinates scaled by `scale` so that no
    amount dominates by its size."""
    s = point - memory.point[:, patients]  # (k, w); NaN where there is no last point
    change = equations - memory.equations[:, patients]
    weighted = s / scale**2
    norm = np.sum(s * weighted, axis=0)
    ok = np.isfinite(norm) & (norm > 0)
    miss = change - np.einsum("wij,jw->iw", memory.jacobian[patients], s)
    with np.errstate(all="ignore"):
        update = miss[:, None, :] * weighted[None, :, :] / norm  # (k, k, w)
    memory.jacobian[patients[ok]] += update[:, :, ok].transpose(2, 0, 1)


def _period_maps(
    compiled: CompiledModel,
    hd: Hemodialysis,
    *,
    p: FloatArray,
    y0: FloatArray,
    gain: FloatArray,
    save_at: FloatArray,
    loose: NDArray[np.bool_],
) -> tuple[FloatArray, FloatArray, NDArray[np.int8]]:
    """`period_map` of every column, those marked `loose` with LOOSE_SOLVER, the others with
    SHOOTING_SOLVER."""
    states = np.empty((save_at.size, len(compiled.species), loose.size))
    rules = np.empty((save_at.size, len(compiled.model.rule_names), loose.size))
    solved = np.empty(loose.size, dtype=np.int8)
    for solver, columns in ((LOOSE_SOLVER, loose), (SHOOTING_SOLVER, ~loose)):
        if columns.any():
            states[..., columns], rules[..., columns], solved[columns] = period_map(
                compiled,
                hd,
                p=p[:, columns],
                y0=y0[:, columns],
                gain=gain[columns],
                save_at=save_at,
                solver=solver,
            )
    return states, rules, solved
