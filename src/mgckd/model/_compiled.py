"""Compile a declarative `Model` into vectorized numpy functions: right-hand side, analytic
Jacobian, time derivative, fluxes, ledgers (boundary fluxes for mass balance) and rules.

The source of every function is generated from the one declaration (`CompiledModel.source`);
nothing is written by hand twice.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import sympy
from numpy.typing import ArrayLike, NDArray

from mgckd._atomic import write_text_atomic
from mgckd._pint import quantity
from mgckd.exceptions import ModelDefinitionError, ScenarioError
from mgckd.model import _codegen, _declare
from mgckd.model._codegen import (
    GeneratedFunction,
    build,
    function_source,
    hoist_parameter_terms,
    kernel_source,
    state_bindings,
)
from mgckd.model._declare import TIME, Model, Param, sym
from mgckd.model._kernel import cache_dir, load_kernel
from mgckd.params import parameters as registry

FloatArray = NDArray[np.float64]

_ARGS = ("t", "y", "p")
_COLUMNS = "y.shape[1]"


@dataclass(frozen=True, eq=False)
class CompiledModel:
    """The generated numeric form of a `Model`.

    Every function takes ``(t, y, p)``: time in hours (scalar or one per patient), states
    (n_species, n_patients) in the species' units, parameters (n_parameters, n_patients) in the
    parameters' units, and returns one row per output:

    - ``rhs``: d(species)/dt, (n_species, n).
    - ``jacobian``: the non-zero entries of d rhs / d y, (nnz, n), at ``jacobian_rows/cols``.
    - ``time_derivative``: ∂ rhs / ∂t, (n_species, n) (zeros for an autonomous model).
    - ``fluxes``: every flux's rate, (n_fluxes, n).
    - ``ledger_rates``: the rate of each ledger (coefficient × its flux), (n_ledgers, n), and
      ``ledger_jacobian`` its non-zero derivatives by the states at ``ledger_rows/cols``.
    - ``rules``: every rule's value in its unit, (n_rules, n).

    ``guess(p)`` gives the steady-state solver's starting states; ``report_factors`` turn each
    rule from its unit into its report unit. ``kernel_source`` is the same right-hand side,
    ledgers and derivatives for one patient, compiled by `mgckd.model.load_kernel`.
    """

    model: Model
    default_parameters: FloatArray
    stoichiometry: FloatArray
    jacobian_rows: NDArray[np.intp]
    jacobian_cols: NDArray[np.intp]
    ledger_rows: NDArray[np.intp]
    ledger_cols: NDArray[np.intp]
    autonomous: bool
    report_factors: FloatArray
    source: str
    functions: Mapping[str, GeneratedFunction]
    kernel_source: str
    derived_parameters: int

    @property
    def species(self) -> tuple[str, ...]:
        """State names, in row order."""
        return self.model.species_names

    @property
    def parameters(self) -> tuple[str, ...]:
        """Parameter names, in row order."""
        return self.model.parameter_names

    @property
    def n_species(self) -> int:
        """Number of states."""
        return len(self.model.species)

    @property
    def kernel(self) -> ModuleType:
        """The compiled per-patient functions ``derive_into(p)``, ``rates_into(t, y, p, out)``,
        ``linearize_into(t, y, p, jac, ledger_jac, ft, bt)`` (dense outputs, filled in place;
        entries outside the sparsity pattern are left as they are) and
        ``rules_into(t, y, p, out)`` (rules in their model units). Their ``p`` is a patient's
        parameters followed by `derived_parameters` slots, which ``derive_into`` fills from
        the parameters and must refill whenever one changes (`kernel_parameters`)."""
        return load_kernel(self.kernel_source)

    def kernel_parameters(self, p: FloatArray) -> FloatArray:
        """Parameters (n_parameters, n) with the kernel's derived slots appended (NaN until
        ``derive_into`` fills them): (n_parameters + derived_parameters, n)."""
        return np.vstack([p, np.full((self.derived_parameters, p.shape[1]), np.nan)])

    def _run(self, name: str, t: Any, y: FloatArray, p: FloatArray) -> FloatArray:
        out: FloatArray = self.functions[name](t, y, p)
        return out

    def rhs(self, t: Any, y: FloatArray, p: FloatArray) -> FloatArray:
        """d(species)/dt, amount per hour, (n_species, n)."""
        return self._run("rhs", t, y, p)

    def rates(self, t: Any, y: FloatArray, p: FloatArray) -> FloatArray:
        """`rhs` and `ledger_rates` stacked, computed together, (n_species + n_ledgers, n)."""
        return self._run("rates", t, y, p)

    def jacobian_values(self, t: Any, y: FloatArray, p: FloatArray) -> FloatArray:
        """Non-zero Jacobian entries (nnz, n) at (`jacobian_rows`, `jacobian_cols`)."""
        return self._run("jacobian", t, y, p)

    def jacobian(self, t: Any, y: FloatArray, p: FloatArray) -> FloatArray:
        """The dense Jacobian per patient, (n, n_species, n_species)."""
        values = self.jacobian_values(t, y, p)
        dense = np.zeros((y.shape[1], self.n_species, self.n_species))
        dense[:, self.jacobian_rows, self.jacobian_cols] = values.T
        return dense

    def time_derivative(self, t: Any, y: FloatArray, p: FloatArray) -> FloatArray:
        """∂ rhs / ∂ time, (n_species, n)."""
        return self._run("time_derivative", t, y, p)

    def fluxes(self, t: Any, y: FloatArray, p: FloatArray) -> FloatArray:
        """Every flux's rate, (n_fluxes, n)."""
        return self._run("fluxes", t, y, p)

    def ledger_rates(self, t: Any, y: FloatArray, p: FloatArray) -> FloatArray:
        """Rate of each ledger (net element into the body), (n_ledgers, n)."""
        return self._run("ledger_rates", t, y, p)

    def ledger_jacobian_values(self, t: Any, y: FloatArray, p: FloatArray) -> FloatArray:
        """Non-zero ledger Jacobian entries (nnz, n) at (`ledger_rows`, `ledger_cols`)."""
        return self._run("ledger_jacobian", t, y, p)

    def ledger_jacobian(self, t: Any, y: FloatArray, p: FloatArray) -> FloatArray:
        """Dense d ledger_rates / d y per patient, (n, n_ledgers, n_species)."""
        values = self.ledger_jacobian_values(t, y, p)
        dense = np.zeros((y.shape[1], len(self.model.ledgers), self.n_species))
        dense[:, self.ledger_rows, self.ledger_cols] = values.T
        return dense

    def ledger_time_derivative(self, t: Any, y: FloatArray, p: FloatArray) -> FloatArray:
        """∂ ledger_rates / ∂ time, (n_ledgers, n)."""
        return self._run("ledger_time_derivative", t, y, p)

    def rules(self, t: Any, y: FloatArray, p: FloatArray) -> FloatArray:
        """Every rule's value in its declared unit, (n_rules, n)."""
        return self._run("rules", t, y, p)

    def reported_rules(self, t: Any, y: FloatArray, p: FloatArray) -> FloatArray:
        """Every rule's value in its report unit, (n_rules, n)."""
        return self.rules(t, y, p) * self.report_factors[:, None]

    def guess(self, p: FloatArray) -> FloatArray:
        """Starting states for the steady-state solver, (n_species, n)."""
        y = np.zeros((self.n_species, p.shape[1]))
        return self._run("guess", 0.0, y, p)

    def parameter_array(
        self, overrides: Mapping[str, ArrayLike] | None = None, n_patients: int = 1
    ) -> FloatArray:
        """Parameters (n_parameters, n_patients): the defaults with `overrides` (by name, in the
        parameter's unit; a scalar or one value per patient) put in.

        Raises
        ------
        ScenarioError
            For an unknown name, a wrong length or a non-finite value.
        """
        p = np.repeat(self.default_parameters[:, None], n_patients, axis=1)
        index = {name: i for i, name in enumerate(self.parameters)}
        for name, value in (overrides or {}).items():
            if name not in index:
                raise ScenarioError(
                    f"parameters.{name}: model {self.model.name!r} has no parameter {name!r}"
                )
            array = np.asarray(value, dtype=float)
            if array.ndim > 1 or (array.ndim == 1 and array.size != n_patients):
                raise ScenarioError(
                    f"parameters.{name}: give a scalar or {n_patients} values (one per patient), "
                    f"not shape {array.shape}"
                )
            if not np.all(np.isfinite(array)):
                raise ScenarioError(f"parameters.{name}: values must be finite, got {value!r}")
            p[index[name]] = array
        return p


