"""Every packaged effect size applied to one cohort: where the patients stand in each published
association, and for whom, and why, an effect was not applied.

`apply_effects` runs `risk` for each applicable record on the patients inside its population
(every patient with ``allow_outside_population``, then flagged) and says for the others why not:
outside the population (with the reason), the record blocked, or its exposure not in the cohort
(e.g. phosphate from a Mg-only model). Each effect draws from its own stream of the seed, so its
intervals do not depend on which other effects applied.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mgckd._version import __version__
from mgckd.exceptions import UserInputError
from mgckd.outcomes._cohort import Cohort
from mgckd.outcomes._context import ASSOCIATION, population_mismatch, published_context
from mgckd.outcomes._effects import EffectSize, PerUnitExposure, effect_sizes
from mgckd.outcomes._risk import labelled, records, risk

RESEARCH_ESTIMATE = "a research estimate, not a treatment instruction"
LABEL = f"{ASSOCIATION}; {RESEARCH_ESTIMATE}"
"""The label of every applied effect size."""
APPLIED = "applied"
OUTSIDE = "outside_population"
BLOCKED = "blocked"
NOT_APPLICABLE = "not_applicable"
_BLANK = (
    "category",
    "ratio",
    "ratio_ci_low",
    "ratio_ci_high",
    "crude_risk",
    "relative_risk",
    "relative_risk_low",
    "relative_risk_high",
    "absolute_risk",
    "absolute_risk_low",
    "absolute_risk_high",
)
"""Columns left empty for a patient an effect was not applied to."""


@dataclass(frozen=True, eq=False)
class OutcomeReport:
    """What `apply_effects` found.

    Attributes
    ----------
    effects : one row per packaged effect — ``effect_id``, ``title``, ``outcome``,
        ``outcome_label``, ``measure``, ``horizon``, ``exposure_kind`` (``categorical`` or
        ``per_unit``), ``contrast`` (the per-unit step, or the reference category),
        ``population``, ``adjustment``, ``source``, ``claims``, ``status``
        (``applied`` to at least one patient, ``outside_population`` for every patient,
        ``blocked``, ``not_applicable`` when the cohort lacks its exposure), ``reason``,
        ``n_applied``, ``n_outside_population`` (refused, or flagged when applied on request),
        ``absolute_risk_basis`` and ``interaction`` (context, not applied).
    patients : one row per (effect, patient) for the effects applied or refused: the columns of
        `RiskResult.to_frame`; a refused patient has status ``outside_population``, the reason
        and no ratio.
    metadata : seed, draws, level, ``allow_outside_population``, mgckd version.
    """

    effects: pd.DataFrame
    patients: pd.DataFrame
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """``association, not causation; a research estimate, not a treatment instruction``."""
        return LABEL

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the label, the effects, every (effect, patient) row and the metadata."""
        return {
            "label": self.label,
            "effects": records(self.effects),
            "patients": records(self.patients),
            "metadata": self.metadata,
        }


def _effect_row(effect: EffectSize, status: str, reason: str, **counts: Any) -> dict[str, Any]:
    interaction = effect.interaction
    return {
        "effect_id": effect.id,
        "title": effect.title,
        "outcome": effect.outcome,
        "outcome_label": effect.outcome_label,
        "measure": effect.measure,
        "horizon": effect.horizon.render(),
        "exposure_kind": effect.exposure.kind,
        "contrast": effect.exposure.contrast
        if isinstance(effect.exposure, PerUnitExposure)
        else "categories vs " + effect.exposure.categories[effect.exposure.reference_index].label,
        "population": effect.population.render(),
        "adjustment": effect.adjustment,
        "source": effect.source.render(),
        "claims": ", ".join(effect.claims),
        "status": status,
        "reason": reason,
        "n_applied": counts.get("n_applied", 0),
        "n_outside_population": counts.get("n_outside", 0),
        "absolute_risk_basis": counts.get("basis", ""),
        "interaction": ""
        if interaction is None
        else f"P = {interaction.p_value:g}; {interaction.description}",
    }


def _missing_fields(cohort: Cohort, effect: EffectSize) -> list[str]:
    return [name for name in effect.fields if cohort.column(name) is None]


def _refused(cohort: Cohort, effect: EffectSize, outside: np.ndarray) -> pd.DataFrame:
    """Rows of the patients refused: their exposure and why they are outside, no ratio."""
    frame = published_context(cohort.take(outside), effect)
    frame = frame.assign(status=OUTSIDE, reason=frame["population_mismatch"].astype(str))
    for column in _BLANK:
        frame[column] = "" if column == "category" else math.nan
    return labelled(frame, effect)


