"""Published effect sizes as data: the packaged records of ``data/effect_sizes.yaml``.

Each record is a frozen pydantic model: the outcome, the measure (OR or HR), the exposure contrast
(categories with their cut-points, or a per-unit step), the reference, each ratio with its 95 % CI,
the population it was published for, the adjustment, a stratum where the estimate holds only in
one (S0-19: phosphate >= 6.0 mg/dL), a baseline risk where one is published, the source and the
claim ids it answers. Ratios of the seed's Table 2 come from `mgckd.evidence`, by row id.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Annotated, Any, Literal, Self

import numpy as np
import pandas as pd
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)
from scipy import stats

from mgckd.evidence import load_mg_outcome_studies
from mgckd.exceptions import RegistryError, UserInputError
from mgckd.labs import Dialysis
from mgckd.params import parameters
from mgckd.units import analyte as _analyte
from mgckd.units import convert

_FILE = "effect_sizes.yaml"
_Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Measure = Literal["OR", "HR"]
OnCutpoint = Literal["upper", "lower"]
T50 = "t50"
"""The exposure name of the serum calcification propensity test's T50 (minutes)."""
EXPOSURE_FIELDS = {
    "magnesium": "mg_mmol_l",
    "phosphate": "phosphate_mmol_l",
    T50: "t50_min",
}
"""Exposure analyte → the `Cohort` field holding it (internal unit)."""
_T50_UNIT = "min"
OUTCOME_LABELS = {
    "all_cause_death": "death (all causes)",
    "cv_death": "cardiovascular death",
    "hip_fracture": "hip fracture",
    "eskd": "end-stage kidney disease",
}
"""The outcomes of the packaged records, in words."""


def internal_unit(analyte_name: str) -> str:
    """The unit of the `Cohort` field of an exposure analyte."""
    return _T50_UNIT if analyte_name == T50 else _analyte(analyte_name).internal_unit


def convert_exposure(values: Any, from_unit: str, to_unit: str, analyte_name: str) -> Any:
    """Exposure values (or cut-points) converted between units (`mgckd.units`; T50 in min)."""
    if analyte_name == T50:
        if {from_unit, to_unit} != {_T50_UNIT}:
            raise RegistryError(f"T50 is given in {_T50_UNIT}, not {from_unit!r} or {to_unit!r}")
        return values
    return convert(values, from_unit, to_unit, analyte=analyte_name)


def to_internal_unit(values: Any, unit: str, analyte_name: str) -> Any:
    """Exposure values (or cut-points) in `unit` converted to the `Cohort` field's unit."""
    return convert_exposure(values, unit, internal_unit(analyte_name), analyte_name)


def _evidence_row(row_id: str) -> dict[str, Any]:
    """A row of `mgckd.evidence.load_mg_outcome_studies` by id (ValueError when absent)."""
    studies = load_mg_outcome_studies()
    rows = studies[studies["id"] == row_id].to_dict("records")
    if not rows:
        raise ValueError(f"evidence row {row_id!r} is not in mgckd.evidence's study table")
    return {str(k): v for k, v in rows[0].items()}


def _z_published() -> float:
    level = parameters()["meta_published_ci_level"].to("1")
    return float(stats.norm.isf((1.0 - level) / 2.0))


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Ratio(_Frozen):
    """A published ratio (OR or HR) with its 95 % CI.

    Attributes
    ----------
    estimate : the point estimate [1].
    ci : the published 95 % CI (low, high) [1].
    evidence_id : the `mgckd.evidence.load_mg_outcome_studies` row it was read from, if any.
    status : ``confirmed`` (read in the primary abstract) or ``seed_ocr`` (the seed's OCR'd
        table); None means the record's status.
    """

    estimate: float = Field(gt=0)
    ci: tuple[float, float]
    evidence_id: str | None = None
    status: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_evidence(cls, data: Any) -> Any:
        if not isinstance(data, Mapping) or set(data) != {"evidence_id"}:
            return data
        row_id = str(data["evidence_id"])
        row = _evidence_row(row_id)
        return {
            "estimate": float(row["estimate"]),
            "ci": (float(row["ci_low"]), float(row["ci_high"])),
            "evidence_id": row_id,
            "status": str(row["status"]),
        }

    @model_validator(mode="after")
    def _ci_contains_estimate(self) -> Self:
        if not 0 < self.ci[0] <= self.estimate <= self.ci[1]:
            raise ValueError(f"CI {list(self.ci)} does not contain the estimate {self.estimate}")
        return self

    @property
    def log_estimate(self) -> float:
        """ln(estimate)."""
        return math.log(self.estimate)

    @property
    def log_se(self) -> float:
        """Standard error of ln(ratio), derived from the CI: (ln high - ln low) / (2 z_0.975)."""
        return (math.log(self.ci[1]) - math.log(self.ci[0])) / (2.0 * _z_published())


