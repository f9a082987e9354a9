"""Export a model to SBML Level 3 Version 2 (python-libsbml, the ``peers`` extra).

Species are amounts (``hasOnlySubstanceUnits``), so the SBML kinetic laws are the model's flux
expressions as they stand; rules become assignment rules on parameters of the same id; every
parameter carries its unit. What SBML cannot express raises `SBMLExportError`.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Mapping
from typing import Any, cast

import sympy

from mgckd._pint import quantity
from mgckd.exceptions import SBMLExportError
from mgckd.model._declare import TIME, Model

SBML_LEVEL = 3
SBML_VERSION = 2
TIME_UNIT = "h"
_BASE_KINDS = {
    "meter": "metre",
    "kilogram": "kilogram",
    "second": "second",
    "mole": "mole",
    "ampere": "ampere",
    "kelvin": "kelvin",
}
_FUNCTIONS: dict[Any, str] = {
    sympy.exp: "exp",
    sympy.log: "ln",
    sympy.tanh: "tanh",
    sympy.sinh: "sinh",
    sympy.cosh: "cosh",
    sympy.Abs: "abs",
    sympy.Max: "max",
    sympy.Min: "min",
}
_RELATIONS = {
    sympy.StrictGreaterThan: ">",
    sympy.GreaterThan: ">=",
    sympy.StrictLessThan: "<",
    sympy.LessThan: "<=",
}


def libsbml() -> Any:
    """The libsbml module, or `SBMLExportError` saying how to install it."""
    try:
        return importlib.import_module("libsbml")
    except ImportError:
        raise SBMLExportError(
            "SBML export needs python-libsbml: pip install -e '.[peers]'"
        ) from None


def _joined(separator: str) -> Callable[[sympy.Basic], str]:
    return lambda e: "(" + separator.join(infix(a) for a in e.args) + ")"


def _piecewise(e: sympy.Basic) -> str:
    pieces: list[str] = []
    for value, condition in e.args:
        pieces += [infix(value)] if condition == sympy.true else [infix(value), infix(condition)]
    return "piecewise(" + ", ".join(pieces) + ")"


def _atom(e: sympy.Basic) -> str | None:
    """Symbols and numbers in L3 syntax; None for anything else."""
    if isinstance(e, sympy.Symbol):
        return "time" if e == TIME else str(e)
    if isinstance(e, sympy.Integer):
        return str(int(e))
    if isinstance(e, sympy.Rational):
        return f"({int(e.p)} / {int(e.q)})"
    if isinstance(e, sympy.Float | sympy.NumberSymbol):
        return repr(float(e))
    return None


_COMPOUND: dict[Any, Callable[[Any], str]] = {
    sympy.Add: _joined(" + "),
    sympy.Mul: _joined(" * "),
    sympy.And: _joined(" && "),
    sympy.Or: _joined(" || "),
    sympy.Pow: lambda e: f"({infix(e.args[0])})^({infix(e.args[1])})",
    sympy.Piecewise: _piecewise,
}


def infix(expression: sympy.Basic) -> str:
    """`expression` in SBML's L3 infix syntax (what ``libsbml.parseL3Formula`` reads)."""
    e = sympy.sympify(expression)
    atom = _atom(e)
    if atom is not None:
        return atom
    for kind, write in _COMPOUND.items():
        if isinstance(e, kind):
            return write(e)
    if type(e) in _RELATIONS:
        return f"({infix(e.lhs)} {_RELATIONS[type(e)]} {infix(e.rhs)})"
    for function, name in _FUNCTIONS.items():
        if isinstance(e, function):
            return f"{name}(" + ", ".join(infix(a) for a in e.args) + ")"
    raise SBMLExportError(
        f"SBML export: {type(e).__name__} (in {e}) has no SBML counterpart; use +, -, *, /, ^, "
        f"{', '.join(sorted(set(_FUNCTIONS.values())))}, piecewise and comparisons"
    )


def math_ast(expression: sympy.Expr) -> Any:
    """The libsbml AST of `expression`."""
    sbml = libsbml()
    text = infix(expression)
    ast = sbml.parseL3Formula(text)
    if ast is None:
        raise SBMLExportError(
            f"SBML export: libsbml cannot parse {text!r}: {sbml.getLastParseL3Error()}"
        )
    return ast


class _Units:
    """Unit definitions of a document, one per distinct unit string."""

    def __init__(self, model: Any) -> None:
        self._model = model
        self._ids: dict[str, str] = {}

    def __call__(self, unit: str) -> str:
        if unit in self._ids:
            return self._ids[unit]
        sbml = libsbml()
        base = quantity(1.0, unit).to_base_units()
        dimensions = dict(base.unit_items())
        unknown = set(dimensions) - set(_BASE_KINDS)
        if unknown:
            raise SBMLExportError(
                f"SBML export: unit {unit!r} uses {sorted(unknown)}, which SBML has no unit for"
            )
        definition = self._model.createUnitDefinition()
        unit_id = f"unit_{len(self._ids)}"
        definition.setId(unit_id)
        definition.setName(unit)
        for name, exponent in dimensions.items():
            part = definition.createUnit()
            part.setKind(sbml.UnitKind_forName(_BASE_KINDS[name]))
            part.setExponent(float(cast(float, exponent)))
            part.setScale(0)
            part.setMultiplier(1.0)
        factor = cast(float, base.magnitude)
        if factor != 1.0 or not dimensions:
            part = definition.createUnit()
            part.setKind(sbml.UNIT_KIND_DIMENSIONLESS)
            part.setExponent(1.0)
            part.setScale(0)
            part.setMultiplier(factor)
        self._ids[unit] = unit_id
        return unit_id


