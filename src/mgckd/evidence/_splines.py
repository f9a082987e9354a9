"""Restricted cubic splines (Harrell's parametrization): cubic between knots, linear outside."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mgckd.exceptions import UserInputError
from mgckd.params import parameters

KNOT_COUNTS = (3, 4, 5)


def rcs_knots(values: ArrayLike, n_knots: int) -> NDArray[np.float64]:
    """Knots at Harrell's default quantiles of `values` (``registry_rcs_knot_quantiles_<n>``).

    Raises
    ------
    UserInputError
        For a knot count other than 3, 4 or 5, or when the knots are not distinct (too few
        distinct values).
    """
    if n_knots not in KNOT_COUNTS:
        raise UserInputError(f"a restricted cubic spline takes 3, 4 or 5 knots, not {n_knots}")
    quantiles = np.asarray(parameters()[f"registry_rcs_knot_quantiles_{n_knots}"].value)
    x = np.asarray(values, dtype=np.float64)
    knots = np.quantile(x[np.isfinite(x)], quantiles)
    if np.any(np.diff(knots) <= 0):
        raise UserInputError(
            f"the {n_knots} spline knots {np.round(knots, 3).tolist()} are not distinct: "
            "too few distinct exposure values for a spline; use fewer knots"
        )
    return np.asarray(knots, dtype=np.float64)


def rcs_basis(values: ArrayLike, knots: ArrayLike) -> NDArray[np.float64]:
    """The restricted cubic spline basis: columns ``x`` and ``k - 2`` non-linear terms.

    With knots :math:`t_1 < \\dots < t_k` the j-th non-linear term (j = 1 … k - 2) is

    .. math::
        \\frac{(x-t_j)_+^3 - (x-t_{k-1})_+^3 \\frac{t_k-t_j}{t_k-t_{k-1}}
        + (x-t_k)_+^3 \\frac{t_{k-1}-t_j}{t_k-t_{k-1}}}{(t_k-t_1)^2},

    which makes the curve linear below :math:`t_1` and above :math:`t_k` (Harrell, Regression
    Modeling Strategies, 2nd ed., eq. 2.25, scaled by :math:`(t_k-t_1)^2` as in ``rms::rcs``).
    """
    x = np.asarray(values, dtype=np.float64)
    t = np.asarray(knots, dtype=np.float64)
    k = t.size
    scale = (t[-1] - t[0]) ** 2

    def cube(u: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.where(u > 0, u, 0.0) ** 3

    columns = [x]
    for j in range(k - 2):
        term = (
            cube(x - t[j])
            - cube(x - t[k - 2]) * (t[k - 1] - t[j]) / (t[k - 1] - t[k - 2])
            + cube(x - t[k - 1]) * (t[k - 2] - t[j]) / (t[k - 1] - t[k - 2])
        )
        columns.append(term / scale)
    return np.column_stack(columns)