def _one(
    cohort: Cohort,
    effect: EffectSize,
    *,
    rng: np.random.Generator,
    draws: int,
    level: float,
    allow_outside_population: bool,
    check_units: bool,
) -> tuple[dict[str, Any], pd.DataFrame | None]:
    """The effect row and the patient rows of one effect."""
    if not effect.applicable:
        return _effect_row(effect, BLOCKED, str(effect.blocked)), None
    missing = _missing_fields(cohort, effect)
    if missing:
        reason = f"needs {', '.join(missing)}, which the cohort lacks"
        return _effect_row(effect, NOT_APPLICABLE, reason), None
    outside = population_mismatch(cohort, effect) != ""
    inside = np.ones(cohort.n, dtype=bool) if allow_outside_population else ~outside
    parts, positions = [], []
    basis = ""
    if inside.any():
        result = risk(
            cohort.take(inside),
            effect,
            rng=rng,
            draws=draws,
            level=level,
            allow_outside_population=allow_outside_population,
            check_units=check_units,
        )
        parts.append(result.to_frame())
        positions.append(np.flatnonzero(inside))
        basis = result.absolute_risk_basis
    if not allow_outside_population and outside.any():
        parts.append(_refused(cohort, effect, outside))
        positions.append(np.flatnonzero(outside))
    frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    if len(parts) > 1:  # back into the cohort's order
        frame = frame.iloc[np.argsort(np.concatenate(positions), kind="stable")]
    status = APPLIED if inside.any() else OUTSIDE
    count = f"{int(outside.sum())} of {cohort.n} patients outside the population"
    reason = (
        ""
        if not outside.any()
        else f"{count}: applied to them on request (flagged), an extrapolation"
        if allow_outside_population
        else f"{count}: not applied to them (allow_outside_population applies it, flagged)"
    )
    row = _effect_row(
        effect,
        status,
        reason,
        n_applied=int(inside.sum()),
        n_outside=int(outside.sum()),
        basis=basis,
    )
    return row, frame


def apply_effects(
    cohort: Cohort,
    *,
    rng: int,
    draws: int = 4000,
    level: float = 0.95,
    allow_outside_population: bool = False,
    effects: tuple[EffectSize, ...] | None = None,
    check_units: bool = True,
) -> OutcomeReport:
    """Apply every packaged effect size (or `effects`) to `cohort` where it belongs.

    Parameters
    ----------
    cohort : the patients (`Cohort`; e.g. `cohort_from_simulation`).
    rng : the seed; effect k of the registry draws from the k-th child of
        ``numpy.random.SeedSequence(rng)``.
    draws, level : Monte Carlo draws per ratio and interval coverage (`risk`).
    allow_outside_population : apply each effect to every patient, those outside its population
        flagged; otherwise they are refused (listed with the reason, no ratio).
    effects : the records to apply (default: every packaged one).
    check_units : as in `risk` (False for a simulated cohort, whose units are known).

    Returns
    -------
    OutcomeReport
        Labelled ``association, not causation; a research estimate, not a treatment
        instruction``.

    Examples
    --------
    >>> from mgckd.outcomes import Cohort
    >>> cohort = Cohort(dialysis=["hemodialysis", "none"], mg_mmol_l=[0.9, 0.9])
    >>> report = apply_effects(cohort, rng=1)
    >>> row = report.effects.set_index("effect_id").loc["sakaguchi-2014-cv-death-mg-categories"]
    >>> print(row["status"], row["n_applied"], row["n_outside_population"])
    applied 1 1
    >>> report.patients.query("patient_id == 'patient-2'")["status"].unique().tolist()
    ['outside_population']
    """
    if isinstance(rng, bool) or not isinstance(rng, int | np.integer):
        raise UserInputError(f"rng {rng!r} must be a seed (a whole number)")
    chosen = effect_sizes() if effects is None else effects
    streams = np.random.SeedSequence(int(rng)).spawn(len(chosen))
    rows, frames = [], []
    for effect, stream in zip(chosen, streams, strict=True):  # a handful of records
        row, frame = _one(
            cohort,
            effect,
            rng=np.random.default_rng(stream),
            draws=draws,
            level=level,
            allow_outside_population=allow_outside_population,
            check_units=check_units,
        )
        rows.append(row)
        if frame is not None:
            frames.append(frame)
    patients = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return OutcomeReport(
        effects=pd.DataFrame(rows),
        patients=patients,
        metadata={
            "mgckd_version": __version__,
            "seed": int(rng),
            "draws": draws,
            "level": level,
            "allow_outside_population": allow_outside_population,
        },
    )
