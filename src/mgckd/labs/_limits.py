"""Plausibility of lab values: hard limits reject, soft limits warn and look for unit mix-ups."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mgckd.params import parameters
from mgckd.units import analyte, convert


@dataclass(frozen=True, slots=True)
class Limits:
    """Hard and soft plausibility ranges of one analyte, in its internal unit."""

    hard: tuple[float, float]
    soft: tuple[float, float]
    unit: str


def limits(analyte_name: str) -> Limits:
    """The registered plausibility limits of an analyte, in its internal unit."""
    return _limits(analyte(analyte_name).name)


@cache
def _limits(name: str) -> Limits:
    a = analyte(name)
    registry = parameters()

    def pair(kind: str) -> tuple[float, float]:
        p = registry[f"plausible_{kind}_{a.name}"]
        low, high = (float(v) for v in p.quantity.to(_pint_unit(a.internal_unit)).magnitude)
        return low, high

    return Limits(hard=pair("hard"), soft=pair("soft"), unit=a.internal_unit)


def _pint_unit(unit: str) -> str:
    return "1" if unit == "pH" else unit


def outside(values: ArrayLike, bounds: tuple[float, float]) -> NDArray[np.bool_]:
    """Boolean mask of finite values outside the closed range `bounds`."""
    v = np.asarray(values, dtype=np.float64)
    return np.isfinite(v) & ((v < bounds[0]) | (v > bounds[1]))


def unit_mixup_hint(analyte_name: str, value: float, unit: str) -> str | None:
    """If `value` read in another usual unit of the analyte is ordinary, say so; else None.

    Examples
    --------
    >>> print(unit_mixup_hint("magnesium", 2.1, "mmol/L"))
    probable unit error: read as 2.1 mg/dL it would be 0.864 mmol/L, an ordinary value
    """
    a = analyte(analyte_name)
    soft = limits(a.name).soft
    for other in a.units:
        if other == unit:
            continue
        reread = convert(value, other, a.internal_unit, analyte=a.name)
        if soft[0] <= reread <= soft[1]:
            return (
                f"probable unit error: read as {value:g} {other} it would be "
                f"{reread:.3g} {a.internal_unit}, an ordinary value"
            )
    return None


def describe_range(bounds: tuple[float, float], unit: str) -> str:
    """``"0.4-2 mmol/L"``."""
    return f"{bounds[0]:g}-{bounds[1]:g} {unit}"
