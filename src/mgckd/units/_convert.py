"""Convert clinical quantities between units, aware of molar mass and valence."""

from __future__ import annotations

import itertools
import re
from functools import cache
from typing import Any, overload

import numpy as np
import pint
from numpy.typing import ArrayLike, NDArray

from mgckd._pint import parse_unit, quantity
from mgckd.exceptions import UnitError, UserInputError
from mgckd.units._analytes import Analyte, analyte

_PH_SPELLINGS = frozenset({"ph", "[ph]", ""})
_NUMBER_THEN_UNIT = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(.*?)\s*$")


def _is_ph(a: Analyte) -> bool:
    return a.internal_unit == "pH"


def _unit_error(a: Analyte, unit: str, why: str) -> UnitError:
    return UnitError(f"{a.name}: unit {unit!r} {why}; accepted units: {', '.join(a.units)}")


def _parsed(a: Analyte, unit: str) -> pint.Unit:
    try:
        return parse_unit(unit)
    except (pint.errors.PintError, ValueError, AttributeError, TypeError):
        raise _unit_error(a, unit, "is not a unit mgckd knows") from None


def _bridges(a: Analyte) -> list[pint.Quantity[Any]]:
    """The quantities that may multiply a value to change its dimension."""
    found = []
    if a.molar_mass_g_mol is not None:
        found.append(quantity(a.molar_mass_g_mol, "g/mol"))
    if a.valence is not None:
        found.append(quantity(a.valence, "eq/mol"))
    return found


@cache
def conversion_factor(analyte_name: str, from_unit: str, to_unit: str) -> float:
    """The factor f such that value[to_unit] = f * value[from_unit] for this analyte.

    The factor is the product of the unit scale and, where the dimensions differ, the
    analyte's molar mass (g/mol) and/or valence (eq/mol) raised to +1 or -1: whichever
    combination carries the source dimension onto the target dimension.

    Raises
    ------
    UnitError
        When a unit is unknown, or no combination fits the analyte (for example mEq/L for
        phosphate, whose charge depends on pH, or g/L for magnesium's mEq/L).
    """
    a = analyte(analyte_name)
    if _is_ph(a):
        for unit in (from_unit, to_unit):
            if unit.strip().lower() not in _PH_SPELLINGS:
                raise _unit_error(a, unit, "does not fit pH, which has no unit")
        return 1.0
    factor = _bridged_factor(a, _parsed(a, from_unit), _parsed(a, to_unit))
    if factor is not None:
        return factor
    internal = parse_unit(a.internal_unit)
    for unit in (from_unit, to_unit):
        parsed = _parsed(a, unit)
        if _bridged_factor(a, parsed, internal) is None:
            why = "does not fit this analyte"
            if "[equivalent]" in parsed.dimensionality and a.valence is None:
                why = "has no single meaning here: the analyte carries no fixed charge"
            raise _unit_error(a, unit, why)
    raise _unit_error(a, f"{from_unit} -> {to_unit}", "is not a conversion mgckd can make")


def _bridged_factor(a: Analyte, source: pint.Unit, target: pint.Unit) -> float | None:
    """Scale from `source` to `target` through the analyte's bridges; None when none fits."""
    bridges = _bridges(a)
    for exponents in itertools.product((0, 1, -1), repeat=len(bridges)):
        candidate = quantity(1.0, str(source))
        for bridge, power in zip(bridges, exponents, strict=True):
            candidate = candidate * bridge**power
        if candidate.dimensionality == target.dimensionality:
            return float(candidate.to(target).magnitude)
    return None


@overload
def convert(value: float, from_unit: str, to_unit: str, *, analyte: str) -> float: ...
@overload
def convert(
    value: ArrayLike, from_unit: str, to_unit: str, *, analyte: str
) -> NDArray[np.float64]: ...
def convert(
    value: ArrayLike, from_unit: str, to_unit: str, *, analyte: str
) -> float | NDArray[np.float64]:
    """Convert `value` of `analyte` from one unit to another; scalars stay scalars.

    Examples
    --------
    >>> convert(2.43, "mg/dL", "mmol/L", analyte="magnesium")  # doctest: +ELLIPSIS
    0.99979...
    >>> convert(1.0, "mmol/L", "mEq/L", analyte="magnesium")
    2.0
    """
    factor = conversion_factor(analyte, from_unit, to_unit)
    if np.ndim(value) == 0:
        return float(np.asarray(value, dtype=np.float64)) * factor
    return np.asarray(value, dtype=np.float64) * factor


def to_internal(value: ArrayLike, unit: str, *, analyte: str) -> float | NDArray[np.float64]:
    """Convert `value` of `analyte` from `unit` to the analyte's internal unit."""
    return convert(value, unit, _analyte_internal_unit(analyte), analyte=analyte)


def _analyte_internal_unit(name: str) -> str:
    return analyte(name).internal_unit


def parse_value(text: str) -> tuple[float, str]:
    """Split ``"2.1 mmol/L"`` into ``(2.1, "mmol/L")``; the unit may be empty.

    Raises
    ------
    UserInputError
        When `text` does not start with a number.
    """
    match = _NUMBER_THEN_UNIT.match(text)
    if match is None:
        raise UserInputError(f"{text!r} is not a number followed by a unit (e.g. '2.1 mg/dL')")
    return float(match.group(1)), match.group(2)


@cache
def unit_basis(unit: str) -> str:
    """Which LOINC basis a unit belongs to: ``mass``, ``molar``, ``ratio`` or ``ph``."""
    if unit.strip().lower() in _PH_SPELLINGS:
        return "ph"
    dimensionality = parse_unit(unit).dimensionality
    if not dimensionality or ("[substance]" in dimensionality and "[length]" not in dimensionality):
        return "ratio"
    if "[mass]" in dimensionality:
        return "mass"
    return "molar"
