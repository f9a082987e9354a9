"""Dimensional analysis of a model: every flux in species units per hour, every rule in its
declared unit, every species guess in the species' unit, every compartment volume a volume.

Each expression is evaluated with pint quantities standing for its symbols (distinct non-integer
values in each symbol's unit, so that a power of a dimensioned quantity cannot hide); a sum of
unlike units or a function of a dimensioned argument fails.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pint
import sympy

from mgckd._pint import quantity
from mgckd.model._declare import TIME, Model, sym
from mgckd.model._sbml import TIME_UNIT

_PROBE = 1.37
_GOLDEN = 0.6180339887  # probe k is 1.1 + frac(k · golden): distinct, never integer


def _probes(model: Model, problems: list[str]) -> dict[sympy.Symbol, Any]:
    values: dict[sympy.Symbol, Any] = {TIME: quantity(_PROBE, TIME_UNIT)}
    declared: list[tuple[str, str]] = [(s.name, s.unit) for s in model.species]
    declared += [(p.name, p.unit) for p in model.parameters]
    declared += [(r.name, r.unit) for r in model.rules]
    for k, (name, unit) in enumerate(declared):
        q = quantity(1.1 + (k * _GOLDEN) % 1.0, unit)
        if q.dimensionless and not math.isclose(quantity(1.0, unit).to("1").magnitude, 1.0):
            problems.append(f"{name}: dimensionless values are declared in '1', not {unit!r}")
        values[sym(name)] = q.magnitude if q.dimensionless else q
    return values


def _evaluate(expression: sympy.Expr, values: dict[sympy.Symbol, Any]) -> Any:
    symbols = sorted(expression.free_symbols, key=str)
    function = sympy.lambdify(symbols, expression, modules="numpy")
    with np.errstate(all="ignore"):
        return function(*(values[s] for s in symbols))


def _unit_of(value: Any) -> Any:
    return value.units if isinstance(value, pint.Quantity) else quantity(1.0, "1").units


def unit_problems(model: Model) -> list[str]:
    """Every dimensional inconsistency of `model`, one sentence each (empty when it is sound)."""
    problems: list[str] = []
    values = _probes(model, problems)
    checks: list[tuple[str, sympy.Expr, str]] = []
    species = {s.name: s for s in model.species}
    for flux in model.fluxes:
        for name, _ in flux.stoichiometry[:1]:
            checks.append((f"flux {flux.name}", flux.rate, f"{species[name].unit}/{TIME_UNIT}"))
    checks += [(f"rule {r.name}", r.expression, r.unit) for r in model.rules]
    checks += [
        (f"guess of {s.name}", sympy.sympify(s.guess), s.unit)
        for s in model.species
        if sympy.sympify(s.guess).free_symbols
    ]
    for compartment in model.compartments:
        if compartment.volume is not None:
            checks.append((f"volume of {compartment.name}", sym(compartment.volume), "L"))
    for where, expression, expected in checks:
        try:
            value = _evaluate(sympy.sympify(expression), values)
            got = _unit_of(value)
        except (
            pint.DimensionalityError,
            pint.errors.PintTypeError,
            TypeError,
            ValueError,
        ) as error:
            problems.append(f"{where}: {error}")
            continue
        target = quantity(1.0, expected)
        if got.dimensionality != target.dimensionality:
            problems.append(f"{where}: unit {got:~} is not {expected}")
        elif not math.isclose(quantity(1.0, str(got)).to(target.units).magnitude, 1.0):
            problems.append(f"{where}: unit {got:~} is {expected} only up to a factor")
    return problems
