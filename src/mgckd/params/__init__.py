"""The parameter registry: every number the models use, with unit, source and status.

>>> from mgckd.params import parameters
>>> parameters()["molar_mass_magnesium"].to("g/mol")
24.305
"""

from mgckd.params._parameter import Parameter, Status, is_citable
from mgckd.params._registry import ParameterSet, parameters, parse_entry

__all__ = ["Parameter", "ParameterSet", "Status", "is_citable", "parameters", "parse_entry"]
