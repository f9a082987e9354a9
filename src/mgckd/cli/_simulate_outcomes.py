"""The outcome section of ``mgckd simulate``: where each simulated patient stands in the published
associations (`mgckd.outcomes`), at the start and at the end of the scenario.

Each patient's labs are read as the published cohorts measured them (`sample_times`: on
hemodialysis the pre-dialysis value at the sampling session), made into a cohort
(`cohort_from_simulation`) and given every packaged effect size that applies (`apply_effects`):
the category, the published ratio with its 95 % CI, the Monte Carlo interval and, where a
baseline is published, the absolute risk. Effects whose population the patient is outside of are
refused with the reason unless asked for; every number is labelled an association, not causation,
and a research estimate, not a treatment instruction.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from mgckd.cli._simulate_calcification import json_records
from mgckd.dialysis import Schedule, sessions
from mgckd.outcomes import (
    LABEL,
    OutcomeReport,
    Sample,
    apply_effects,
    cohort_from_simulation,
    sample_times,
)
from mgckd.simulate import PatientScenario, SimulationResult

SAMPLE_ORDER = ("start", "end")
_APPLIED_STATUSES = ("estimated", "reference", "no_estimate")


@dataclass(frozen=True, eq=False)
class OutcomeSection:
    """What the section reports.

    Attributes
    ----------
    samples : when the labs were read (start, end).
    reports : the `OutcomeReport` of each sample.
    notes : sentences on what was assumed or left out.
    """

    samples: tuple[Sample, ...]
    reports: tuple[OutcomeReport, ...]
    notes: tuple[str, ...]

    def to_frame(self) -> pd.DataFrame:
        """One row per (effect, patient, sample): the `OutcomeReport.patients` columns with
        ``sample`` and ``sample_time_h``."""
        frames = [
            report.patients.assign(sample=sample.name, sample_time_h=sample.time_h)
            for sample, report in zip(self.samples, self.reports, strict=True)
            if not report.patients.empty
        ]
        if not frames:
            return pd.DataFrame()
        frame = pd.concat(frames, ignore_index=True)
        effects = {e: i for i, e in enumerate(self.reports[0].effects["effect_id"])}
        order = np.lexsort(
            (
                frame["sample"].map(SAMPLE_ORDER.index).to_numpy(),
                pd.factorize(frame["patient_id"])[0],
                frame["effect_id"].map(effects).to_numpy(),
            )
        )
        return frame.iloc[order].reset_index(drop=True)

    def effects(self) -> pd.DataFrame:
        """One row per (effect, sample): the `OutcomeReport.effects` columns with ``sample``."""
        return pd.concat(
            [
                report.effects.assign(sample=sample.name)
                for sample, report in zip(self.samples, self.reports, strict=True)
            ],
            ignore_index=True,
        )

    def to_json(self) -> dict[str, Any]:
        """``outcomes``: the label, the samples, the effects, every row, metadata and notes."""
        return {
            "outcomes": {
                "label": LABEL,
                "samples": [
                    {"name": s.name, "time_h": s.time_h, "description": s.description}
                    for s in self.samples
                ],
                "effects": json_records(self.effects()),
                "patients": json_records(self.to_frame()),
                "metadata": self.reports[0].metadata,
                "notes": list(self.notes),
            }
        }

    def renderables(self) -> list[RenderableType]:
        """The table of applied associations, then what each effect is and what was not
        applied, the notes and the label."""
        frame = self.to_frame()
        applied = frame[frame["status"].isin(_APPLIED_STATUSES)] if not frame.empty else frame
        effects = self.effects()
        end = effects.query("sample == 'end'")
        per_unit = end[end["exposure_kind"] == "per_unit"]
        contrasts = dict(zip(per_unit["effect_id"], per_unit["contrast"], strict=True))
        parts: list[RenderableType] = []
        reasons: list[str] = []
        if not applied.empty:
            parts.append(_table(applied, contrasts, reasons))
        parts.extend(Text(f"note {i}: {reason}") for i, reason in enumerate(reasons, start=1))
        applied_effects = effects[effects["status"] == "applied"].drop_duplicates("effect_id")
        parts.extend(_described(row) for row in applied_effects.to_dict("records"))
        parts.extend(_not_applied(frame, end))
        parts.extend(Text(f"note: {n}") for n in self.notes)
        parts.append(Text(f"{LABEL.capitalize()}.", style="dim"))
        return parts


def _interval(point: Any, low: Any, high: Any, fmt: str) -> str:
    if not np.isfinite(float(point)):
        return ""
    return f"{float(point):{fmt}} ({float(low):{fmt}}-{float(high):{fmt}})"


def _table(frame: pd.DataFrame, contrasts: Mapping[str, str], reasons: list[str]) -> Table:
    """One row per applied (effect, patient, sample); a per-unit effect's contrast is named in
    its first row (`contrasts`: effect id → the contrast, for per-unit effects only); why a row
    has no estimate is a numbered note, its text appended to `reasons`."""
    table = Table(
        title=f"Published outcome associations (published 95 % CI; Monte Carlo interval; {LABEL})",
        title_justify="left",
    )
    columns = ("effect", "patient", "sample", "exposure", "category", "ratio (95 % CI)")
    for column in (*columns, "Monte Carlo", "absolute risk"):
        table.add_column(column, overflow="fold")
    last = None
    for row in frame.to_dict("records"):
        effect_id, status = str(row["effect_id"]), row["status"]
        ratio = _interval(row["ratio"], row["ratio_ci_low"], row["ratio_ci_high"], ".3g")
        if status == "reference":
            ratio = "reference"
        elif status == "no_estimate":
            if row["reason"] not in reasons:
                reasons.append(str(row["reason"]))
            ratio = f"none (note {reasons.index(row['reason']) + 1})"
        contrast = f", {contrasts[effect_id]}" if effect_id in contrasts else ""
        table.add_row(
            "" if effect_id == last else f"{effect_id}\n{row['measure']}{contrast}",
            f"{row['patient_id']}" + (" (outside population)" if row["outside_population"] else ""),
            str(row["sample"]),
            f"{float(row['exposure']):.4g} {row['exposure_unit']}",
            "" if effect_id in contrasts else str(row["category"]),
            ratio,
            ""
            if status != "estimated"
            else f"{float(row['relative_risk_low']):.3g}-{float(row['relative_risk_high']):.3g}",
            _interval(
                row["absolute_risk"], row["absolute_risk_low"], row["absolute_risk_high"], ".2%"
            ),
        )
        last = effect_id
    return table


def _described(row: Mapping[Hashable, Any]) -> Text:
    """What one applied effect is: outcome, population, source, absolute-risk basis."""
    lines = [
        f"{row['effect_id']}: {row['measure']} of {row['outcome_label']} over {row['horizon']}"
        + (f" (claims {row['claims']})" if row["claims"] else ""),
        f"  population: {row['population']}",
        f"  adjustment: {row['adjustment']}",
        f"  source: {row['source']}",
    ]
    if row["absolute_risk_basis"]:
        lines.append(f"  absolute risk: {row['absolute_risk_basis']}")
    if row["interaction"]:
        lines.append(f"  interaction (context, not applied): {row['interaction']}")
    return Text("\n".join(lines))


def _not_applied(frame: pd.DataFrame, end: pd.DataFrame) -> list[Text]:
    """Lines on the effects not applied at the end: refused patients, blocked, lacking data."""
    lines = []
    refused = (
        frame[(frame["status"] == "outside_population") & (frame["sample"] == "end")]
        if not frame.empty
        else frame
    )
    patients = frame["patient_id"].nunique() if not frame.empty else 0
    for effect_id, group in refused.groupby("effect_id", sort=False):
        reasons = group["reason"].unique()
        who = (
            f"every patient: {reasons[0]}"
            if len(reasons) == 1 and len(group) == patients
            else "; ".join(
                f"{p}: {r}" for p, r in zip(group["patient_id"], group["reason"], strict=True)
            )
        )
        lines.append(f"not applied, outside its population: {effect_id} — {who}")
    if not refused.empty:
        lines.append(
            "(--allow-outside-population applies an effect outside its population, flagged: an "
            "extrapolation)"
        )
    for row in end[end["status"].isin(("blocked", "not_applicable"))].to_dict("records"):
        lines.append(f"not applicable: {row['effect_id']} — {row['reason']}")
    return [Text(line) for line in lines]


def _schedule(section: Mapping[str, Any]) -> Schedule:
    """The schedule of a scenario file's ``dialysis`` section (already checked)."""
    given = {k: v for k, v in (section.get("schedule") or {}).items() if v is not None}
    if "weekdays" in given:
        given["weekdays"] = tuple(given["weekdays"])
    return Schedule(**given)