def parameter_value(model: Model, name: str) -> float:
    """The default value of parameter `name` in its model unit (the registry's, converted)."""
    param = model.get(name)
    if not isinstance(param, Param):
        raise KeyError(f"{name!r} is not a parameter of model {model.name!r}")
    if param.registry is None:
        return float(param.value or 0.0)  # the model checked that value is set
    registry_name = param.registry
    entry = registry()[registry_name]
    try:
        return float(entry.quantity.to(quantity(1.0, param.unit).units).magnitude)
    except Exception as error:
        raise ModelDefinitionError(
            f"parameter {name!r}: registry entry {registry_name!r} ({entry.value} {entry.unit}) "
            f"cannot be expressed in {param.unit!r}: {error}"
        ) from None


def _number(value: float) -> sympy.Expr:
    """A coefficient as an exact integer when it is one (so ``-x``, not ``-1.0*x``)."""
    return sympy.Integer(int(value)) if float(value).is_integer() else sympy.Float(value)


def _sparse(matrix: sympy.Matrix) -> tuple[list[sympy.Expr], list[int], list[int]]:
    values, rows, cols = [], [], []
    for i in range(matrix.rows):
        for j in range(matrix.cols):
            entry = matrix[i, j]
            if entry != 0:
                values.append(entry)
                rows.append(i)
                cols.append(j)
    return values, rows, cols