class Category(_Frozen):
    """One exposure category: the reference, one with a published ratio, or one without.

    Attributes
    ----------
    label : as published, with its bounds and unit.
    reference : the reference category (ratio 1 by definition).
    ratio : the published ratio vs the reference (None for the reference and where `missing`).
    missing : why no ratio is published for this category.
    crude_risk : the category's crude risk over the horizon [1], where published.
    """

    label: _Text
    reference: bool = False
    ratio: Ratio | None = None
    missing: _Text | None = None
    crude_risk: float | None = Field(default=None, gt=0, lt=1)

    @model_validator(mode="after")
    def _one_kind(self) -> Self:
        kinds = [self.reference, self.ratio is not None, self.missing is not None]
        if sum(kinds) != 1:
            raise ValueError(
                f"category {self.label!r}: give exactly one of reference, ratio or missing"
            )
        return self


class CategoricalExposure(_Frozen):
    """An exposure cut into categories at published cut-points.

    Attributes
    ----------
    analyte : ``magnesium`` (serum total Mg).
    unit : the unit the cut-points were published in.
    cutpoints : increasing cut-points in `unit`; None where the paper's cut-points are not
        known (the record is then blocked). Taken from the parameter registry when
        `cutpoints_parameter` names an entry (the labs layer's cut-points, reused).
    cutpoints_parameter : registry entry holding the cut-points.
    on_cutpoint : a value exactly on a cut-point belongs to the ``upper`` or ``lower`` category.
    categories : one more than the cut-points, in increasing order of the exposure.
    """

    kind: Literal["categorical"] = "categorical"
    analyte: Literal["magnesium"]
    unit: _Text
    cutpoints: tuple[float, ...] | None
    cutpoints_parameter: str | None = None
    on_cutpoint: OnCutpoint = "upper"
    categories: tuple[Category, ...]

    @model_validator(mode="before")
    @classmethod
    def _registered_cutpoints(cls, data: Any) -> Any:
        if not isinstance(data, Mapping) or data.get("cutpoints_parameter") is None:
            return data
        if "cutpoints" in data:
            raise ValueError("give cutpoints or cutpoints_parameter, not both")
        name = str(data["cutpoints_parameter"])
        quantity = parameters()[name].quantity.to(str(data["unit"])).magnitude
        values = np.atleast_1d(np.asarray(quantity, dtype=np.float64))
        return {**data, "cutpoints": tuple(float(v) for v in values)}

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        references = [c.label for c in self.categories if c.reference]
        if len(references) != 1:
            raise ValueError(f"exactly one reference category, not {len(references)}")
        if self.cutpoints is None:
            return self
        if len(self.categories) != len(self.cutpoints) + 1:
            raise ValueError(
                f"{len(self.cutpoints)} cut-points make {len(self.cutpoints) + 1} categories, "
                f"not {len(self.categories)}"
            )
        if any(b <= a for a, b in zip(self.cutpoints, self.cutpoints[1:], strict=False)):
            raise ValueError(f"cut-points {list(self.cutpoints)} must increase")
        return self

    @property
    def reference_index(self) -> int:
        """Index of the reference category."""
        return next(i for i, c in enumerate(self.categories) if c.reference)

    @property
    def cutpoints_internal(self) -> tuple[float, ...]:
        """The cut-points in the `Cohort` field's unit (mmol/L for Mg)."""
        if self.cutpoints is None:
            raise UserInputError("this exposure's cut-points are not published")
        converted = to_internal_unit(np.asarray(self.cutpoints), self.unit, self.analyte)
        return tuple(float(v) for v in np.atleast_1d(converted))