def outcome_samples(data: Mapping[str, Any], ready: PatientScenario) -> tuple[Sample, ...]:
    """When each patient's labs are read (`sample_times`), from the scenario file as read (its
    ``dialysis`` section gives the sessions); refused before the simulation when the save times
    cannot hold them."""
    dialysis = data.get("dialysis")
    if dialysis is None:
        return sample_times(ready.save_at_h)
    schedule = _schedule(dialysis)
    held = sessions(
        schedule,
        duration_h=ready.scenario.duration_h,
        missed=dialysis.get("missed_sessions") or (),
    )
    return sample_times(ready.save_at_h, schedule=schedule, held=held)


def outcome_section(
    samples: tuple[Sample, ...],
    ready: PatientScenario,
    result: SimulationResult,
    *,
    dialysis: bool,
    base: str,
    diabetes: bool | None,
    allow_outside_population: bool,
    seed: int,
    draws: int,
) -> OutcomeSection:
    """The published context of every simulated patient at each of `samples`
    (`outcome_samples`); `dialysis` says whether the scenario has hemodialysis sessions."""
    status = "hemodialysis" if dialysis else "none"
    cohorts = [
        cohort_from_simulation(
            result,
            sample,
            dialysis=status,
            base=base,
            patient_ids=ready.patient_ids,
            diabetes=diabetes,
        )
        for sample in samples
    ]
    reports = tuple(
        apply_effects(
            c.cohort,
            rng=seed,
            draws=draws,
            allow_outside_population=allow_outside_population,
            check_units=False,
        )
        for c in cohorts
    )
    first = cohorts[0]
    notes = [f"{s.name}: {s.description}" for s in samples]
    notes.append(
        "eGFR: the model's GFR (mL/min, the reference adult) read as mL/min/1.73 m²"
        if status == "none"
        else "serum values are pre-dialysis, as the hemodialysis cohorts measured them"
    )
    notes.append(
        "diabetes: unknown (--diabetes yes|no places patients in the diabetic or non-diabetic "
        "cohorts)"
        if diabetes is None
        else f"diabetes: {'yes' if diabetes else 'no'} for every patient (--diabetes)"
    )
    if first.assumed:
        notes.append(
            f"T50: in silico on the simulated plasma; not simulated, from the reference {base} "
            "plasma: " + ", ".join(first.assumed)
        )
    if first.left_out:
        notes.append("not assessed (solve failed): " + ", ".join(first.left_out))
    notes.append(f"Monte Carlo: {draws} draws per ratio, seed {seed} (--seed, --draws)")
    return OutcomeSection(samples=tuple(samples), reports=reports, notes=tuple(notes))
