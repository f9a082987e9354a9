"""What a trial can measure: the pluggable table of measures.

A measure turns a simulated batch into values per (save time, patient) in its internal unit.
Each says what it needs; one whose model observable or package is missing reports why
(``needs ...``) instead of producing a number. Adding a measure is adding a row to `MEASURES`.

- ``serum_mg_total``, ``serum_mg_ionized``: plasma total and ionized Mg, mmol/L (Mg model).
- ``phosphate``, ``calcium_total``, ``pth``: plasma phosphate and total Ca (mmol/L), PTH
  (pmol/L); they need the whole-body model (issue 5).
- ``t50``: in-silico T50 of the patient's plasma (`mgckd.cpp`), min, at the start and the end.
- ``cac_score``: coronary calcification, Agatston units (`mgckd.calcification`).
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
from numpy.typing import NDArray

from mgckd.chemistry import PlasmaComposition, reference_plasma
from mgckd.cpp import reference_serum, serum, simulate_t50
from mgckd.exceptions import NotAvailableError, ScenarioError
from mgckd.model import CompiledModel
from mgckd.simulate import SimulationResult

FloatArray = NDArray[np.float64]

_COMPOSITION_FIELDS = {
    "plasma_mg_total_mmol_l": "magnesium_mmol_l",
    "plasma_ca_total_mmol_l": "calcium_mmol_l",
    "plasma_pi_mmol_l": "phosphate_mmol_l",
}
"""Model observables that replace fields of the reference plasma for plasma-derived measures."""
_WHOLE_BODY = (
    "the whole-body model (mgckd.physiology.whole_body_model, issue 5): use model: whole_body"
)


@dataclass(frozen=True, slots=True)
class MeasureContext:
    """What a measure reads: the simulated batch and the reference plasma of its population."""

    result: SimulationResult
    reference_plasma: str


@dataclass(frozen=True, slots=True)
class Measure:
    """One measurable quantity.

    Attributes
    ----------
    name : identifier used in design files.
    unit : the internal unit of its values.
    analyte : the `mgckd.units` analyte for unit conversions (None: plain pint units).
    description : what it is.
    needs : the reason it cannot be computed for a model (None when it can).
    values : (save time, patient) values, NaN for failed patients.
    ends_only : True when it is computed at the first and last save time only (others NaN).
    """

    name: str
    unit: str
    analyte: str | None
    description: str
    needs: Callable[[CompiledModel], str | None]
    values: Callable[[MeasureContext], FloatArray]
    ends_only: bool = False

    def require(self, compiled: CompiledModel, where: str) -> None:
        """Raise `NotAvailableError` naming `where` when the measure cannot run."""
        reason = self.needs(compiled)
        if reason is not None:
            raise NotAvailableError(f"{where}: measure {self.name!r} needs {reason}")


def _needs_rule(rule: str, provider: str) -> Callable[[CompiledModel], str | None]:
    def needs(compiled: CompiledModel) -> str | None:
        if rule in compiled.model.rule_names:
            return None
        return f"the observable {rule} of {provider} (model {compiled.model.name!r} lacks it)"

    return needs


def _rule_values(rule: str) -> Callable[[MeasureContext], FloatArray]:
    def values(context: MeasureContext) -> FloatArray:
        return np.asarray(context.result.rule(rule), dtype=np.float64)

    return values


def _ends(result: SimulationResult) -> NDArray[np.intp]:
    return np.array([0, result.time_h.size - 1], dtype=np.intp)


def _t50(context: MeasureContext) -> FloatArray:
    """In-silico T50 of each patient's plasma at the first and last save time: the population's
    reference plasma with the model's Mg (and Ca, phosphate where it has them)."""
    result = context.result
    ends = _ends(result)
    n = result.n_patients
    base = reference_plasma(context.reference_plasma).to_dict()
    columns = {k: np.repeat(v, ends.size * n) for k, v in base.items()}
    for rule, field in _COMPOSITION_FIELDS.items():
        if rule in result.compiled.model.rule_names:
            columns[field] = result.rule(rule)[ends].ravel()
    ok = np.isfinite(columns["magnesium_mmol_l"])
    columns = {k: np.where(ok, v, np.asarray(base[k])[0]) for k, v in columns.items()}
    inhibitors = reference_serum(context.reference_plasma)
    sample = serum(
        PlasmaComposition.from_dict(columns),
        fetuin_a_g_l=inhibitors.fetuin_a_g_l[0],
        pyrophosphate_umol_l=inhibitors.pyrophosphate_umol_l[0],
    )
    t50 = np.where(ok, simulate_t50(sample, throw=False).t50_min, np.nan)
    out = np.full((result.time_h.size, n), np.nan)
    out[ends] = t50.reshape(ends.size, n)
    return out


