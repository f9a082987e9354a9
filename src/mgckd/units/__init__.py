"""Clinical units: one correct way to move Mg, Ca, phosphate and friends between units.

Mass (mg/dL), molar (mmol/L) and charge (mEq/L) concentrations are bridged by the analyte's
molar mass and valence, never by a bare number in code. Vectorized over numpy arrays.

>>> from mgckd.units import convert
>>> round(convert(2.43, "mg/dL", "mEq/L", analyte="magnesium"), 2)
2.0
"""

from mgckd.units._analytes import Analyte, analyte, analytes
from mgckd.units._convert import conversion_factor, convert, parse_value, to_internal, unit_basis

__all__ = [
    "Analyte",
    "analyte",
    "analytes",
    "conversion_factor",
    "convert",
    "parse_value",
    "to_internal",
    "unit_basis",
]