def _check(status: int, what: str) -> None:
    if status != libsbml().LIBSBML_OPERATION_SUCCESS:
        raise SBMLExportError(f"SBML export: libsbml refused {what} (code {status})")


def sbml_document(
    model: Model,
    *,
    parameters: Mapping[str, float],
    initial_amounts: Mapping[str, float],
    variable_parameters: frozenset[str] = frozenset(),
) -> Any:
    """The SBML document of `model` for one patient.

    Parameters
    ----------
    model : the declarative model.
    parameters : the value of every parameter (model units).
    initial_amounts : the initial amount of every species.
    variable_parameters : parameters that events change (written ``constant="false"``).
    """
    document = libsbml().SBMLDocument(SBML_LEVEL, SBML_VERSION)
    doc = document.createModel()
    doc.setId(model.name)
    doc.setName(model.description[:200] or model.name)
    units = _Units(doc)
    doc.setTimeUnits(units(TIME_UNIT))
    _write_compartments(doc, model, parameters, units)
    _write_species(doc, model, initial_amounts, units)
    _write_parameters(doc, model, parameters, variable_parameters, units)
    _write_reactions(doc, model)
    return document


def _write_compartments(
    doc: Any, model: Model, parameters: Mapping[str, float], units: _Units
) -> None:
    for item in model.compartments:
        compartment = doc.createCompartment()
        compartment.setId(item.name)
        compartment.setConstant(True)
        compartment.setSpatialDimensions(3.0)
        if item.volume is None:
            compartment.setSize(1.0)
            compartment.setUnits(units("L"))
        else:
            compartment.setSize(_finite(parameters[item.volume], f"volume {item.volume}"))
            compartment.setUnits(units(model.get(item.volume).unit))  # type: ignore[union-attr]


def _write_species(
    doc: Any, model: Model, initial_amounts: Mapping[str, float], units: _Units
) -> None:
    for species in model.species:
        s = doc.createSpecies()
        s.setId(species.name)
        s.setCompartment(species.compartment)
        s.setHasOnlySubstanceUnits(True)
        s.setBoundaryCondition(False)
        s.setConstant(False)
        s.setInitialAmount(_finite(initial_amounts[species.name], f"species {species.name}"))
        s.setSubstanceUnits(units(species.unit))


def _write_parameters(
    doc: Any,
    model: Model,
    parameters: Mapping[str, float],
    variable_parameters: frozenset[str],
    units: _Units,
) -> None:
    """Parameters (constant unless an event changes them) and rules (assignment rules)."""
    for param in model.parameters:
        q = doc.createParameter()
        q.setId(param.name)
        q.setValue(_finite(parameters[param.name], f"parameter {param.name}"))
        q.setUnits(units(param.unit))
        q.setConstant(param.name not in variable_parameters)
    for rule in model.rules:
        q = doc.createParameter()
        q.setId(rule.name)
        q.setConstant(False)
        q.setUnits(units(rule.unit))
        assignment = doc.createAssignmentRule()
        assignment.setVariable(rule.name)
        _check(assignment.setMath(math_ast(rule.expression)), f"rule {rule.name}")


def _write_reactions(doc: Any, model: Model) -> None:
    """One irreversible reaction per flux, its rate law the flux expression as declared."""
    species_names = set(model.species_names)
    for flux in model.fluxes:
        reaction = doc.createReaction()
        reaction.setId(flux.name)
        reaction.setReversible(False)
        touched = set()
        for name, coefficient in flux.stoichiometry:
            ref = reaction.createReactant() if coefficient < 0 else reaction.createProduct()
            ref.setSpecies(name)
            ref.setStoichiometry(abs(coefficient))
            ref.setConstant(True)
            touched.add(name)
        used = {str(s) for s in model.expanded(flux.rate).free_symbols} & species_names
        for name in sorted(used - touched):
            reaction.createModifier().setSpecies(name)
        law = reaction.createKineticLaw()
        _check(law.setMath(math_ast(flux.rate)), f"flux {flux.name}")


def _finite(value: float, what: str) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise SBMLExportError(f"SBML export: {what} is {number}; SBML values must be finite")
    return number


def document_string(document: Any) -> str:
    """The document as SBML text, after libsbml's consistency check found no error."""
    sbml = libsbml()
    document.setConsistencyChecks(sbml.LIBSBML_CAT_UNITS_CONSISTENCY, False)
    document.checkConsistency()
    errors = [
        document.getError(i).getMessage()
        for i in range(document.getNumErrors())
        if document.getError(i).getSeverity() >= sbml.LIBSBML_SEV_ERROR
    ]
    if errors:
        raise SBMLExportError("SBML export: libsbml found errors: " + " | ".join(errors[:5]))
    text: str = sbml.writeSBMLToString(document)
    return text