def _needs_calcification(compiled: CompiledModel) -> str | None:
    if importlib.util.find_spec("mgckd.calcification") is None:
        return "mgckd.calcification (issue 7), not built yet"
    return _needs_rule("plasma_mg_total_mmol_l", "the Mg model")(compiled)


def _cac(context: MeasureContext) -> FloatArray:
    """Agatston score at every save time from the plasma course (`mgckd.calcification`)."""
    calcification = importlib.import_module("mgckd.calcification")
    result = context.result
    course = calcification.course_from_simulation(result, base=context.reference_plasma)
    cac = calcification.simulate_cac(course)
    out = np.full((result.time_h.size, result.n_patients), np.nan)
    out[:, np.flatnonzero(result.succeeded)] = cac.agatston
    return out


def _rule_measure(
    name: str, rule: str, unit: str, *, analyte: str | None, description: str, provider: str
) -> Measure:
    return Measure(
        name, unit, analyte, description, _needs_rule(rule, provider), _rule_values(rule)
    )


MEASURES: Mapping[str, Measure] = MappingProxyType(
    {
        m.name: m
        for m in (
            _rule_measure(
                "serum_mg_total",
                "plasma_mg_total_mmol_l",
                "mmol/L",
                analyte="magnesium",
                description="serum (plasma) total Mg",
                provider="the Mg model",
            ),
            _rule_measure(
                "serum_mg_ionized",
                "plasma_mg_ionized_mmol_l",
                "mmol/L",
                analyte="magnesium",
                description="serum (plasma) ionized Mg",
                provider="the Mg model",
            ),
            _rule_measure(
                "phosphate",
                "plasma_pi_mmol_l",
                "mmol/L",
                analyte="phosphate",
                description="serum phosphate",
                provider=_WHOLE_BODY,
            ),
            _rule_measure(
                "calcium_total",
                "plasma_ca_total_mmol_l",
                "mmol/L",
                analyte="calcium",
                description="serum total Ca",
                provider=_WHOLE_BODY,
            ),
            _rule_measure(
                "pth",
                "plasma_pth_pmol_l",
                "pmol/L",
                analyte=None,
                description="plasma intact PTH",
                provider=_WHOLE_BODY,
            ),
            Measure(
                "t50",
                "min",
                None,
                "in-silico serum calcification propensity T50 (mgckd.cpp)",
                _needs_rule("plasma_mg_total_mmol_l", "the Mg model"),
                _t50,
                ends_only=True,
            ),
            Measure(
                "cac_score",
                "1",
                None,
                "coronary artery calcification, Agatston units (mgckd.calcification)",
                _needs_calcification,
                _cac,
            ),
        )
    }
)
"""Every measure, by name."""


def measure(name: str, where: str) -> Measure:
    """The measure called `name`; `ScenarioError` naming `where` when unknown."""
    if name not in MEASURES:
        raise ScenarioError(
            f"{where}: unknown measure {name!r}; known: {', '.join(sorted(MEASURES))}"
        )
    return MEASURES[name]
