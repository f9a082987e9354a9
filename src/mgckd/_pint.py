"""The one pint unit registry all of mgckd shares (quantities of two registries do not mix)."""

from __future__ import annotations

from functools import cache
from typing import Any

import pint

# Equivalents get a dimension of their own, so that mEq/L can never be mistaken for mmol/L;
# the analyte's valence, applied by mgckd.units, is the only bridge between the two.
_EQUIVALENT = "equivalent = [equivalent] = eq = Eq"


@cache
def registry() -> pint.UnitRegistry[Any]:
    """Build the shared registry on first use (about 0.3 s), not at import."""
    ureg: pint.UnitRegistry[Any] = pint.UnitRegistry(autoconvert_offset_to_baseunit=False)
    ureg.define(_EQUIVALENT)
    return ureg


def quantity(magnitude: Any, unit: str) -> pint.Quantity[Any]:
    """A quantity of the shared registry; raises pint's errors for a unit it cannot parse."""
    return registry().Quantity(magnitude, parse_unit(unit))


@cache
def parse_unit(unit: str) -> pint.Unit:
    """Parse a unit string, accepting both the micro sign and the Greek mu."""
    return registry().Unit(unit.strip().replace("µ", "u").replace("μ", "u"))
