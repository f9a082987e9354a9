"""The ``dialysis:`` section of a scenario file (docs/scenarios.md#hemodialysis).

`mgckd.simulate.parse_scenario` builds the patients, their parameters and the interventions as
usual and hands them here: the prescription and schedule are checked, the model is given
dialysis, every patient starts at the long-run (periodic) steady state of their prescription at
the start of the first session, and the sessions join the schedule. Patients without a
``gfr_course`` get the section's residual GFR; patients without ``diet_mg_mmol_d`` or
``diet_pi_mmol_d`` the reference hemodialysis patient's intakes, and every patient its Mg
absorption and unbound fraction of dietary phosphate (a phosphate intake given in the file is
multiplied by that fraction).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mgckd.dialysis._patients import DialysisPatients, hemodialysis
from mgckd.dialysis._periodic import periodic_steady_state
from mgckd.dialysis._prescription import Prescription, Schedule, reference
from mgckd.dialysis._sessions import session_windows, sessions
from mgckd.exceptions import ScenarioError
from mgckd.model import Model, compile_model
from mgckd.simulate._scenario import Scenario

_GFR = ("gfr_start_l_h", "gfr_floor_l_h", "gfr_decline_per_h")
_OWN_DIET = {
    "diet_mg_mmol_h": ("diet_mg_mmol_d", None),
    "diet_pi_mmol_h": ("diet_pi_mmol_d", "hemodialysis_phosphate_unbound_fraction"),
}
"""Diet parameters a patient of the file may set: the field, and the registry fraction of the
intake that reaches the model's gut lumen (None: all of it)."""


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ScheduleSpec(_Strict):
    """``dialysis.schedule``: weekdays or every_days, and the session length."""

    weekdays: list[str] | None = None
    every_days: int | None = None
    duration_h: float | None = None


class DialysisSpec(_Strict):
    """The ``dialysis:`` section (types only; ranges are the prescription's)."""

    dialysate_mg_mmol_l: float | None = None
    dialysate_ca_mmol_l: float | None = None
    dialysate_bicarbonate_mmol_l: float | None = None
    blood_flow_ml_min: float | None = None
    dialysate_flow_ml_min: float | None = None
    modality: Literal["hd", "hdf"] = "hd"
    substitution_volume_l: float | None = None
    schedule: ScheduleSpec = ScheduleSpec()
    missed_sessions: list[Annotated[int, Field(ge=1)]] = []
    residual_gfr_ml_min: float | None = None
    fluid_gain_l_d: float | None = None
    hematocrit: float | None = None


def _given(spec: BaseModel) -> dict[str, Any]:
    return {name: getattr(spec, name) for name in spec.model_fields_set}


def prescription_of(spec: DialysisSpec) -> Prescription:
    """The `Prescription` of a checked section (`ScenarioError` names the field)."""
    schedule_fields = _given(spec.schedule)
    if "weekdays" in schedule_fields:
        schedule_fields["weekdays"] = tuple(schedule_fields["weekdays"])
    fields = {
        k: v
        for k, v in _given(spec).items()
        if k in Prescription.__dataclass_fields__ and k != "schedule"
    }
    return Prescription(**fields, schedule=Schedule(**schedule_fields))


def apply_dialysis_section(
    data: Mapping[str, Any],
    *,
    model: Model,
    scenario: Scenario,
    given: Sequence[set[str]],
) -> tuple[Model, Scenario]:
    """The model with dialysis and the scenario with the sessions, starting every patient at the
    long-run state of the prescription.

    Parameters
    ----------
    data : the section as read from the file.
    model : the scenario's model.
    scenario : the scenario without dialysis (patients' parameters, interventions).
    given : per patient, the fields the file set for them (``gfr_course``, ``diet_mg_mmol_d``).

    Raises
    ------
    ScenarioError
        Naming the field (``dialysis.dialysate_mg_mmol_l``), the value and what is accepted.
    """
    try:
        spec = DialysisSpec.model_validate(data)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ScenarioError(f"dialysis.{where}: {first['msg']}") from None
    try:
        prescription = prescription_of(spec)
        patients = DialysisPatients(
            **{
                k: v
                for k, v in _given(spec).items()
                if k in ("residual_gfr_ml_min", "fluid_gain_l_d", "hematocrit")
            }
        )
    except ScenarioError as error:
        raise ScenarioError(f"dialysis.{error}") from None
    n = scenario.n_patients
    own_course = np.array(["gfr_course" in g for g in given])
    base = hemodialysis(model, prescription, patients)
    defaults = base.parameters()
    overrides: dict[str, Any] = {}
    for name, value in scenario.parameters.items():
        file_values = np.broadcast_to(np.asarray(value, dtype=np.float64), (n,))
        if name in _GFR:
            overrides[name] = np.where(own_course, file_values, defaults[name][0])
        elif name in _OWN_DIET:
            field, reaching = _OWN_DIET[name]
            own = np.array([field in g for g in given])
            unbound = 1.0 if reaching is None else reference(reaching, "1")
            overrides[name] = np.where(own, file_values * unbound, defaults[name][0])
        else:
            overrides[name] = file_values
    hd = hemodialysis(model, [prescription] * n, patients, overrides=overrides)
    start = periodic_steady_state(hd).states
    held = sessions(
        prescription.schedule, duration_h=scenario.duration_h, missed=spec.missed_sessions
    )
    windows = session_windows(
        held, period_h=prescription.schedule.period_h, fluid_gain_l_h=hd.fluid_gain_l_h()
    )
    compiled = compile_model(hd.model)
    return hd.model, Scenario(
        duration_h=scenario.duration_h,
        n_patients=n,
        parameters=hd.parameters(),
        schedule=(*scenario.schedule, *windows),
        initial={name: start[i] for i, name in enumerate(compiled.species)},
    )
