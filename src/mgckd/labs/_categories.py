"""Magnesium categories of the seed papers, vectorized (internal unit: mmol/L).

A value exactly on a cut-point belongs to the upper band; the comparison allows a relative
1e-12 so that 1.8 mg/dL entered in mg/dL stays on the same side after conversion to mmol/L.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mgckd.params import parameters
from mgckd.units import convert

_RELATIVE_TOLERANCE = 1e-12


def _edges(name: str, unit: str) -> NDArray[np.float64]:
    return np.atleast_1d(
        np.asarray(parameters()[name].quantity.to(unit).magnitude, dtype=np.float64)
    )


def _band(values: ArrayLike, edges: NDArray[np.float64]) -> NDArray[np.int_]:
    """Number of edges at or below each value (0 = below the first edge); -1 where missing."""
    values = np.asarray(values, dtype=np.float64)
    reached = values[..., None] >= edges * (1.0 - _RELATIVE_TOLERANCE)
    return np.where(np.isfinite(values), reached.sum(axis=-1), -1)


def _mg_dl(mg_mmol_l: ArrayLike) -> NDArray[np.float64]:
    return convert(np.asarray(mg_mmol_l, dtype=np.float64), "mmol/L", "mg/dL", analyte="magnesium")


def _labelled(index: NDArray[np.int_], labels: tuple[str, ...]) -> NDArray[np.str_]:
    table = np.array(("", *labels))
    return table[index + 1]


def hypomagnesemia(mg_mmol_l: ArrayLike) -> NDArray[np.str_]:
    """'yes' where serum total Mg < 1.8 mg/dL (S0-1), 'no' otherwise, '' where missing."""
    index = _band(_mg_dl(mg_mmol_l), _edges("mg_hypomagnesemia_cutpoint", "mg/dL"))
    return _labelled(index, ("yes", "no"))


def reference_range_category(mg_mmol_l: ArrayLike) -> NDArray[np.str_]:
    """'below', 'within' or 'above' the general-population range 0.7-1.1 mmol/L (S1-15)."""
    low, high = _edges("mg_reference_range_general", "mmol/L")
    return _range_position(mg_mmol_l, low, high)


def _range_position(values: ArrayLike, low: float, high: float) -> NDArray[np.str_]:
    v = np.asarray(values, dtype=np.float64)
    above = v > high * (1.0 + _RELATIVE_TOLERANCE)
    index = np.where(above, 2, _band(v, np.array([low])))
    return _labelled(index, ("below", "within", "above"))


def below_proposed_cutpoint(mg_mmol_l: ArrayLike) -> NDArray[np.str_]:
    """'yes' where Mg < 0.8 mmol/L, the proposed cut-point linked to CVD and mortality (S1-15)."""
    index = _band(
        np.asarray(mg_mmol_l, dtype=np.float64), _edges("mg_proposed_lower_cutpoint", "mmol/L")
    )
    return _labelled(index, ("yes", "no"))


def hemodialysis_band(mg_mmol_l: ArrayLike) -> NDArray[np.str_]:
    """JSDT pre-dialysis Mg band (S0-18) in mg/dL: '<2.7', '2.7 to <3.1' or '>=3.1'.

    The registry reports Mg to 0.1 mg/dL, so its middle band "2.7-3.0" is [2.7, 3.1).
    """
    edges = _edges("mg_hemodialysis_band_edges", "mg/dL")
    low, high = (f"{e:g}" for e in edges)
    return _labelled(_band(_mg_dl(mg_mmol_l), edges), (f"<{low}", f"{low} to <{high}", f">={high}"))


def ionized_category(img_mmol_l: ArrayLike) -> NDArray[np.str_]:
    """'below', 'within' or 'above' the ionized Mg reference range 0.45-0.60 mmol/L (S0-22)."""
    low, high = _edges("mg_ionized_reference_range", "mmol/L")
    return _range_position(img_mmol_l, low, high)
