"""Steady states of a batch: pseudo-transient continuation (implicit Euler steps whose length
grows tenfold per accepted step, ending in Newton's method), vectorized over patients."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from mgckd.model import CompiledModel
from mgckd.simulate._result import Status

FloatArray = NDArray[np.float64]

_GROWTH = 10.0  # the pseudo-step grows tenfold after each accepted step: Newton within a few
_SHRINK = 0.1
_KEEP = 0.1  # a pseudo-step leaves every amount at least this fraction of its value


@dataclass(frozen=True, slots=True)
class SteadyStateSettings:
    """Settings of the steady-state solver.

    Attributes
    ----------
    rate_tol_per_h : converged when every species changes by less than this fraction of its
        amount per hour (|dy/dt| / (|y| + atol)), 1/h.
    atol : amount added to |y| in that ratio, species units.
    first_pseudo_step_h : the first implicit-Euler step, hours.
    max_iterations : iterations allowed per patient.
    """

    rate_tol_per_h: float = 1e-13
    atol: float = 1e-12
    first_pseudo_step_h: float = 1.0
    max_iterations: int = 300


@dataclass(frozen=True, eq=False)
class SteadyState:
    """States at steady state (n_species, n), per-patient `Status` codes and iterations."""

    states: FloatArray
    status: NDArray[np.int8]
    iterations: int


def steady_state(
    compiled: CompiledModel,
    p: FloatArray,
    *,
    t_h: float = 0.0,
    guess: FloatArray | None = None,
    settings: SteadyStateSettings = SteadyStateSettings(),
) -> SteadyState:
    """Solve rhs(t_h, y, p) = 0 for each patient (column of `p`), from `guess` or the model's.

    Amounts never go negative: a pseudo-step that would take an amount below a tenth of its value
    is shortened (fraction to the boundary); one that is not finite is retried ten times
    shorter. Patients that do not converge get `Status.STEADY_STATE_FAILED` and NaN states.
    """
    y = compiled.guess(p) if guess is None else np.array(guess, dtype=float)
    n, n_patients = y.shape
    tau = np.full(n_patients, settings.first_pseudo_step_h)
    residual = _residual(compiled, t_h, y, p, settings)
    running = ~(residual < settings.rate_tol_per_h)
    identity = np.eye(n)
    iteration = 0
    while running.any() and iteration < settings.max_iterations:
        iteration += 1
        idx = np.flatnonzero(running)
        yy, pp = y[:, idx], p[:, idx]
        f = compiled.rhs(t_h, yy, pp)
        jac = compiled.jacobian(t_h, yy, pp)
        with np.errstate(all="ignore"):
            step = solve_each(identity / tau[idx, None, None] - jac, f.T[:, :, None])[:, :, 0].T
            trial = yy + _to_boundary(yy, step)[None, :] * step
            ok = np.isfinite(trial).all(axis=0)
            new_residual = _residual(compiled, t_h, np.where(ok, trial, yy), pp, settings)
        y[:, idx[ok]] = trial[:, ok]
        residual[idx[ok]] = new_residual[ok]
        tau[idx] = np.where(ok, tau[idx] * _GROWTH, tau[idx] * _SHRINK)
        running[idx] = ~(residual[idx] < settings.rate_tol_per_h)
    status = np.where(running, Status.STEADY_STATE_FAILED, Status.SUCCESS).astype(np.int8)
    y[:, running] = np.nan
    return SteadyState(states=y, status=status, iterations=iteration)


def solve_each(a: FloatArray, b: FloatArray) -> FloatArray:
    """Solve a[k] x[k] = b[k] for every k; NaN for a singular a[k] (one patient's singular
    matrix fails that patient's step, not the batch)."""
    try:
        solved = np.asarray(np.linalg.solve(a, b), dtype=np.float64)
    except np.linalg.LinAlgError:
        solved = np.full(b.shape, np.nan)
        for k in range(a.shape[0]):  # only when some matrix is singular
            with contextlib.suppress(np.linalg.LinAlgError):
                solved[k] = np.linalg.solve(a[k], b[k])
    return solved


def _to_boundary(y: FloatArray, step: FloatArray) -> FloatArray:
    """Per patient, the largest fraction (≤ 1) of `step` that keeps every amount above
    `_KEEP` of its current value (amounts stay positive)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        limits = np.where(step < 0, (1 - _KEEP) * y / -step, np.inf)
    out: FloatArray = np.minimum(1.0, np.min(limits, axis=0))
    return out


def _residual(
    compiled: CompiledModel,
    t_h: float,
    y: FloatArray,
    p: FloatArray,
    settings: SteadyStateSettings,
) -> FloatArray:
    """Largest relative rate of change per patient, 1/h."""
    f = compiled.rhs(t_h, y, p)
    with np.errstate(all="ignore"):
        relative = np.abs(f) / (np.abs(y) + settings.atol)
    out: FloatArray = np.max(np.nan_to_num(relative, nan=np.inf), axis=0)
    return out
