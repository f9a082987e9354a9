"""Scenario files (YAML): patients, their CKD course and diet, and interventions, read into the
physiology model and a `Scenario`. A mistake is a `ScenarioError` naming the field, the value and
what is accepted. The format is documented in docs/scenarios.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import yaml
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mgckd._pint import quantity
from mgckd.exceptions import InputFileError, ScenarioError
from mgckd.interventions import Intervention, intervention_schedule
from mgckd.model import Model, compile_model
from mgckd.physiology import GfrCourse, whole_body_model
from mgckd.simulate._scenario import Scenario

FloatArray = NDArray[np.float64]
_Positive = Annotated[float, Field(gt=0)]


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CourseSpec(_Strict):
    """GFR(t) = floor + (start − floor)·exp(−rate·t); ``preset: riggs_2012`` for the
    published course."""

    preset: Literal["riggs_2012"] | None = None
    start_ml_min: _Positive | None = None
    floor_ml_min: Annotated[float, Field(ge=0)] | None = None
    rate_per_year: Annotated[float, Field(ge=0)] | None = None

    def course(self, healthy_ml_min: float) -> GfrCourse:
        """The `GfrCourse` this spec describes (a constant healthy GFR by default)."""
        base = GfrCourse.riggs_2012() if self.preset else GfrCourse.constant(healthy_ml_min)
        start = self.start_ml_min if self.start_ml_min is not None else base.start_ml_min
        floor = (
            self.floor_ml_min if self.floor_ml_min is not None else min(base.floor_ml_min, start)
        )
        rate = self.rate_per_year if self.rate_per_year is not None else base.rate_per_year
        return GfrCourse(start, floor, rate)


class PatientSpec(_Strict):
    """One patient: an id, a CKD course, and what differs from the reference adult."""

    id: str | None = None
    gfr_course: CourseSpec = CourseSpec()
    diet_mg_mmol_d: _Positive | None = None
    diet_ca_mmol_d: _Positive | None = None
    diet_pi_mmol_d: _Positive | None = None
    tubular_injury: Annotated[float, Field(ge=0, lt=1)] | None = None


class ScenarioSpec(_Strict):
    """A whole scenario file."""

    model: Literal["magnesium"] = "magnesium"
    duration_days: _Positive
    save_every_days: _Positive | None = None
    patients: Annotated[list[PatientSpec], Field(min_length=1)] = [PatientSpec()]
    interventions: list[Intervention] = []
    dialysis: dict[str, Any] | None = None  # checked by mgckd.dialysis (docs/scenarios.md)


@dataclass(frozen=True, eq=False)
class PatientScenario:
    """A scenario file made ready to simulate: the model, the `Scenario`, the save times and the
    patient ids."""

    model: Model
    scenario: Scenario
    save_at_h: FloatArray
    patient_ids: tuple[str, ...]


def _describe(error: ValidationError) -> str:
    problems = []
    for problem in error.errors(include_url=False):
        where = ".".join(str(part) for part in problem["loc"]) or "(file)"
        value = problem.get("input")
        shown = "" if isinstance(value, dict | list) else f" (got {value!r})"
        problems.append(f"{where}: {problem['msg'].removeprefix('Value error, ')}{shown}")
    return "; ".join(problems)


def parse_scenario(data: Mapping[str, Any], *, source: str = "scenario") -> PatientScenario:
    """Check a scenario given as plain data and build it.

    Raises
    ------
    ScenarioError
        Naming each offending field (``patients.1.gfr_course.start_ml_min``), its value and
        what is accepted.
    """
    try:
        spec = ScenarioSpec.model_validate(data)
    except ValidationError as error:
        raise ScenarioError(f"{source}: {_describe(error)}") from None
    model = whole_body_model()
    compiled = compile_model(model)
    defaults = dict(zip(compiled.parameters, compiled.default_parameters, strict=True))
    healthy = float(quantity(defaults["gfr_start_l_h"], "L/h").to("mL/min").magnitude)
    courses = [p.gfr_course.course(healthy) for p in spec.patients]
    hours = float(quantity(1.0, "d").to("h").magnitude)
    duration_h = spec.duration_days * hours
    parameters = {
        "gfr_start_l_h": _l_h([c.start_ml_min for c in courses]),
        "gfr_floor_l_h": _l_h([c.floor_ml_min for c in courses]),
        "gfr_decline_per_h": np.array([c.rate_per_h() for c in courses]),
        **{
            f"diet_{x}_mmol_h": np.array(
                [
                    defaults[f"diet_{x}_mmol_h"] if d is None else d / hours
                    for d in (getattr(p, f"diet_{x}_mmol_d") for p in spec.patients)
                ]
            )
            for x in ("mg", "ca", "pi")
        },
        "tubular_injury": np.array(
            [
                defaults["tubular_injury"] if p.tubular_injury is None else p.tubular_injury
                for p in spec.patients
            ]
        ),
    }
    try:
        schedule = intervention_schedule(spec.interventions, duration_h=duration_h)
    except ScenarioError as error:
        raise ScenarioError(f"{source}: {error}") from None
    step = (spec.save_every_days or spec.duration_days / 100) * hours
    save_at = np.unique(np.append(np.arange(0.0, duration_h, step), duration_h))
    scenario = Scenario(
        duration_h=duration_h,
        n_patients=len(spec.patients),
        parameters=parameters,
        schedule=schedule,
    )
    if spec.dialysis is not None:
        from mgckd.dialysis._file import apply_dialysis_section  # noqa: PLC0415  (builds on us)

        try:
            model, scenario = apply_dialysis_section(
                spec.dialysis,
                model=model,
                scenario=scenario,
                given=[set(p.model_fields_set) for p in spec.patients],
            )
        except ScenarioError as error:
            raise ScenarioError(f"{source}: {error}") from None
    return PatientScenario(
        model=model,
        scenario=scenario,
        save_at_h=save_at,
        patient_ids=tuple(p.id or f"patient_{i + 1}" for i, p in enumerate(spec.patients)),
    )


def _l_h(values_ml_min: list[float]) -> FloatArray:
    out: FloatArray = np.asarray(quantity(np.array(values_ml_min), "mL/min").to("L/h").magnitude)
    return out


def read_yaml_mapping(path: str | Path, what: str) -> Mapping[str, Any]:
    """The mapping a YAML file holds; `what` names the file's kind in the error
    (``"a scenario file is a mapping of fields (duration_days, ...)"``)."""
    file = Path(path)
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except OSError as error:
        raise InputFileError(f"{file}: cannot read ({error.strerror})") from None
    except yaml.YAMLError as error:
        raise InputFileError(f"{file}: not valid YAML ({error})") from None
    if not isinstance(data, Mapping):
        raise ScenarioError(f"{file}: {what}")
    return data


def read_scenario(path: str | Path) -> PatientScenario:
    """Read a YAML scenario file (`parse_scenario` checks it)."""
    data = read_yaml_mapping(path, "a scenario file is a mapping of fields (duration_days, ...)")
    return parse_scenario(data, source=str(path))
