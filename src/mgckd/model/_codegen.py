"""Generate source from sympy expressions (common subexpressions shared), in two forms.

- Vectorized (`function_source`): arrays with one column per patient — states ``y``
  (n_state, n), parameters ``p`` (n_par, n), time ``t`` (a scalar or one value per patient,
  hours) — returning an array (n_output, n). The text refers to the array module as ``numpy``.
- Scalar (`kernel_source`): one patient — ``y`` (n_state,), ``p`` (n_par,), ``t`` a float —
  writing each output into a given array element (``jac[2, 5] = ...``) with the ``math``
  module, for a compiled per-patient loop (`mgckd.model.kernel`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import sympy
from sympy.printing.numpy import NumPyPrinter
from sympy.printing.pycode import PythonCodePrinter

from mgckd.model._declare import TIME

GeneratedFunction = Callable[..., Any]

_INDENT = "    "


class _Printer(NumPyPrinter):  # type: ignore[misc]  # sympy is untyped
    """numpy printer with fully qualified names (``numpy.exp``)."""

    def __init__(self) -> None:
        super().__init__({"fully_qualified_modules": True, "inline": True})


class _ScalarPrinter(PythonCodePrinter):  # type: ignore[misc]  # sympy is untyped
    """Scalar printer with fully qualified names (``math.exp``)."""

    def __init__(self) -> None:
        super().__init__({"fully_qualified_modules": True, "inline": True})


def function_source(
    name: str,
    arguments: Sequence[str],
    bindings: Mapping[sympy.Symbol, str],
    outputs: Sequence[sympy.Expr],
    *,
    columns: str,
) -> str:
    """Python source of ``def name(*arguments)`` returning `outputs` stacked as rows.

    Parameters
    ----------
    name : function name.
    arguments : its argument names (e.g. ``("t", "y", "p")``).
    bindings : where each symbol comes from, e.g. ``{mg_plasma: "y[0]"}``; only symbols the
        outputs use are bound.
    outputs : one expression per output row.
    columns : expression of the number of columns (patients), e.g. ``"y.shape[1]"``.
    """
    printer = _Printer()
    lines, reduced = _statements(bindings, outputs, printer)
    lines.append(f"{_INDENT}out = numpy.empty(({len(outputs)}, {columns}))")
    lines += [f"{_INDENT}out[{i}] = {printer.doprint(e)}" for i, e in enumerate(reduced)]
    return "\n".join([f"def {name}({', '.join(arguments)}):", *lines, f"{_INDENT}return out"])


def kernel_source(
    name: str,
    arguments: Sequence[str],
    bindings: Mapping[sympy.Symbol, str],
    assignments: Sequence[tuple[str, sympy.Expr]],
) -> str:
    """Python source of a scalar ``def name(*arguments)`` that writes each expression into its
    target (e.g. ``("jac[0, 3]", expression)``) and returns nothing."""
    printer = _ScalarPrinter()
    lines, reduced = _statements(bindings, [e for _, e in assignments], printer)
    lines += [
        f"{_INDENT}{target} = {printer.doprint(e)}"
        for (target, _), e in zip(assignments, reduced, strict=True)
    ]
    return "\n".join([f"def {name}({', '.join(arguments)}):", *lines, f"{_INDENT}return None"])


def hoist_parameter_terms(
    groups: Sequence[Sequence[sympy.Expr]], parameters: Sequence[sympy.Symbol]
) -> tuple[list[list[sympy.Expr]], list[tuple[sympy.Symbol, sympy.Expr]]]:
    """Take every subexpression that depends on parameters alone out of `groups` (lists of
    outputs), including the parameter-only factors of a product and terms of a sum.

    Returns the outputs with each such subexpression replaced by a symbol (``_d0``, ``_d1``,
    ...; one per distinct subexpression, shared across groups) and the (symbol, expression)
    definitions: a kernel computes them once whenever the parameters change, not at every
    right-hand side.
    """
    fixed = set(parameters)
    definitions: dict[sympy.Expr, sympy.Symbol] = {}

    def slot(expression: sympy.Expr) -> sympy.Expr:
        if expression.is_Atom or not isinstance(expression, sympy.Expr):
            return expression  # a number, a symbol, or a condition (not a value)
        return definitions.setdefault(expression, sympy.Symbol(f"_d{len(definitions)}"))

    @functools.cache
    def visit(expression: sympy.Expr) -> sympy.Expr:
        if expression.is_Atom:
            return expression
        if expression.free_symbols <= fixed and isinstance(expression, sympy.Expr):
            return slot(expression)
        args = expression.args
        if isinstance(expression, sympy.Add | sympy.Mul):
            constant = [a for a in args if a.free_symbols <= fixed]
            varying = [visit(a) for a in args if not a.free_symbols <= fixed]
            if constant:
                return expression.func(slot(expression.func(*constant)), *varying)
            return expression.func(*varying)
        return expression.func(*(visit(a) for a in args))

    hoisted = [[visit(sympy.sympify(e)) for e in group] for group in groups]
    return hoisted, [(symbol, e) for e, symbol in definitions.items()]


def _statements(
    bindings: Mapping[sympy.Symbol, str], outputs: Sequence[sympy.Expr], printer: Any
) -> tuple[list[str], list[sympy.Expr]]:
    """The body's binding and common-subexpression lines, and the reduced outputs."""
    replacements, reduced = sympy.cse(
        list(outputs), symbols=sympy.numbered_symbols("_c"), optimizations="basic"
    )
    used: set[sympy.Symbol] = set()
    for _, expression in replacements:
        used |= expression.free_symbols
    for expression in reduced:
        used |= sympy.sympify(expression).free_symbols
    lines = [
        f"{_INDENT}{symbol} = {source}"
        for symbol, source in sorted(bindings.items(), key=lambda kv: str(kv[0]))
        if symbol in used
    ]
    lines += [f"{_INDENT}{s} = {printer.doprint(e)}" for s, e in replacements]
    return lines, [sympy.sympify(e) for e in reduced]


def state_bindings(species: Sequence[str], parameters: Sequence[str]) -> dict[sympy.Symbol, str]:
    """Bindings of species to rows of ``y``, parameters to rows of ``p`` and time to ``t``."""
    bindings = {sympy.Symbol(n): f"y[{i}]" for i, n in enumerate(species)}
    bindings |= {sympy.Symbol(n): f"p[{i}]" for i, n in enumerate(parameters)}
    bindings[TIME] = "t"
    return bindings


def build(source: str) -> dict[str, GeneratedFunction]:
    """Execute generated `source` (with numpy bound to ``numpy``) and return the functions it
    defines, by name."""
    scope: dict[str, Any] = {"numpy": np, "functools": functools}
    before = set(scope)
    exec(compile(source, "<mgckd generated model>", "exec"), scope)  # our own generated text
    return {k: v for k, v in scope.items() if k not in before and callable(v)}