class PerUnitExposure(_Frozen):
    """A ratio per step of a continuous exposure, relative to a reference value.

    The relative risk of a patient with exposure x is
    :math:`R^{(x - x_0)/s}` (R the ratio, s the `step`, x0 the `reference_value`), the log-linear
    form the published per-unit estimate assumes.

    Attributes
    ----------
    analyte : ``t50`` (minutes).
    unit : the unit of `step` and `reference_value`.
    step : the exposure change the ratio is per; negative for "per decrease". None when the
        scale is not known (the record is then blocked).
    reference_value : the exposure at which the relative risk is 1 (e.g. the cohort mean).
    reference_description : what `reference_value` is.
    ratio : the published ratio per `step`.
    """

    kind: Literal["per_unit"] = "per_unit"
    analyte: Literal["t50"]
    unit: _Text
    step: float | None
    reference_value: float | None
    reference_description: _Text | None = None
    ratio: Ratio

    @model_validator(mode="after")
    def _nonzero_step(self) -> Self:
        if self.step == 0:
            raise ValueError("step must not be 0")
        return self

    @property
    def contrast(self) -> str:
        """E.g. ``per -60 min vs 329 min (the PREVEND mean T50)``."""
        if self.step is None or self.reference_value is None:
            return self.reference_description or "per step (scale not published)"
        reference = f"{self.reference_value:g} {self.unit}"
        if self.reference_description:
            reference += f" ({self.reference_description})"
        return f"per {self.step:+g} {self.unit} vs {reference}"


class Stratum(_Frozen):
    """The part of the population where the published estimates hold (e.g. phosphate >= 6.0).

    Attributes
    ----------
    analyte : ``phosphate``.
    unit : the unit of `lower`.
    lower : the stratum is exposure >= lower; None where the paper's bound is not known.
    label : the stratum in words.
    outside : why a patient outside the stratum gets no estimate.
    """

    analyte: Literal["phosphate"]
    unit: _Text
    lower: float | None
    label: _Text
    outside: _Text

    @property
    def lower_internal(self) -> float:
        """`lower` in the `Cohort` field's unit (mmol/L)."""
        if self.lower is None:
            raise UserInputError("this stratum's bound is not published")
        return float(to_internal_unit(self.lower, self.unit, self.analyte))


class Interaction(_Frozen):
    """An effect modification the paper reports, as published (context, not applied)."""

    p_value: float = Field(gt=0, le=1)
    description: _Text


class Population(_Frozen):
    """Who the effect size was published for, and which patients mgckd treats as inside it.

    Attributes
    ----------
    description : the cohort in words.
    dialysis : the `mgckd.labs.Dialysis` values inside the population.
    diabetes : True or False when the population is restricted to it; None for any.
    egfr_below_ml_min_1_73m2 : the population's upper eGFR bound (non-dialysis CKD), if any.
    egfr_at_least_ml_min_1_73m2 : its lower eGFR bound (an enrolment criterion), if any.
    country, n, events, follow_up, note : as published.
    """

    description: _Text
    dialysis: tuple[Dialysis, ...]
    diabetes: bool | None = None
    egfr_below_ml_min_1_73m2: float | None = Field(default=None, gt=0)
    egfr_at_least_ml_min_1_73m2: float | None = Field(default=None, gt=0)
    country: _Text
    n: int | None = Field(default=None, gt=0)
    events: int | None = Field(default=None, ge=0)
    follow_up: _Text
    note: _Text | None = None

    @model_validator(mode="after")
    def _egfr_bounds(self) -> Self:
        low, high = self.egfr_at_least_ml_min_1_73m2, self.egfr_below_ml_min_1_73m2
        if low is not None and high is not None and low >= high:
            raise ValueError(f"eGFR bounds: at least {low:g} must be below {high:g}")
        return self

    def render(self) -> str:
        """One line: description, country, N, follow-up."""
        n = f"; N = {self.n:,}" if self.n is not None else ""
        return f"{self.description} ({self.country}{n}; follow-up {self.follow_up})"


class Baseline(_Frozen):
    """A published risk over the horizon, to turn ratios into absolute risks.

    Attributes
    ----------
    description : what the risk is.
    scope : ``reference_category`` (the reference category's crude risk, from its
        ``crude_risk``) or ``population`` (the whole cohort's crude risk `events` / `n`, taken as
        the reference category's: an assumption, flagged in every output).
    events, n : the counts of a ``population`` baseline.
    source : where it was read.
    """

    description: _Text
    scope: Literal["reference_category", "population"]
    events: int | None = Field(default=None, ge=0)
    n: int | None = Field(default=None, gt=0)
    source: _Text

    @model_validator(mode="after")
    def _counts(self) -> Self:
        has_counts = self.events is not None and self.n is not None
        if (self.scope == "population") != has_counts:
            raise ValueError("a population baseline needs events and n; a category one neither")
        return self


