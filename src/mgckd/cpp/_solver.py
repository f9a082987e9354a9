"""Dormand–Prince 5(4), an explicit Runge–Kutta method with one adaptive step size per sample.

The CPP kinetics is not stiff (its fastest process, CPP1 formation, takes minutes of a 600-min
read), so an explicit method with error control suffices. Every sample has its own time and step
size; all samples still running advance together, one vectorized step per iteration (no loop over
samples), and each step is shortened to land exactly on the next output time. The error norm is
taken per sample, so a sample's accuracy does not depend on the batch it runs in: a batch gives
bit-for-bit the numbers of its samples run one by one. Runge–Kutta steps are linear combinations
of right-hand sides, so linear invariants of the ODE (the mass of Ca and of phosphate) are kept up
to round-off.

Coefficients: Dormand JR, Prince PJ. A family of embedded Runge-Kutta formulae. J Comput Appl
Math 1980;6:19-26 (doi:10.1016/0771-050X(80)90013-3), as in SciPy's ``RK45``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IndexArray = NDArray[np.intp]

RightHandSide = Callable[[FloatArray, IndexArray], FloatArray]
"""``rhs(y, index)``: states (n_state, m) of the samples `index` (m,) → their time derivatives."""

_A = (
    (),
    (1 / 5,),
    (3 / 40, 9 / 40),
    (44 / 45, -56 / 15, 32 / 9),
    (19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729),
    (9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656),
)
_B = (35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84)
# Fifth- minus fourth-order weights (the last entry multiplies the FSAL stage f(y_new)).
_E = (71 / 57600, 0.0, -71 / 16695, 71 / 1920, -17253 / 339200, 22 / 525, -1 / 40)
_SAFETY = 0.9
_GROW_MAX = 5.0
_SHRINK_MIN = 0.2
_ORDER_EXPONENT = 0.2  # 1 / (embedded order + 1)


class SolverStatus(StrEnum):
    """Per-sample outcome of `solve`."""

    CONVERGED = "converged"
    MAX_STEPS = "max_steps"
    NON_FINITE = "non_finite"


@dataclass(frozen=True, slots=True)
class DormandPrince:
    """Settings of the solver.

    Attributes
    ----------
    rtol, atol : relative and absolute tolerance of the local error, per state and sample
        (atol in the states' unit).
    first_step : first step size tried, in the time unit; the controller adapts it.
    max_steps : attempted steps per sample before it is stopped with status ``max_steps``.
    """

    rtol: float = 1e-8
    atol: float = 1e-12
    first_step: float = 1e-4
    max_steps: int = 100_000


@dataclass(frozen=True, slots=True)
class OdeSolution:
    """States at the output times.

    Attributes
    ----------
    y : (n_state, n_samples, n_times); NaN after a sample stopped (not ``converged``).
    steps : (n_samples,) attempted steps.
    status : (n_samples,) `SolverStatus` values.
    """

    y: FloatArray
    steps: NDArray[np.int64]
    status: NDArray[np.str_]


def solve(
    rhs: RightHandSide,
    y0: FloatArray,
    times: FloatArray,
    solver: DormandPrince | None = None,
) -> OdeSolution:
    """Integrate the autonomous system dy/dt = rhs(y) of every sample from ``times[0]``.

    Parameters
    ----------
    rhs : right-hand side, vectorized over samples (see `RightHandSide`).
    y0 : (n_state, n_samples) initial states at ``times[0]``.
    times : (n_times,) increasing output times; ``y[..., 0]`` is `y0`.
    solver : tolerances and limits (default `DormandPrince()`).

    Examples
    --------
    >>> decay = lambda y, index: -np.array([[1.0, 2.0]])[:, index] * y
    >>> out = solve(decay, np.ones((1, 2)), np.array([0.0, 1.0]))
    >>> np.allclose(out.y[0, :, 1], np.exp([-1.0, -2.0]), rtol=1e-7)
    True
    """
    solver = solver or DormandPrince()
    n_state, n = y0.shape
    out = np.full((n_state, n, times.size), np.nan)
    out[..., 0] = y0
    y = np.array(y0, dtype=np.float64)
    t = np.full(n, times[0])
    h = np.full(n, solver.first_step)
    following = np.ones(n, dtype=np.intp)  # index of the next output time
    steps = np.zeros(n, dtype=np.int64)
    status = np.full(n, SolverStatus.CONVERGED.value, dtype=object)
    running = np.full(n, times.size > 1)
    slope = rhs(y, np.arange(n))  # first same as last: f(y) of the current state
    while running.any():
        a = np.flatnonzero(running)
        target = times[following[a]]
        lands = h[a] >= target - t[a]
        step = np.where(lands, target - t[a], h[a])
        y_new, slope_new, error = _step(rhs, y[:, a], slope[:, a], step, a)
        scale = solver.atol + solver.rtol * np.maximum(np.abs(y[:, a]), np.abs(y_new))
        norm = np.sqrt(np.mean((error / scale) ** 2, axis=0))
        finite = np.isfinite(norm) & np.isfinite(y_new).all(axis=0)
        accepted = finite & (norm <= 1.0)
        steps[a] += 1

        done = a[accepted]
        y[:, done] = y_new[:, accepted]
        slope[:, done] = slope_new[:, accepted]
        t[done] = np.where(lands[accepted], target[accepted], t[done] + step[accepted])
        landed = done[lands[accepted]]
        out[:, landed, following[landed]] = y[:, landed]
        following[landed] += 1
        running[landed[following[landed] == times.size]] = False

        with np.errstate(divide="ignore", invalid="ignore"):
            factor = np.clip(_SAFETY * norm ** (-_ORDER_EXPONENT), _SHRINK_MIN, _GROW_MAX)
        factor = np.where(finite, factor, _SHRINK_MIN)
        # a step shortened to land on an output time does not shrink the next one
        h[a] = np.where(accepted & lands, np.maximum(h[a], step * factor), step * factor)

        stalled = a[(steps[a] >= solver.max_steps) & running[a]]
        status[stalled] = SolverStatus.MAX_STEPS.value
        broken = a[~finite & (t[a] + h[a] == t[a])]  # no representable step left
        status[broken] = SolverStatus.NON_FINITE.value
        running[stalled] = running[broken] = False
    return OdeSolution(y=out, steps=steps, status=status.astype(str))


def _step(
    rhs: RightHandSide, y: FloatArray, slope: FloatArray, h: FloatArray, index: IndexArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """One Dormand–Prince step of size `h` (per sample): new state, its slope, error estimate."""
    stages = [slope]
    for row in _A[1:]:
        increment = sum(a * k for a, k in zip(row, stages, strict=False))
        stages.append(rhs(y + h * increment, index))
    y_new = y + h * sum(b * k for b, k in zip(_B, stages, strict=True))
    slope_new = rhs(y_new, index)
    error = h * sum(e * k for e, k in zip(_E, [*stages, slope_new], strict=True))
    return y_new, slope_new, error
