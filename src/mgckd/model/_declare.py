"""The declarations of a compartmental model: compartments, species, parameters, fluxes, rules.

A `Model` only declares; nothing here computes. Fluxes and rules are sympy expressions in the
symbols of the model (`sym`), so that one definition yields the numeric right-hand side, its
Jacobian and the SBML export (``_codegen.py``, ``_sbml.py``).
"""

from __future__ import annotations

import keyword
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

import sympy

from mgckd.exceptions import ModelDefinitionError

TIME = sympy.Symbol("time")
"""The model's time symbol (hours), ``time`` in SBML."""

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_RESERVED = frozenset({"time", "numpy", "functools", "y", "p", "t", "out"})


def sym(name: str) -> sympy.Symbol:
    """The sympy symbol of a model name (species, parameter or rule), without assumptions."""
    return sympy.Symbol(name)


def _check_name(name: str, what: str) -> None:
    if not _NAME.match(name) or keyword.iskeyword(name) or name in _RESERVED:
        raise ModelDefinitionError(
            f"{what} name {name!r} must start with a letter, hold only letters, digits and '_', "
            f"and not be a Python keyword or one of {sorted(_RESERVED)}"
        )


@dataclass(frozen=True, slots=True)
class Compartment:
    """A space holding species; its volume is a parameter (so it can differ between patients),
    or None for a space whose amounts are never read as concentrations (gut lumen, bone).

    Attributes
    ----------
    name : identifier (also the SBML compartment id).
    volume : name of the `Param` holding the volume, in litres; None when no rate uses it
        (SBML then gets a nominal size of 1 L, which nothing reads).
    description : what the space is.
    """

    name: str
    volume: str | None
    description: str = ""


@dataclass(frozen=True, slots=True)
class Species:
    """An amount the model integrates (a state).

    Attributes
    ----------
    name : identifier; the symbol stands for the amount (not a concentration).
    compartment : the compartment it lives in.
    unit : amount unit (``mmol`` for minerals, ``pmol`` for hormones).
    element : the element whose amount it is (``"Mg"``, ``"Ca"``, ``"P"``), for mass balance;
        None for things that are not conserved (hormones, cells).
    guess : a starting guess for the steady-state solver, an expression of parameters in `unit`.
    description : what it is.
    """

    name: str
    compartment: str
    guess: sympy.Expr | float
    unit: str = "mmol"
    element: str | None = None
    description: str = ""


@dataclass(frozen=True, slots=True)
class Param:
    """A constant of the model (per patient: overridable with an array).

    Exactly one of `registry` (the parameter registry name, `mgckd.params`) and `value` is given;
    a registry value is converted to `unit` when the model is compiled. Models of mgckd use the
    registry only; `value` is for models declared outside it (tests, a user's own model).

    Attributes
    ----------
    name : identifier used in the equations.
    unit : the unit the equations use it in (pint-parsable).
    registry : name in the parameter registry.
    value : a value in `unit`, when the number is not in the registry.
    description : what it is (defaults to the registry's description).
    """

    name: str
    unit: str
    registry: str | None = None
    value: float | None = None
    description: str = ""


@dataclass(frozen=True, slots=True)
class Flux:
    """A rate (amount per hour) and the species it changes, with their coefficients.

    A transfer moves an amount from one species to another (coefficients -1 and +1); a flux whose
    coefficients all have one sign exchanges with the outside (intake, excretion): a *boundary*
    flux, which the solver books in a ledger for mass balance.

    Attributes
    ----------
    name : identifier (the SBML reaction id).
    rate : the rate, an expression in amount-of-species units per hour.
    stoichiometry : ``(species, coefficient)`` pairs.
    description : what it is.
    """

    name: str
    rate: sympy.Expr
    stoichiometry: tuple[tuple[str, float], ...]
    description: str = ""

    @classmethod
    def transfer(
        cls,
        name: str,
        rate: sympy.Expr,
        *,
        source: str | None,
        target: str | None,
        description: str = "",
    ) -> Flux:
        """A flux moving `rate` from `source` to `target` (None: the outside of the body)."""
        pairs = [(s, c) for s, c in ((source, -1.0), (target, 1.0)) if s is not None]
        if not pairs:
            raise ModelDefinitionError(f"flux {name!r} needs a source or a target")
        return cls(name, rate, tuple(pairs), description)


@dataclass(frozen=True, slots=True)
class Rule:
    """A named expression: an intermediate of the equations, or an observable.

    Attributes
    ----------
    name : identifier (an SBML assignment rule on a parameter of that id).
    expression : sympy expression of species, parameters, other rules and `TIME`.
    unit : the unit of the expression as the equations compute it.
    description : what it is; for an observable, its clinical definition and reference range.
    observable : True for a clinical output reported in results.
    report_unit : the unit results report it in (default: `unit`); name such a rule after its
        report unit (``urine_mg_mmol_d`` computed in mmol/h, reported in mmol/d). A rule with a
        report unit of its own is an output only: no flux or other rule may use it.
    """

    name: str
    expression: sympy.Expr
    unit: str
    description: str = ""
    observable: bool = False
    report_unit: str | None = None


