"""Apply a published effect size to a cohort: relative and absolute risk with Monte Carlo intervals.

For each ratio the Monte Carlo draws :math:`\\ln R \\sim N(\\ln \\hat R, SE^2)`, with the SE read
back from the published 95 % CI (derived). Categories are drawn independently (their covariance is
not published). A baseline risk with published counts is drawn from its Jeffreys posterior
Beta(events + 1/2, n - events + 1/2); one without counts is held fixed. Absolute risk over the
horizon: odds scale for ORs, :math:`1 - (1 - p_0)^{HR}` for HRs (proportional hazards).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mgckd._version import __version__
from mgckd.exceptions import ImplausibleValueError, OutsidePopulationError, UserInputError
from mgckd.outcomes._cohort import Cohort
from mgckd.outcomes._context import (
    ASSOCIATION,
    ESTIMATED,
    NO_ESTIMATE,
    REFERENCE,
    context,
    require_fields,
)
from mgckd.outcomes._effects import CategoricalExposure, EffectSize, PerUnitExposure, effect_size

_JEFFREYS = 0.5
"""Pseudo-count added to events and non-events: the Jeffreys prior Beta(1/2, 1/2)."""
_SUMMARY_COLUMNS = (
    "category",
    "status",
    "n_patients",
    "n_outside_population",
    "ratio",
    "ratio_ci_low",
    "ratio_ci_high",
    "mc_low",
    "mc_high",
    "absolute_risk",
    "absolute_risk_low",
    "absolute_risk_high",
    "crude_risk",
    "reason",
)


def absolute_risk(
    baseline: NDArray[np.float64] | float, ratio: NDArray[np.float64] | float, measure: str
) -> NDArray[np.float64]:
    """Risk over the horizon given the reference category's risk `baseline` and a `ratio`.

    OR: odds = baseline/(1 - baseline) · OR. HR: 1 - (1 - baseline)^HR (proportional hazards).

    Examples
    --------
    >>> round(float(absolute_risk(0.0149, 1.23, "HR")), 4)
    0.0183
    """
    p0 = np.asarray(baseline, dtype=np.float64)
    r = np.asarray(ratio, dtype=np.float64)
    if measure == "OR":
        odds = p0 / (1.0 - p0) * r
        return np.asarray(odds / (1.0 + odds), dtype=np.float64)
    return np.asarray(1.0 - (1.0 - p0) ** r, dtype=np.float64)


@dataclass(frozen=True, slots=True)
class RiskResult:
    """What `risk` found; tables in `to_frame` and `summary`, JSON in `to_dict`.

    Attributes
    ----------
    effect : the effect size applied.
    patients : one row per patient (see `to_frame`).
    contrasts : one row per category (or the per-unit step) with the published ratio and CI,
        its Monte Carlo interval and the category's absolute risk.
    draws, level : Monte Carlo draws and interval coverage.
    absolute_risk_basis : how absolute risks were made ('' when they were not).
    metadata : mgckd version, seed or generator state, options.
    """

    effect: EffectSize
    patients: pd.DataFrame
    contrasts: pd.DataFrame
    draws: int
    level: float
    absolute_risk_basis: str
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def caveat(self) -> str:
        """``association, not causation``: every output carries it."""
        return ASSOCIATION

    @property
    def population(self) -> str:
        """The population the effect size was published for."""
        return self.effect.population.render()

    def to_frame(self) -> pd.DataFrame:
        """One row per patient: the `published_context` columns, then ``relative_risk``,
        ``relative_risk_low``, ``relative_risk_high`` (Monte Carlo), ``absolute_risk``,
        ``absolute_risk_low``, ``absolute_risk_high`` (over ``horizon``), ``outcome``,
        ``measure``, ``population`` and ``caveat``."""
        return self.patients.copy()

    def summary(self) -> pd.DataFrame:
        """One row per category and status: patients, the published ratio and 95 % CI, the Monte
        Carlo interval, the category's absolute and crude risk, and why no estimate where none.

        The frame's ``attrs`` hold ``effect_id``, ``outcome``, ``measure``, ``horizon``,
        ``population``, ``caveat`` and ``absolute_risk_basis``.
        """
        patients = self.patients
        groups = (
            patients.assign(n_patients=1, n_outside_population=patients["outside_population"])
            .groupby(["category", "status", "reason"], sort=False, as_index=False, observed=True)[
                ["n_patients", "n_outside_population"]
            ]
            .sum()
            .astype({"category": str, "status": str, "reason": str})
        )
        merged = groups.merge(self.contrasts, on="category", how="left")
        no_estimate = merged["status"] == NO_ESTIMATE
        for column in ("ratio", "ratio_ci_low", "ratio_ci_high", "mc_low", "mc_high"):
            merged.loc[no_estimate, column] = math.nan
        for column in ("absolute_risk", "absolute_risk_low", "absolute_risk_high"):
            merged.loc[no_estimate, column] = math.nan
        order = {label: i for i, label in enumerate(self.contrasts["category"])}
        merged = merged.sort_values(
            "category", key=lambda c: c.map(order).fillna(len(order)), kind="stable"
        ).reset_index(drop=True)
        out = merged.reindex(columns=list(_SUMMARY_COLUMNS))
        out.attrs.update(
            {
                "effect_id": self.effect.id,
                "outcome": self.effect.outcome,
                "measure": self.effect.measure,
                "horizon": self.effect.horizon.render(),
                "population": self.population,
                "caveat": self.caveat,
                "absolute_risk_basis": self.absolute_risk_basis,
            }
        )
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the effect (with source and population), the summary, every patient."""
        effect = self.effect
        return {
            "effect": {
                "id": effect.id,
                "title": effect.title,
                "outcome": effect.outcome,
                "measure": effect.measure,
                "horizon": effect.horizon.render(),
                "population": self.population,
                "adjustment": effect.adjustment,
                "source": effect.source.render(),
                "table": effect.source.table,
                "claims": list(effect.claims),
                "status": effect.status,
                "interaction": None
                if effect.interaction is None
                else effect.interaction.model_dump(),
                "note": effect.note,
            },
            "caveat": self.caveat,
            "absolute_risk_basis": self.absolute_risk_basis,
            "draws": self.draws,
            "level": self.level,
            "metadata": self.metadata,
            "summary": records(self.summary()),
            "patients": records(self.patients),
        }


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dictionaries, NaN written as None (valid JSON)."""
    return [
        {str(k): (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
        for row in frame.astype(object).to_dict("records")
    ]


def labelled(frame: pd.DataFrame, effect: EffectSize) -> pd.DataFrame:
    """`frame` with the effect's ``horizon``, ``outcome``, ``measure``, ``population`` and the
    ``caveat`` (association, not causation) on every row."""
    return frame.assign(
        horizon=effect.horizon.render(),
        outcome=effect.outcome,
        measure=effect.measure,
        population=effect.population.render(),
        caveat=ASSOCIATION,
    )


def _generator(rng: int | np.random.Generator) -> tuple[np.random.Generator, dict[str, Any]]:
    if isinstance(rng, np.random.Generator):
        return rng, {"seed": None, "rng_state": rng.bit_generator.state}
    if isinstance(rng, bool) or not isinstance(rng, int | np.integer):
        raise UserInputError(f"rng {rng!r} must be a seed (int) or a numpy Generator")
    return np.random.default_rng(int(rng)), {"seed": int(rng)}


def _check_units(cohort: Cohort, effect: EffectSize) -> None:
    for name in effect.fields:
        count, first = cohort.unit_mixups(name)
        if count:
            more = f" ({count} patients in all)" if count > 1 else ""
            raise ImplausibleValueError(
                f"{first}{more}; give {name} in mmol/L (mgckd convert) before applying "
                f"{effect.id!r}: its categories would be wrong"
            )


def _refuse_outside(frame: pd.DataFrame, effect: EffectSize) -> None:
    outside = frame["outside_population"].to_numpy()
    if not outside.any():
        return
    i = int(np.flatnonzero(outside)[0])
    count = f"; {int(outside.sum())} of {len(frame)} patients in all" if outside.sum() > 1 else ""
    raise OutsidePopulationError(
        f"patient {frame['patient_id'].iloc[i]!r} is outside the population of effect "
        f"{effect.id!r} ({effect.population.render()}): "
        f"{frame['population_mismatch'].iloc[i]}{count}. Applying it there is an "
        "extrapolation; pass allow_outside_population=True (--allow-outside-population) to do "
        "it anyway, flagged in the output"
    )


def risk(
    cohort: Cohort,
    effect: EffectSize | str,
    *,
    rng: int | np.random.Generator,
    draws: int = 4000,
    level: float = 0.95,
    allow_outside_population: bool = False,
    check_units: bool = True,
) -> RiskResult:
    """Apply a published effect size to each patient: relative risk vs the reference and, where
    a baseline risk is published, absolute risk over the horizon, with Monte Carlo intervals.

    Parameters
    ----------
    cohort : the patients (`Cohort`).
    effect : an `EffectSize` or its id (`effect_sizes`).
    rng : a seed (recorded in the metadata) or a numpy Generator (its state is recorded).
    draws : Monte Carlo draws per ratio.
    level : coverage of the Monte Carlo intervals.
    allow_outside_population : apply the effect to patients outside its population too (they
        are flagged in ``outside_population``); refused otherwise.
    check_units : refuse exposure values that read as a unit mix-up (measured labs); False for
        values known to be in the internal unit (a simulated cohort), which may lie outside the
        usual range.

    Returns
    -------
    RiskResult
        Labelled ``association, not causation``, with the population the effect came from.

    Raises
    ------
    UserInputError
        An unknown or blocked effect, bad `draws` or `level`.
    MissingColumnError
        The cohort lacks a field the effect needs.
    ImplausibleValueError
        An exposure value that reads as a unit mix-up (e.g. Mg in mg/dL given as mmol/L), with
        `check_units`.
    OutsidePopulationError
        A patient outside the effect's population, unless `allow_outside_population`.

    Examples
    --------
    >>> from mgckd.outcomes import Cohort
    >>> cohort = Cohort(dialysis=["hemodialysis"] * 2, mg_mmol_l=[0.9, 1.2])
    >>> result = risk(cohort, "sakaguchi-2014-cv-death-mg-categories", rng=1)
    >>> result.to_frame()[["category", "relative_risk"]].values.tolist()
    [['<0.95 mmol/L', 1.24], ['1.15 to <1.27 mmol/L', 1.0]]
    >>> result.caveat, result.metadata["seed"]
    ('association, not causation', 1)
    """
    record = effect_size(effect) if isinstance(effect, str) else effect
    if not record.applicable:
        raise UserInputError(f"effect {record.id!r} cannot be applied: {record.blocked}")
    if isinstance(draws, bool) or not isinstance(draws, int) or draws < 1:
        raise UserInputError(f"draws {draws!r} must be a positive whole number")
    if not 0.0 < level < 1.0:
        raise UserInputError(f"level {level!r} must lie between 0 and 1")
    require_fields(cohort, record)
    if check_units:
        _check_units(cohort, record)
    found = context(cohort, record)
    if not allow_outside_population:
        _refuse_outside(found.frame, record)
    generator, seeding = _generator(rng)
    tail = (1.0 - level) / 2.0
    if isinstance(record.exposure, CategoricalExposure):
        patients, contrasts, basis = _categorical(
            found.frame,
            found.category,
            effect=record,
            exposure=record.exposure,
            generator=generator,
            draws=draws,
            tail=tail,
        )
    else:
        patients, contrasts, basis = _per_unit(
            found.frame,
            found.z,
            exposure=record.exposure,
            generator=generator,
            draws=draws,
            tail=tail,
        )
    patients = labelled(patients, record)
    return RiskResult(
        effect=record,
        patients=patients,
        contrasts=contrasts,
        draws=draws,
        level=level,
        absolute_risk_basis=basis,
        metadata={
            "mgckd_version": __version__,
            **seeding,
            "draws": draws,
            "level": level,
            "allow_outside_population": allow_outside_population,
            "n_outside_population": int(patients["outside_population"].sum()),
        },
    )


def _baseline_draws(
    effect: EffectSize, generator: np.random.Generator, draws: int
) -> tuple[float, NDArray[np.float64], str] | None:
    """Point, draws and description of the baseline risk; None without one."""
    baseline, point = effect.baseline, effect.baseline_risk()
    if baseline is None or point is None:
        return None
    horizon = effect.horizon.render()
    if baseline.scope == "population" and baseline.events is not None and baseline.n is not None:
        sampled = generator.beta(
            baseline.events + _JEFFREYS, baseline.n - baseline.events + _JEFFREYS, draws
        )
        text = (
            f"{baseline.description}, {baseline.events:,}/{baseline.n:,} ({point:.2%} over "
            f"{horizon}; Jeffreys interval), taken as the reference category's risk: an "
            f"assumption, since that category's own risk is not published; times the adjusted "
            f"{effect.measure} ({baseline.source})"
        )
        return point, sampled, text
    text = (
        f"{baseline.description}, {point:.2%} over {horizon} (counts not published: held "
        f"fixed), times the adjusted {effect.measure} ({baseline.source})"
    )
    return point, np.full(draws, point), text


def _quantiles(values: NDArray[np.float64], tail: float) -> tuple[NDArray[np.float64], ...]:
    low, high = np.quantile(values, [tail, 1.0 - tail], axis=-1)
    return low, high


def _categorical(
    frame: pd.DataFrame,
    index: NDArray[np.int_],
    *,
    effect: EffectSize,
    exposure: CategoricalExposure,
    generator: np.random.Generator,
    draws: int,
    tail: float,
) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    k = len(exposure.categories)
    log_ratio = np.zeros((k, draws))
    point = np.ones(k)
    for i, category in enumerate(exposure.categories):  # a handful of categories
        if category.ratio is not None:
            log_ratio[i] = generator.normal(
                category.ratio.log_estimate, category.ratio.log_se, draws
            )
            point[i] = category.ratio.estimate
        elif not category.reference:
            log_ratio[i] = np.nan
            point[i] = np.nan
    ratio = np.exp(log_ratio)
    mc_low, mc_high = _quantiles(ratio, tail)
    absolute = np.full((3, k), np.nan)
    basis = ""
    baseline = _baseline_draws(effect, generator, draws)
    if baseline is not None:
        p0, p0_draws, basis = baseline
        risk_draws = absolute_risk(p0_draws[None, :], ratio, effect.measure)
        absolute[0] = absolute_risk(p0, point, effect.measure)
        absolute[1], absolute[2] = _quantiles(risk_draws, tail)
    contrasts = pd.DataFrame(
        {
            "category": [c.label for c in exposure.categories],
            "ratio": point,
            "ratio_ci_low": [
                1.0 if c.reference else (c.ratio.ci[0] if c.ratio else np.nan)
                for c in exposure.categories
            ],
            "ratio_ci_high": [
                1.0 if c.reference else (c.ratio.ci[1] if c.ratio else np.nan)
                for c in exposure.categories
            ],
            "mc_low": mc_low,
            "mc_high": mc_high,
            "crude_risk": [
                np.nan if c.crude_risk is None else c.crude_risk for c in exposure.categories
            ],
            "absolute_risk": absolute[0],
            "absolute_risk_low": absolute[1],
            "absolute_risk_high": absolute[2],
        }
    )
    has = frame["status"].isin([ESTIMATED, REFERENCE]).to_numpy() & (index >= 0)
    safe = np.where(has, index, 0)

    def per_patient(values: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.where(has, values[safe], np.nan)

    patients = frame.assign(
        relative_risk=per_patient(point),
        relative_risk_low=per_patient(mc_low),
        relative_risk_high=per_patient(mc_high),
        absolute_risk=per_patient(absolute[0]),
        absolute_risk_low=per_patient(absolute[1]),
        absolute_risk_high=per_patient(absolute[2]),
    )
    return patients, contrasts, basis


def _per_unit(
    frame: pd.DataFrame,
    z: NDArray[np.float64],
    *,
    exposure: PerUnitExposure,
    generator: np.random.Generator,
    draws: int,
    tail: float,
) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """R_i = R^z_i: its quantiles are exp(z_i · quantiles of ln R), exact for every z."""
    log_ratio = generator.normal(exposure.ratio.log_estimate, exposure.ratio.log_se, draws)
    low, high = (float(v) for v in np.quantile(log_ratio, [tail, 1.0 - tail]))
    has = frame["status"].eq(ESTIMATED).to_numpy()
    ends = np.stack([z * low, z * high])
    patients = frame.assign(
        relative_risk=np.where(has, exposure.ratio.estimate**z, np.nan),
        relative_risk_low=np.where(has, np.exp(ends.min(axis=0)), np.nan),
        relative_risk_high=np.where(has, np.exp(ends.max(axis=0)), np.nan),
        absolute_risk=np.nan,
        absolute_risk_low=np.nan,
        absolute_risk_high=np.nan,
    )
    contrasts = pd.DataFrame(
        {
            "category": [exposure.contrast],
            "ratio": [exposure.ratio.estimate],
            "ratio_ci_low": [exposure.ratio.ci[0]],
            "ratio_ci_high": [exposure.ratio.ci[1]],
            "mc_low": [math.exp(low)],
            "mc_high": [math.exp(high)],
            "crude_risk": [math.nan],
            "absolute_risk": [math.nan],
            "absolute_risk_low": [math.nan],
            "absolute_risk_high": [math.nan],
        }
    )
    return patients, contrasts, ""
