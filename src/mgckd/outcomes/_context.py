"""Where each patient stands relative to a published effect size: population, category, ratio.

`published_context` is deterministic: the published ratio and 95 % CI of each patient's category
(or, for a per-unit effect, the ratio scaled to the patient's exposure), whether the patient is
inside the effect's population and why not. `mgckd.outcomes.risk` adds the Monte Carlo.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mgckd.exceptions import MissingColumnError
from mgckd.outcomes._cohort import Cohort
from mgckd.outcomes._effects import (
    EXPOSURE_FIELDS,
    CategoricalExposure,
    EffectSize,
    PerUnitExposure,
    convert_exposure,
    internal_unit,
)

ASSOCIATION = "association, not causation"
"""The label every outcome output carries."""
REFERENCE = "reference"
ESTIMATED = "estimated"
NO_ESTIMATE = "no_estimate"
_RELATIVE_TOLERANCE = 1e-12
"""A value within this relative distance of a cut-point counts as on it, so that a cut-point
entered in mg/dL stays on its side after conversion to mmol/L (as in `mgckd.labs`)."""

_STATUSES = (ESTIMATED, REFERENCE, NO_ESTIMATE)


def _categorical(codes: NDArray[np.integer[Any]], categories: list[str]) -> pd.Categorical[str]:
    """A categorical column from integer codes into `categories` (no per-row strings)."""
    return pd.Categorical.from_codes(
        np.asarray(codes, dtype=np.int64).reshape(-1), categories=pd.Index(categories)
    )


class _Reasons:
    """Per-patient reasons as bit flags over a few messages, turned into a categorical column
    (vectorized: no per-patient strings are built)."""

    def __init__(self, n: int) -> None:
        self.flags = np.zeros(n, dtype=np.int64)
        self.messages: list[str] = []

    def add(self, mask: NDArray[np.bool_], message: str) -> None:
        """Give the patients in `mask` the reason `message`."""
        if message in self.messages:
            bit = self.messages.index(message)
        else:
            bit = len(self.messages)
            self.messages.append(message)
        self.flags |= mask.astype(np.int64) << bit

    @property
    def any(self) -> NDArray[np.bool_]:
        """Patients with at least one reason."""
        flagged: NDArray[np.bool_] = self.flags != 0
        return flagged

    def column(self) -> pd.Categorical[str]:
        """The reasons joined with ``"; "`` (``""`` for none), as a categorical column."""
        codes, inverse = np.unique(self.flags, return_inverse=True)
        texts = [
            "; ".join(m for bit, m in enumerate(self.messages) if int(code) >> bit & 1)
            for code in codes
        ]
        return _categorical(inverse, texts)


def _mismatch(cohort: Cohort, effect: EffectSize) -> _Reasons:
    """Why each patient is outside the effect's population (dialysis, diabetes, eGFR); unknown
    values count as outside, since they cannot confirm the population."""
    population = effect.population
    reasons = _Reasons(cohort.n)
    allowed = [d.value for d in population.dialysis]
    for other in sorted(set(np.unique(cohort.dialysis)) - set(allowed)):
        reasons.add(cohort.dialysis == other, f"dialysis {other} (needs {' or '.join(allowed)})")
    if population.diabetes is not None:
        diabetes = cohort.column("diabetes")
        assert diabetes is not None  # set by Cohort
        wanted = "with" if population.diabetes else "without"
        unknown = np.isnan(diabetes)
        needs = f"(needs patients {wanted} diabetes)"
        reasons.add(unknown, f"diabetes unknown {needs}")
        has = "diabetes" if population.diabetes is False else "no diabetes"
        reasons.add(~unknown & (diabetes != float(population.diabetes)), f"{has} {needs}")
    low, high = population.egfr_at_least_ml_min_1_73m2, population.egfr_below_ml_min_1_73m2
    if low is not None or high is not None:
        egfr = cohort.column("egfr_ml_min_1_73m2")
        values = np.full(cohort.n, np.nan) if egfr is None else egfr
        unknown = np.isnan(values)
        needs = " and ".join(
            f"eGFR {sign} {bound:g}" for sign, bound in ((">=", low), ("<", high)) if bound
        )
        reasons.add(unknown, f"eGFR unknown (needs {needs})")
        if high is not None:
            reasons.add(~unknown & (values >= high), f"eGFR >= {high:g} (needs {needs})")
        if low is not None:
            reasons.add(~unknown & (values < low), f"eGFR < {low:g} (needs {needs})")
    return reasons


def population_mismatch(cohort: Cohort, effect: EffectSize) -> NDArray[np.object_]:
    """Per patient, ``""`` inside the effect's population, else why not (dialysis, diabetes,
    eGFR; unknown values count as outside, since they cannot be confirmed)."""
    column = _mismatch(cohort, effect).column()
    texts: NDArray[np.object_] = np.asarray(column.categories, dtype=object)[column.codes]
    return texts


def assign_categories(
    values: NDArray[np.float64], exposure: CategoricalExposure
) -> NDArray[np.int_]:
    """Index of each value's category (0 = below the first cut-point); -1 where NaN.

    `values` are in the `Cohort` field's unit (mmol/L for Mg). A value on a cut-point goes to
    the category `exposure.on_cutpoint` names.
    """
    cuts = np.asarray(exposure.cutpoints_internal, dtype=np.float64)
    if exposure.on_cutpoint == "upper":
        index = np.searchsorted(cuts * (1.0 - _RELATIVE_TOLERANCE), values, side="right")
    else:
        index = np.searchsorted(cuts * (1.0 + _RELATIVE_TOLERANCE), values, side="left")
    return np.where(np.isnan(values), -1, index)


def require_fields(cohort: Cohort, effect: EffectSize) -> None:
    """`MissingColumnError` naming the field an effect needs and the cohort lacks."""
    for name in effect.fields:
        if cohort.column(name) is None:
            raise MissingColumnError(
                f"effect {effect.id!r} needs the cohort column {name!r} "
                f"({_exposure_name(name)}); the cohort has none"
            )


def _exposure_name(field: str) -> str:
    analyte = next(a for a, f in EXPOSURE_FIELDS.items() if f == field)
    return f"{analyte}, {internal_unit(analyte)}"


@dataclass(frozen=True, slots=True)
class Context:
    """The deterministic part of applying an effect: see `published_context`.

    `category` holds each patient's category index (categorical effects; -1 where the exposure
    is missing) and `z` the exposure in steps from the reference value (per-unit effects).
    """

    frame: pd.DataFrame
    category: NDArray[np.int_]
    z: NDArray[np.float64]


def context(cohort: Cohort, effect: EffectSize) -> Context:
    """`published_context` with the category indices (and per-unit steps) kept for the Monte
    Carlo."""
    require_fields(cohort, effect)
    exposure = effect.exposure
    values = cohort.column(EXPOSURE_FIELDS[exposure.analyte])
    assert values is not None  # require_fields
    missing = np.isnan(values)
    no_estimate = missing.copy()
    reasons = _Reasons(cohort.n)
    reasons.add(missing, f"{EXPOSURE_FIELDS[exposure.analyte]} not measured")
    if isinstance(exposure, CategoricalExposure):
        index = assign_categories(values, exposure)
        table = _category_table(exposure)
        safe = np.where(missing, 0, index)
        ratio, low, high = (table[name][safe] for name in ("ratio", "ci_low", "ci_high"))
        crude = np.where(missing, np.nan, table["crude_risk"][safe])
        reference = ~missing & (index == exposure.reference_index)
        for k, category in enumerate(exposure.categories):
            if category.missing is not None:
                unpublished = index == k
                no_estimate |= unpublished
                reasons.add(unpublished, category.missing)
        labels = [c.label for c in exposure.categories]
        label = _categorical(np.where(missing, len(labels), index), [*labels, ""])
        z = np.full(cohort.n, np.nan)
    else:
        index = np.full(cohort.n, -1)
        reference = np.zeros(cohort.n, dtype=bool)
        z, ratio, low, high = _per_unit(values, exposure)
        crude = np.full(cohort.n, np.nan)
        label = _categorical(missing.astype(np.int64), [exposure.contrast, ""])
    if effect.stratum is not None:
        no_estimate |= _stratum(cohort, effect, reasons)
    code = {name: i for i, name in enumerate(_STATUSES)}
    status = np.where(
        no_estimate, code[NO_ESTIMATE], np.where(reference, code[REFERENCE], code[ESTIMATED])
    )

    def published(values: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.where(no_estimate, np.nan, np.where(reference, 1.0, values))

    mismatch = _mismatch(cohort, effect)
    frame = pd.DataFrame(
        {
            "patient_id": list(cohort.patient_id),
            "effect_id": _categorical(np.zeros(cohort.n, np.int64), [effect.id]),
            "exposure": convert_exposure(
                values, internal_unit(exposure.analyte), exposure.unit, exposure.analyte
            ),
            "exposure_unit": _categorical(np.zeros(cohort.n, np.int64), [exposure.unit]),
            "category": label,
            "status": _categorical(status, list(_STATUSES)),
            "reason": reasons.column(),
            "ratio": published(ratio),
            "ratio_ci_low": published(low),
            "ratio_ci_high": published(high),
            "crude_risk": crude,
            "outside_population": mismatch.any,
            "population_mismatch": mismatch.column(),
        }
    )
    return Context(frame=frame, category=index, z=z)


def published_context(cohort: Cohort, effect: EffectSize) -> pd.DataFrame:
    """Each patient's published category, ratio and 95 % CI for `effect`, and population fit.

    Columns: ``patient_id``, ``effect_id``, ``exposure`` (in the unit the effect was published
    in), ``exposure_unit``, ``category``, ``status`` (``reference``, ``estimated`` or
    ``no_estimate``), ``reason`` (why no estimate), ``ratio``, ``ratio_ci_low``,
    ``ratio_ci_high`` (the published 95 % CI; per-unit effects: scaled to the patient's
    exposure), ``crude_risk`` (the category's published crude risk), ``outside_population``
    and ``population_mismatch`` (why outside). Nothing is refused here; `risk` refuses.

    Examples
    --------
    >>> from mgckd.outcomes import Cohort, effect_size
    >>> cohort = Cohort(dialysis=["hemodialysis"], mg_mmol_l=[0.9])
    >>> row = published_context(cohort, effect_size("sakaguchi-2014-cv-death-mg-categories"))
    >>> row[["category", "status"]].to_dict("records")
    [{'category': '<0.95 mmol/L', 'status': 'estimated'}]
    >>> row[["ratio", "ratio_ci_low", "ratio_ci_high"]].to_dict("records")
    [{'ratio': 1.24, 'ratio_ci_low': 1.08, 'ratio_ci_high': 1.42}]
    """
    return context(cohort, effect).frame


def _category_table(exposure: CategoricalExposure) -> dict[str, NDArray[np.float64]]:
    """Per category: the published ratio, CI bounds and crude risk (NaN where none)."""
    categories = exposure.categories

    def numbers(values: list[float | None]) -> NDArray[np.float64]:
        return np.array([np.nan if v is None else v for v in values], dtype=np.float64)

    return {
        "ratio": numbers([c.ratio.estimate if c.ratio else None for c in categories]),
        "ci_low": numbers([c.ratio.ci[0] if c.ratio else None for c in categories]),
        "ci_high": numbers([c.ratio.ci[1] if c.ratio else None for c in categories]),
        "crude_risk": numbers([c.crude_risk for c in categories]),
    }


def _per_unit(
    values: NDArray[np.float64], exposure: PerUnitExposure
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Steps from the reference, and the ratio with its CI scaled to them (R^z, L^z, U^z)."""
    step, reference = exposure.step, exposure.reference_value
    assert step is not None  # applicable effects only
    assert reference is not None
    z = (values - reference) / step
    ratio = exposure.ratio.estimate**z
    ends = np.stack([exposure.ratio.ci[0] ** z, exposure.ratio.ci[1] ** z])
    return z, ratio, ends.min(axis=0), ends.max(axis=0)


def _stratum(cohort: Cohort, effect: EffectSize, reasons: _Reasons) -> NDArray[np.bool_]:
    """Patients outside the stratum where the estimates hold (or without its value)."""
    stratum = effect.stratum
    assert stratum is not None
    values = cohort.column(EXPOSURE_FIELDS[stratum.analyte])
    assert values is not None  # require_fields
    missing = np.isnan(values)
    below = ~missing & (values < stratum.lower_internal * (1.0 - _RELATIVE_TOLERANCE))
    field = EXPOSURE_FIELDS[stratum.analyte]
    reasons.add(missing, f"{field} not measured (the estimate holds for {stratum.label})")
    reasons.add(below, f"outside the stratum {stratum.label}: {stratum.outside}")
    outside: NDArray[np.bool_] = missing | below
    return outside