@dataclass(frozen=True)
class _Generated:
    """What code generation produces from a model: source texts and index arrays (JSON-able)."""

    source: str
    kernel_source: str
    stoichiometry: list[list[float]]
    jacobian_rows: list[int]
    jacobian_cols: list[int]
    ledger_rows: list[int]
    ledger_cols: list[int]
    autonomous: bool
    derived_parameters: int


@cache
def compile_model(model: Model) -> CompiledModel:
    """Generate (or load from the cache directory), execute and bundle the numeric functions
    of `model` (cached per model in the process).

    Generation (sympy: Jacobians, common subexpressions) takes seconds for the whole-body
    model, so its output is kept on disk under a hash of the model's full declaration and of
    this generator's own source; a changed model or generator is generated anew.
    """
    generated = _load_or_generate(model)
    defaults = np.array([parameter_value(model, n) for n in model.parameter_names], dtype=float)
    return CompiledModel(
        model=model,
        default_parameters=defaults,
        stoichiometry=np.array(generated.stoichiometry, dtype=float).reshape(
            len(model.species), len(model.fluxes)
        ),
        jacobian_rows=np.array(generated.jacobian_rows, dtype=np.intp),
        jacobian_cols=np.array(generated.jacobian_cols, dtype=np.intp),
        ledger_rows=np.array(generated.ledger_rows, dtype=np.intp),
        ledger_cols=np.array(generated.ledger_cols, dtype=np.intp),
        autonomous=generated.autonomous,
        report_factors=np.array(
            [quantity(1.0, r.unit).to(r.report_unit or r.unit).magnitude for r in model.rules],
            dtype=float,
        ),
        source=generated.source,
        functions=build(generated.source),
        kernel_source=generated.kernel_source,
        derived_parameters=generated.derived_parameters,
    )