@dataclass(frozen=True, slots=True)
class Ledger:
    """A boundary flux booked for one element: its cumulative amount is integrated alongside.

    `coefficient` is the net amount of `element` the flux adds to the body per unit rate
    (positive: intake; negative: excretion).
    """

    flux: str
    element: str
    coefficient: float

    @property
    def name(self) -> str:
        """``<flux>_<element>``: the ledger's column name in results."""
        return f"{self.flux}_{self.element}"


@dataclass(frozen=True)
class Model:
    """A declarative compartmental model; construction checks it (`ModelDefinitionError`).

    Attributes
    ----------
    name : identifier (the SBML model id).
    compartments, species, parameters, fluxes, rules : the declarations, in order.
    description : one paragraph on what the model is.
    """

    name: str
    compartments: tuple[Compartment, ...]
    species: tuple[Species, ...]
    parameters: tuple[Param, ...]
    fluxes: tuple[Flux, ...]
    rules: tuple[Rule, ...] = ()
    description: str = ""
    _rule_order: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _check_name(self.name, "model")
        names: dict[str, str] = {}
        for kind, items in (
            ("compartment", self.compartments),
            ("species", self.species),
            ("parameter", self.parameters),
            ("flux", self.fluxes),
            ("rule", self.rules),
        ):
            for item in items:
                _check_name(item.name, kind)
                if item.name in names:
                    raise ModelDefinitionError(
                        f"model {self.name!r}: {kind} {item.name!r} reuses the name of a "
                        f"{names[item.name]}"
                    )
                names[item.name] = kind
        self._check_parameters()
        object.__setattr__(self, "_rule_order", self._order_rules())
        self._check_references()
        self._check_fluxes()
        self._check_outputs()

    # --- checks -----------------------------------------------------------------------------

    def _check_parameters(self) -> None:
        for param in self.parameters:
            if (param.registry is None) == (param.value is None):
                raise ModelDefinitionError(
                    f"parameter {param.name!r}: give exactly one of registry= and value="
                )
            if param.value is not None and not math.isfinite(param.value):
                raise ModelDefinitionError(f"parameter {param.name!r}: value must be finite")
        params = {p.name for p in self.parameters}
        compartments = {c.name for c in self.compartments}
        for compartment in self.compartments:
            if compartment.volume is not None and compartment.volume not in params:
                raise ModelDefinitionError(
                    f"compartment {compartment.name!r}: volume {compartment.volume!r} is not a "
                    "parameter of the model"
                )
        for species in self.species:
            if species.compartment not in compartments:
                raise ModelDefinitionError(
                    f"species {species.name!r}: compartment {species.compartment!r} is not declared"
                )

    def _check_references(self) -> None:
        known = {sym(n) for n in self.species_names + self.parameter_names + self.rule_names}
        known.add(TIME)
        expressions: list[tuple[str, sympy.Expr]] = [
            (f"flux {f.name!r}", f.rate) for f in self.fluxes
        ]
        expressions += [(f"rule {r.name!r}", r.expression) for r in self.rules]
        expressions += [
            (f"guess of species {s.name!r}", sympy.sympify(s.guess)) for s in self.species
        ]
        for where, expression in expressions:
            unknown = sympy.sympify(expression).free_symbols - known
            if unknown:
                raise ModelDefinitionError(
                    f"model {self.name!r}, {where}: unknown symbol(s) "
                    f"{', '.join(sorted(str(s) for s in unknown))}"
                )
        parameters = {sym(n) for n in self.parameter_names}
        for species in self.species:
            free = self.expanded(sympy.sympify(species.guess)).free_symbols
            if free - parameters:
                raise ModelDefinitionError(
                    f"species {species.name!r}: its guess may use parameters (and rules of "
                    "parameters) only"
                )

    def _check_fluxes(self) -> None:
        species = {s.name: s for s in self.species}
        for flux in self.fluxes:
            if not flux.stoichiometry:
                raise ModelDefinitionError(f"flux {flux.name!r} changes no species")
            for name, coefficient in flux.stoichiometry:
                if name not in species:
                    raise ModelDefinitionError(
                        f"flux {flux.name!r}: species {name!r} is not declared"
                    )
                if coefficient == 0 or not math.isfinite(coefficient):
                    raise ModelDefinitionError(
                        f"flux {flux.name!r}: coefficient of {name!r} must be finite and non-zero"
                    )
            signs = {coefficient > 0 for _, coefficient in flux.stoichiometry}
            units = {species[name].unit for name, _ in flux.stoichiometry}
            if len(units) > 1:
                raise ModelDefinitionError(
                    f"flux {flux.name!r} joins species of different units {sorted(units)}"
                )
            if len(signs) == 2:  # an internal transfer must balance every element
                unbalanced = {
                    element: net for element, net in _element_net(flux, species).items() if net
                }
                kinds = {species[n].element is None for n, _ in flux.stoichiometry}
                if unbalanced or len(kinds) > 1:
                    raise ModelDefinitionError(
                        f"flux {flux.name!r} moves amounts between species but does not balance "
                        f"every element (net {unbalanced or 'mixes element and non-element'}): "
                        "balance it, or split it into intake and excretion fluxes"
                    )

    def _check_outputs(self) -> None:
        outputs = {sym(r.name) for r in self.rules if r.report_unit not in (None, r.unit)}
        users = [(f"flux {f.name!r}", f.rate) for f in self.fluxes]
        users += [(f"rule {r.name!r}", r.expression) for r in self.rules]
        for where, expression in users:
            used = outputs & sympy.sympify(expression).free_symbols
            if used:
                raise ModelDefinitionError(
                    f"model {self.name!r}, {where} uses output-only rule(s) "
                    f"{', '.join(sorted(map(str, used)))} (they carry a report unit of their own)"
                )

    def _order_rules(self) -> tuple[str, ...]:
        """Rule names, each after the rules it uses; a cycle is an error."""
        rule_names = set(self.rule_names)
        needs = {
            r.name: {str(s) for s in r.expression.free_symbols} & rule_names for r in self.rules
        }
        order: list[str] = []
        done: set[str] = set()
        while needs:
            ready = [name for name, deps in needs.items() if deps <= done]
            if not ready:
                raise ModelDefinitionError(
                    f"model {self.name!r}: rules depend on each other in a cycle: "
                    f"{', '.join(sorted(needs))}"
                )
            for name in ready:
                order.append(name)
                done.add(name)
                del needs[name]
        return tuple(order)

    # --- views ------------------------------------------------------------------------------

    @property
    def species_names(self) -> tuple[str, ...]:
        """Species names, in state-vector order."""
        return tuple(s.name for s in self.species)

    @property
    def parameter_names(self) -> tuple[str, ...]:
        """Parameter names, in parameter-array order."""
        return tuple(p.name for p in self.parameters)

    @property
    def rule_names(self) -> tuple[str, ...]:
        """Rule names, in declaration order."""
        return tuple(r.name for r in self.rules)

    @property
    def flux_names(self) -> tuple[str, ...]:
        """Flux names, in declaration order."""
        return tuple(f.name for f in self.fluxes)

    @property
    def elements(self) -> tuple[str, ...]:
        """The elements whose mass balance the model keeps, sorted."""
        return tuple(sorted({s.element for s in self.species if s.element is not None}))

    @cached_property
    def ledgers(self) -> tuple[Ledger, ...]:
        """One ledger per boundary flux and element it brings in or takes out."""
        species = {s.name: s for s in self.species}
        return tuple(
            Ledger(flux.name, element, net)
            for flux in self.fluxes
            for element, net in _element_net(flux, species).items()
            if net != 0
        )

    def get(self, name: str) -> Species | Param | Rule | Flux | Compartment:
        """The declaration called `name`."""
        for items in (self.species, self.parameters, self.rules, self.fluxes, self.compartments):
            for item in items:
                if item.name == name:
                    return item
        raise KeyError(f"model {self.name!r} declares nothing called {name!r}")

    def expanded(self, expression: sympy.Expr) -> sympy.Expr:
        """`expression` with every rule replaced by its definition (recursively)."""
        return sympy.sympify(expression).xreplace(self._rule_definitions)

    @cached_property
    def _rule_definitions(self) -> Mapping[sympy.Symbol, sympy.Expr]:
        definitions: dict[sympy.Symbol, sympy.Expr] = {}
        by_name = {r.name: r for r in self.rules}
        for name in self._rule_order:
            definitions[sym(name)] = by_name[name].expression.xreplace(definitions)
        return definitions

    @property
    def rule_order(self) -> tuple[str, ...]:
        """Rules in an order where each comes after the rules it uses."""
        return self._rule_order

    def species_of(self, element: str) -> tuple[str, ...]:
        """Names of the species holding `element`."""
        return tuple(s.name for s in self.species if s.element == element)


def _element_net(flux: Flux, species: Mapping[str, Species]) -> dict[str, float]:
    net: dict[str, float] = {}
    for name, coefficient in flux.stoichiometry:
        element = species[name].element
        if element is not None:
            net[element] = net.get(element, 0.0) + coefficient
    return net