class Horizon(_Frozen):
    """The time over which the outcome was counted: a value with unit, or text only."""

    value: float | None = Field(default=None, gt=0)
    unit: Literal["year"] | None = None
    text: _Text | None = None

    @model_validator(mode="after")
    def _given(self) -> Self:
        if (self.value is None) != (self.unit is None) or (self.value is None and not self.text):
            raise ValueError("give value and unit, or text")
        return self

    def render(self) -> str:
        """``1 year``, ``2 years`` or the text."""
        if self.value is None:
            return str(self.text)
        return f"{self.value:g} {self.unit}{'' if self.value == 1 else 's'}"


class Source(_Frozen):
    """The paper and the place in it the numbers were read (`short`: author, year, journal)."""

    short: _Text
    citation: _Text
    pmid: str | None = None
    pmc: str | None = None
    url: str | None = None
    table: _Text

    def render(self) -> str:
        """Citation with its identifiers."""
        ids = [f"PMID {self.pmid}" if self.pmid else "", self.pmc or "", self.url or ""]
        named = "; ".join(i for i in ids if i)
        return f"{self.citation} ({named})" if named else self.citation


class EffectSize(_Frozen):
    """One published effect size and everything needed to apply it (see module docstring)."""

    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9.-]*$")]
    title: _Text
    outcome: Literal["all_cause_death", "cv_death", "hip_fracture", "eskd"]  # OUTCOME_LABELS
    measure: Measure
    horizon: Horizon
    claims: tuple[str, ...]
    status: Literal["confirmed", "seed_ocr"]
    source: Source
    population: Population
    adjustment: _Text
    exposure: CategoricalExposure | PerUnitExposure = Field(discriminator="kind")
    stratum: Stratum | None = None
    interaction: Interaction | None = None
    baseline: Baseline | None = None
    blocked: _Text | None = None
    note: _Text | None = None

    @model_validator(mode="before")
    @classmethod
    def _exposure_kind(cls, data: Any) -> Any:
        if not isinstance(data, Mapping) or not isinstance(data.get("exposure"), Mapping):
            return data
        exposure = dict(data["exposure"])
        exposure.setdefault("kind", "per_unit" if "step" in exposure else "categorical")
        return {**data, "exposure": exposure}

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.blocked is None:
            unknown = [
                what
                for what, missing in (
                    ("cutpoints", getattr(self.exposure, "cutpoints", ()) is None),
                    ("step", getattr(self.exposure, "step", 1.0) is None),
                    ("reference_value", getattr(self.exposure, "reference_value", 0.0) is None),
                    ("stratum.lower", self.stratum is not None and self.stratum.lower is None),
                )
                if missing
            ]
            if unknown:
                raise ValueError(f"{', '.join(unknown)} unknown: say why in 'blocked'")
        if self.baseline is not None:
            self._check_baseline(self.baseline)
        return self

    def _check_baseline(self, baseline: Baseline) -> None:
        if self.horizon.value is None:
            raise ValueError("a baseline risk needs a horizon with a value")
        if not isinstance(self.exposure, CategoricalExposure):
            raise ValueError("baseline risks are supported for categorical exposures only")
        reference = self.exposure.categories[self.exposure.reference_index]
        if baseline.scope == "reference_category" and reference.crude_risk is None:
            raise ValueError("a reference-category baseline needs the reference's crude_risk")

    @property
    def outcome_label(self) -> str:
        """The outcome in words (`OUTCOME_LABELS`)."""
        return OUTCOME_LABELS[self.outcome]

    @property
    def applicable(self) -> bool:
        """True unless the record is `blocked`."""
        return self.blocked is None

    @property
    def fields(self) -> tuple[str, ...]:
        """The `Cohort` fields the exposure (and stratum) are read from."""
        names = [EXPOSURE_FIELDS[self.exposure.analyte]]
        if self.stratum is not None:
            names.append(EXPOSURE_FIELDS[self.stratum.analyte])
        return tuple(names)

    def baseline_risk(self) -> float | None:
        """The published baseline risk over the horizon, or None."""
        if self.baseline is None:
            return None
        if self.baseline.scope == "population":
            return float(self.baseline.events or 0) / float(self.baseline.n or 1)
        exposure = self.exposure
        if not isinstance(exposure, CategoricalExposure):  # pragma: no cover - validated
            return None
        return exposure.categories[exposure.reference_index].crude_risk


def _fill_population_n(entry: Mapping[str, Any]) -> Mapping[str, Any]:
    """Take N of a record whose ratios are evidence rows from those rows (never copied)."""
    exposure = entry.get("exposure", {})
    population = entry.get("population", {})
    if population.get("n") is not None or not isinstance(exposure, Mapping):
        return entry
    ids = [
        c["ratio"]["evidence_id"]
        for c in exposure.get("categories", ())
        if isinstance(c.get("ratio"), Mapping) and "evidence_id" in c["ratio"]
    ]
    if not ids:
        return entry
    sizes = {int(_evidence_row(i)["n"]) for i in ids}
    if len(sizes) != 1:
        return entry
    return {**entry, "population": {**population, "n": sizes.pop()}}