def _load_or_generate(model: Model) -> _Generated:
    """The generated code of `model` from the cache directory, generating and storing it when
    absent (a cache that cannot be written only costs the time)."""
    generator = "".join(
        Path(module.__file__ or "").read_text(encoding="utf-8")
        for module in (_codegen, _declare, sys.modules[__name__])
    )
    digest = hashlib.sha256(f"{generator}\n{model!r}".encode()).hexdigest()[:20]
    path = cache_dir() / "models" / f"{model.name}-{digest}.json"
    try:
        return _Generated(**json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        pass  # absent, unreadable or of another layout: generate anew
    generated = _generate(model)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(path, json.dumps(asdict(generated)))
    except OSError:
        pass  # a read-only cache: the next process generates again
    return generated


def _generate(model: Model) -> _Generated:
    """Derive every function's source from the declaration (sympy)."""
    species = [sym(n) for n in model.species_names]
    index = {n: i for i, n in enumerate(model.species_names)}
    rates = [model.expanded(f.rate) for f in model.fluxes]
    stoichiometry = np.zeros((len(species), len(rates)))
    for j, flux in enumerate(model.fluxes):
        for name, coefficient in flux.stoichiometry:
            stoichiometry[index[name], j] += coefficient
    rhs = [
        sympy.Add(*[_number(c) * rates[j] for j, c in enumerate(stoichiometry[i]) if c != 0])
        for i in range(len(species))
    ]
    rhs_matrix = sympy.Matrix(rhs)
    jacobian, rows, cols = _sparse(rhs_matrix.jacobian(species))
    time_derivative = [sympy.diff(e, TIME) for e in rhs]
    flux_index = {f.name: j for j, f in enumerate(model.fluxes)}
    ledger_rates = [
        _number(ledger.coefficient) * rates[flux_index[ledger.flux]] for ledger in model.ledgers
    ]
    ledger_jac, ledger_rows, ledger_cols = (
        _sparse(sympy.Matrix(ledger_rates).jacobian(species)) if ledger_rates else ([], [], [])
    )
    ledger_time_derivative = [sympy.diff(e, TIME) for e in ledger_rates]
    rules = [model.expanded(r.expression) for r in model.rules]
    guesses = [model.expanded(sympy.sympify(s.guess)) for s in model.species]
    bindings = state_bindings(model.species_names, model.parameter_names)
    (kernel_rates, kernel_linearized, kernel_rules), derived = hoist_parameter_terms(
        [
            rhs + ledger_rates,
            jacobian + ledger_jac + time_derivative + ledger_time_derivative,
            rules,
        ],
        [sym(n) for n in model.parameter_names],
    )
    n_parameters = len(model.parameter_names)
    kernel_bindings = bindings | {
        symbol: f"p[{n_parameters + i}]" for i, (symbol, _) in enumerate(derived)
    }
    pieces = [
        ("rhs", rhs),
        ("rates", rhs + ledger_rates),
        ("jacobian", jacobian),
        ("time_derivative", time_derivative),
        ("fluxes", rates),
        ("ledger_rates", ledger_rates),
        ("ledger_jacobian", ledger_jac),
        ("ledger_time_derivative", ledger_time_derivative),
        ("rules", rules),
        ("guess", guesses),
    ]
    source = "\n\n\n".join(
        function_source(name, _ARGS, bindings, outputs, columns=_COLUMNS)
        for name, outputs in pieces
    )
    targets = (
        [f"jac[{r}, {c}]" for r, c in zip(rows, cols, strict=True)]
        + [f"ledger_jac[{r}, {c}]" for r, c in zip(ledger_rows, ledger_cols, strict=True)]
        + [f"ft[{i}]" for i in range(len(time_derivative))]
        + [f"bt[{i}]" for i in range(len(ledger_time_derivative))]
    )
    kernel = "\n\n\n".join(
        [
            kernel_source(
                "derive_into",
                ("p",),
                bindings,
                [(f"p[{n_parameters + i}]", e) for i, (_, e) in enumerate(derived)],
            ),
            kernel_source(
                "rates_into",
                (*_ARGS, "out"),
                kernel_bindings,
                [(f"out[{i}]", e) for i, e in enumerate(kernel_rates)],
            ),
            kernel_source(
                "linearize_into",
                (*_ARGS, "jac", "ledger_jac", "ft", "bt"),
                kernel_bindings,
                list(zip(targets, kernel_linearized, strict=True)),
            ),
            kernel_source(
                "rules_into",
                (*_ARGS, "out"),
                kernel_bindings,
                [(f"out[{i}]", e) for i, e in enumerate(kernel_rules)],
            ),
        ]
    )
    return _Generated(
        source=source,
        kernel_source=kernel,
        stoichiometry=stoichiometry.tolist(),
        jacobian_rows=rows,
        jacobian_cols=cols,
        ledger_rows=ledger_rows,
        ledger_cols=ledger_cols,
        autonomous=all(e == 0 for e in time_derivative),
        derived_parameters=len(derived),
    )
