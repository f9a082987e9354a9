"""The calcification section of ``mgckd simulate``: CAC over the simulated plasma, and where Mg's
effect on it comes from.

The scenario's simulation is the treated arm. When the scenario gives Mg (an intervention with
elemental Mg), two more runs make the counterfactuals of the decomposition: the same scenario
without the Mg-giving interventions (the control), and, when the model has Mg's gut phosphate
binding (``gut_mg_phosphate_binding``), the same scenario with it switched off.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd
from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from mgckd.calcification import (
    MgEffectDecomposition,
    PlasmaCourse,
    course_from_simulation,
    decompose_mg_effect,
    simulate_cac,
)
from mgckd.interventions import Intervention
from mgckd.simulate import PatientScenario, SimulationResult, parse_scenario, simulate

GUT_BINDING = "gut_mg_phosphate_binding"
"""The whole-body model's switch of Mg's gut phosphate binding (1 on, 0 off)."""


@dataclass(frozen=True, eq=False)
class CalcificationSection:
    """What the section reports.

    Attributes
    ----------
    summary : one row per patient (`CACResult.summary`).
    trajectories : one row per patient and save time (`CACResult.to_frame`).
    effect : the decomposition of Mg's effect, or None when the scenario gives no Mg.
    notes : sentences on what was assumed or left out.
    """

    summary: pd.DataFrame
    trajectories: pd.DataFrame
    effect: MgEffectDecomposition | None
    notes: tuple[str, ...]

    def merged(self, frame: pd.DataFrame) -> pd.DataFrame:
        """`frame` (one row per patient_id and time_h) with the CAC columns, prefixed ``cac_``."""
        keys = {"cac_patient_id": "patient_id", "cac_time_h": "time_h"}
        cac = self.trajectories.add_prefix("cac_").rename(columns=keys)
        return frame.merge(cac, on=list(keys.values()), how="left")

    def to_json(self) -> dict[str, object]:
        """``calcification``, ``mg_effect`` (or None) and ``notes`` as JSON-ready data."""
        effect = None if self.effect is None else json_records(self.effect.to_frame())
        return {
            "calcification": json_records(self.summary),
            "mg_effect": effect,
            "notes": list(self.notes),
        }


def json_records(frame: pd.DataFrame) -> list[dict[str, object]]:
    """Rows as JSON-ready records, NaN as None."""
    rows = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
    return [{str(k): v for k, v in row.items()} for row in rows]


def patient_table(title: str, frame: pd.DataFrame) -> Table:
    """A table with one row per quantity and one column per patient (``patient_id``)."""
    table = Table(title=title, title_justify="left")
    table.add_column("quantity")
    for pid in frame["patient_id"]:
        table.add_column(str(pid), justify="right")
    for column in frame.columns.drop("patient_id"):
        table.add_row(
            column, *(f"{v:.4g}" if isinstance(v, float) else str(v) for v in frame[column])
        )
    return table


def section_renderables(section: CalcificationSection) -> list[RenderableType]:
    """The section as printed: CAC per patient, the decomposition, the notes."""
    parts: list[RenderableType] = [
        patient_table("Coronary artery calcification (Agatston)", section.summary)
    ]
    if section.effect is not None:
        frame = section.effect.to_frame()
        points = ["patient_id", *(c for c in frame.columns if c.endswith("_points"))]
        parts.append(
            patient_table(
                "Mg's effect on CAC at the end, percentage points of the baseline score "
                "(Shapley attribution; positive: less calcification with Mg)",
                frame[points],
            )
        )
    parts.extend(Text(f"note: {note}") for note in section.notes)
    return parts


def _run(ready: PatientScenario) -> SimulationResult:
    return simulate(ready.model, ready.scenario, save_at=ready.save_at_h, throw=False)


def _course(result: SimulationResult, ready: PatientScenario, base: str) -> PlasmaCourse:
    return course_from_simulation(result, base=base, patient_ids=ready.patient_ids)


def _common(courses: list[PlasmaCourse]) -> list[PlasmaCourse]:
    """The courses restricted to the patients every one of them holds (solves that failed in
    any run are left out of all)."""
    kept = [p for p in courses[0].patient_ids if all(p in c.patient_ids for c in courses)]
    return [c.take([c.patient_ids.index(p) for p in kept]) for c in courses]


def _mg_effect(
    data: Mapping[str, Any],
    source: str,
    ready: PatientScenario,
    treated: PlasmaCourse,
    baseline: float | None,
    base: str,
) -> tuple[MgEffectDecomposition | None, list[str]]:
    given = data.get("interventions") or []
    without_mg = [i for i in given if Intervention.model_validate(i).mg_per_dose_mmol() == 0]
    if len(without_mg) == len(given):
        return None, ["the scenario gives no Mg: no decomposition of Mg's effect"]
    control_ready = parse_scenario({**data, "interventions": without_mg}, source=source)
    courses = [treated, _course(_run(control_ready), control_ready, base)]
    notes = ["control: the same scenario without the Mg-giving interventions"]
    if GUT_BINDING in ready.model.parameter_names:
        off = {**ready.scenario.parameters, GUT_BINDING: 0.0}
        unbound = replace(ready, scenario=replace(ready.scenario, parameters=off))
        courses.append(_course(_run(unbound), ready, base))
    else:
        notes.append(f"the model has no {GUT_BINDING}: no gut-binding part")
    treated, control, *rest = _common(courses)
    effect = decompose_mg_effect(
        treated,
        control,
        treated_without_gut_binding=rest[0] if rest else None,
        baseline_agatston=baseline,
    )
    return effect, notes


def calcification_section(
    data: Mapping[str, Any],
    source: str,
    ready: PatientScenario,
    result: SimulationResult,
    *,
    baseline_agatston: float | None,
    base: str,
) -> CalcificationSection:
    """CAC over the scenario's simulated plasma and, when it gives Mg, the decomposition.

    `data` is the scenario file as read (checked by `read_scenario`), `source` its name.
    """
    treated = _course(result, ready, base)
    cac = simulate_cac(treated, baseline_agatston=baseline_agatston)
    notes = []
    if treated.assumed:
        notes.append(
            f"not simulated, taken from the reference {base} plasma: " + ", ".join(treated.assumed)
        )
    effect, more = _mg_effect(data, source, ready, treated, baseline_agatston, base)
    return CalcificationSection(
        summary=cac.summary(),
        trajectories=cac.to_frame(),
        effect=effect,
        notes=(*notes, *more),
    )