def _check_evidence_rows(effect: EffectSize) -> None:
    if not isinstance(effect.exposure, CategoricalExposure):
        return
    for category in effect.exposure.categories:
        row_id = category.ratio.evidence_id if category.ratio is not None else None
        if row_id is None:
            continue
        row = _evidence_row(row_id)
        if (row["outcome"], row["measure"]) != (effect.outcome, effect.measure):
            raise RegistryError(
                f"{_FILE}: effect {effect.id!r}: evidence row {row_id!r} is "
                f"{row['measure']} of {row['outcome']}, not {effect.measure} of {effect.outcome}"
            )


def _parse(entry: Any) -> EffectSize:
    effect_id = entry.get("id", "<no id>") if isinstance(entry, Mapping) else "<not a mapping>"
    try:
        effect = EffectSize.model_validate(_fill_population_n(entry))
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(record)'}: {e['msg']}"
            for e in error.errors()
        )
        raise RegistryError(f"{_FILE}: effect {effect_id!r}: {problems}") from None
    except ValueError as error:
        raise RegistryError(f"{_FILE}: effect {effect_id!r}: {error}") from None
    _check_evidence_rows(effect)
    return effect


@cache
def effect_sizes() -> tuple[EffectSize, ...]:
    """Every packaged effect size, in file order, loaded and checked once per process.

    Examples
    --------
    >>> [e.id for e in effect_sizes() if "S0-19" in e.claims]
    ['sakaguchi-2014-cv-death-mg-bands-high-phosphate']
    """
    text = resources.files("mgckd.outcomes").joinpath("data", _FILE).read_text(encoding="utf-8")
    document = yaml.safe_load(text)
    entries = document.get("effects") if isinstance(document, dict) else None
    if not isinstance(entries, list) or not entries:
        raise RegistryError(f"{_FILE}: no 'effects' list")
    parsed = tuple(_parse(entry) for entry in entries)
    ids = [e.id for e in parsed]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise RegistryError(f"{_FILE}: duplicate ids {duplicates}")
    return parsed


def effect_size(effect_id: str) -> EffectSize:
    """The packaged effect size `effect_id`; `UserInputError` lists the known ids otherwise."""
    for effect in effect_sizes():
        if effect.id == effect_id:
            return effect
    known = ", ".join(e.id for e in effect_sizes())
    raise UserInputError(f"unknown effect {effect_id!r}; known effects: {known}")


def effects_frame() -> pd.DataFrame:
    """Every packaged ratio, one row per contrast, with its population and source.

    Columns: ``effect_id``, ``outcome``, ``measure``, ``horizon``, ``contrast``, ``reference``,
    ``estimate``, ``ci_low``, ``ci_high`` (95 %, as published), ``log_se`` (derived from the CI),
    ``status``, ``population``, ``claims``, ``applicable``, ``source``.
    """
    rows: list[dict[str, Any]] = []
    for effect in effect_sizes():
        for contrast, reference, ratio in _contrasts(effect):
            rows.append(
                {
                    "effect_id": effect.id,
                    "outcome": effect.outcome,
                    "measure": effect.measure,
                    "horizon": effect.horizon.render(),
                    "contrast": contrast,
                    "reference": reference,
                    "estimate": ratio.estimate if ratio else math.nan,
                    "ci_low": ratio.ci[0] if ratio else math.nan,
                    "ci_high": ratio.ci[1] if ratio else math.nan,
                    "log_se": ratio.log_se if ratio else math.nan,
                    "status": (ratio.status if ratio else None) or effect.status,
                    "population": effect.population.render(),
                    "claims": ", ".join(effect.claims),
                    "applicable": effect.applicable,
                    "source": effect.source.render(),
                }
            )
    return pd.DataFrame(rows)


def _contrasts(effect: EffectSize) -> list[tuple[str, str, Ratio | None]]:
    exposure = effect.exposure
    if isinstance(exposure, PerUnitExposure):
        return [(exposure.contrast, "", exposure.ratio)]
    reference = exposure.categories[exposure.reference_index].label
    stratum = f" ({effect.stratum.label})" if effect.stratum is not None else ""
    return [
        (f"{c.label}{stratum}", reference, c.ratio) for c in exposure.categories if not c.reference
    ]
