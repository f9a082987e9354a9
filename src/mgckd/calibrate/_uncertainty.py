"""How tightly the calibration targets pin the fitted parameters: a linearized covariance.

Each target's tolerance (`target_scale`) is read as the half-width of a 95 % interval, so the
target's standard deviation is tolerance / 1.96. With J the Jacobian of the targets with respect
to the fitted parameters at their shipped values, and W = diag(1 / sd²), the parameters'
covariance is (Jᵀ W J)⁻¹ (Gauss–Newton). It says which parameter values the calibration data
cannot tell apart, not how wrong the model's structure is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.stats import norm

from mgckd.calibrate._fit import target_scale
from mgckd.calibrate._problem import Problem
from mgckd.exceptions import RegistryError
from mgckd.params import parameters

TARGET_LEVEL = 0.95
"""The coverage a target's tolerance is read as."""

_RELATIVE_STEP = 1e-4
"""Central-difference step for the Jacobian, relative to max(1, |value|)."""


@dataclass(frozen=True, slots=True)
class ParameterCovariance:
    """The fitted parameters of one calibration problem and their covariance.

    Attributes
    ----------
    problem : the calibration problem (module) name.
    names : registry names of the fitted parameters.
    values : their shipped values (registry units).
    covariance : (n, n) covariance, registry units squared.
    """

    problem: str
    names: tuple[str, ...]
    values: NDArray[np.float64]
    covariance: NDArray[np.float64]

    @property
    def sd(self) -> NDArray[np.float64]:
        """Standard deviation of each parameter (registry units)."""
        result: NDArray[np.float64] = np.sqrt(np.diag(self.covariance))
        return result


def parameter_covariance(problem: Problem) -> ParameterCovariance:
    """Linearized covariance of `problem`'s fitted parameters at their shipped values.

    Raises `RegistryError` when the targets do not determine every parameter (singular Jᵀ W J).

    Examples
    --------
    >>> from mgckd.calibrate import problems
    >>> cov = parameter_covariance(problems()["chemistry"])
    >>> cov.names[:2]
    ('plasma_log_k_caalb', 'plasma_log_k_mgalb')
    >>> bool((cov.sd > 0).all())
    True
    """
    registry = parameters()
    names = tuple(f.name for f in problem.free)
    values = np.array([registry[name].to(registry[name].unit) for name in names])
    steps = _RELATIVE_STEP * np.maximum(1.0, np.abs(values))
    columns = []
    for i, step in enumerate(steps):
        up, down = values.copy(), values.copy()
        up[i] += step
        down[i] -= step
        difference = np.subtract(
            problem.model(_trial(names, up)), problem.model(_trial(names, down))
        )
        columns.append(difference / (2.0 * step))
    jacobian = np.column_stack(columns)
    target_sd = np.array([target_scale(t) for t in problem.targets]) / norm.ppf(
        0.5 + TARGET_LEVEL / 2.0
    )
    weighted = jacobian / target_sd[:, None]
    information = weighted.T @ weighted
    if np.linalg.matrix_rank(information) < len(names):
        raise RegistryError(
            f"calibration {problem.name!r}: its targets do not determine every fitted parameter"
        )
    return ParameterCovariance(problem.name, names, values, np.linalg.inv(information))


def _trial(names: tuple[str, ...], values: NDArray[np.float64]) -> dict[str, float]:
    return dict(zip(names, map(float, values), strict=True))
