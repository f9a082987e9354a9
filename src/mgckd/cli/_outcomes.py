"""The CLI's bridge from lab records to the outcome layer: ``mgckd assess``'s outcome context.

For each packaged effect size whose population the patient belongs to, the published category
they fall in and its ratio with the 95 % CI and source — labelled an association, never advice.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mgckd.labs import Assessment, Finding, PatientLabs
from mgckd.outcomes import (
    ASSOCIATION,
    CategoricalExposure,
    Cohort,
    EffectSize,
    effect_sizes,
    published_context,
)

_EGFR = "egfr_ckd_epi_2021"
_LAB_OF_FIELD = {"mg_mmol_l": "magnesium", "phosphate_mmol_l": "phosphate"}
_NONE_MATCHED = (
    "no packaged effect size was published for this patient's population (dialysis, diabetes "
    "and eGFR as given); the list: mgckd risk --list"
)


def _egfr(assessment: Assessment) -> float:
    for finding in assessment.findings:
        if finding.name == _EGFR and isinstance(finding.value, int | float):
            return float(finding.value)
    return float("nan")


def _uses_labs_only(effect: EffectSize) -> bool:
    return effect.applicable and all(name in _LAB_OF_FIELD for name in effect.fields)


def _reference(effect: EffectSize) -> str:
    exposure = effect.exposure
    if isinstance(exposure, CategoricalExposure):
        return exposure.categories[exposure.reference_index].label
    return ""


def _finding(effect: EffectSize, row: dict[str, object]) -> Finding:
    """One patient's place in one effect: category, published ratio and CI, or why none."""
    label = f"Outcome context: {effect.title}"
    source = f"{effect.source.short}; {effect.source.render()}"
    population = f"published in {effect.population.description}"
    crude = row["crude_risk"]
    crude_text = (
        f"; crude {effect.horizon.render()} risk in this category {crude:.2%}"
        if isinstance(crude, float) and np.isfinite(crude)
        else ""
    )
    if row["status"] == "no_estimate":
        return Finding(
            f"outcome_{effect.id}",
            label,
            None,
            effect.measure,
            str(row["category"]),
            source,
            f"{row['reason']}{crude_text}; {population}",
        )
    what = f"{effect.measure} of {effect.outcome_label} over {effect.horizon.render()}"
    if row["status"] == "reference":
        category = f"{row['category']} (reference)"
        ci = f"reference category of the {what}"
    else:
        category = f"{row['category']} vs {_reference(effect)}"
        ci = f"{what}, 95 % CI {row['ratio_ci_low']:g}-{row['ratio_ci_high']:g}"
    return Finding(
        f"outcome_{effect.id}",
        label,
        round(float(str(row["ratio"])), 3),
        effect.measure,
        category,
        source,
        f"{ci}{crude_text}; {ASSOCIATION}, {population}",
    )


def outcome_findings(
    patients: Sequence[PatientLabs], assessed: Sequence[Assessment]
) -> list[tuple[Finding, ...]]:
    """Per patient, the published outcome categories they fall in (see module docstring).

    Only effects whose population the patient belongs to (dialysis, diabetes, eGFR from the
    assessment) and whose exposure was measured are shown; a lab value with a unit warning is not
    placed in a category. A patient with serum Mg but no matching population gets one note.
    """
    cohort = Cohort.from_patients(
        patients, egfr_ml_min_1_73m2=np.array([_egfr(a) for a in assessed])
    )
    found: list[list[Finding]] = [[] for _ in patients]
    for effect in effect_sizes():
        if not _uses_labs_only(effect):
            continue
        rows = published_context(cohort, effect).to_dict("records")
        for i, (patient, row) in enumerate(zip(patients, rows, strict=True)):
            if row["outside_population"] or not np.isfinite(row["exposure"]):
                continue
            warned = [
                lab
                for field, lab in _LAB_OF_FIELD.items()
                if field in effect.fields and lab in patient.labs and patient.labs[lab].warning
            ]
            if warned:
                found[i].append(
                    Finding(
                        f"outcome_{effect.id}",
                        f"Outcome context: {effect.title}",
                        None,
                        effect.measure,
                        "",
                        effect.source.short,
                        f"not placed in a category: check the {', '.join(warned)} unit first",
                    )
                )
                continue
            found[i].append(_finding(effect, {str(k): v for k, v in row.items()}))
    for i, patient in enumerate(patients):
        if not found[i] and patient.internal("magnesium") is not None:
            found[i].append(Finding("outcome_context", "Outcome context", None, note=_NONE_MATCHED))
    return [tuple(f) for f in found]
