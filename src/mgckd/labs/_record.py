"""The typed lab record of one patient: values with units and LOINC codes, checked once."""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from mgckd.exceptions import ImplausibleValueError, UnitError
from mgckd.labs._limits import describe_range, limits, outside, unit_mixup_hint
from mgckd.units import analyte, parse_value, to_internal, unit_basis


class Sex(StrEnum):
    """Sex as used by the CKD-EPI equation."""

    FEMALE = "female"
    MALE = "male"


class Dialysis(StrEnum):
    """Kidney replacement therapy the patient is on."""

    NONE = "none"
    HEMODIALYSIS = "hemodialysis"
    PERITONEAL = "peritoneal_dialysis"


_SEX_SPELLINGS = {"f": "female", "w": "female", "m": "male"}
_FROZEN = ConfigDict(frozen=True, extra="forbid")


class LabValue(BaseModel):
    """One measured analyte: the value and unit as reported, and the value in mgckd's internal unit.

    Attributes
    ----------
    analyte : canonical analyte name (aliases and LOINC codes are accepted on input).
    value : the number as reported.
    unit : the unit as reported (mg/dL, mmol/L, mEq/L, ...).
    loinc : LOINC code; filled in from the analyte and unit when not given.
    value_internal : the value in the analyte's internal unit (``internal_unit``).
    """

    model_config = _FROZEN

    analyte: str
    value: float
    unit: str
    loinc: str = ""
    value_internal: float = Field(default=math.nan, description="set on validation")

    @field_validator("analyte")
    @classmethod
    def _canonical(cls, name: str) -> str:
        return analyte(name).name

    @model_validator(mode="after")
    def _convert_and_check(self) -> Self:
        a = analyte(self.analyte)
        if not math.isfinite(self.value):
            raise ImplausibleValueError(f"{a.name}: value {self.value} is not a finite number")
        internal = float(to_internal(self.value, self.unit, analyte=a.name))
        if self.value < 0 and a.internal_unit != "pH":
            raise ImplausibleValueError(
                f"{a.name} {self.value:g} {self.unit} is negative; a concentration cannot be"
            )
        bounds = limits(a.name)
        if outside(internal, bounds.hard):
            hint = unit_mixup_hint(a.name, self.value, self.unit)
            raise ImplausibleValueError(
                f"{a.name} {self.value:g} {self.unit} is outside the plausible range "
                f"{describe_range(bounds.hard, bounds.unit)}" + (f"; {hint}" if hint else "")
            )
        object.__setattr__(self, "value_internal", internal)
        if not self.loinc:
            object.__setattr__(self, "loinc", a.loinc.get(unit_basis(self.unit), ""))
        elif self.loinc not in a.loinc_codes:
            raise UnitError(
                f"{a.name}: LOINC {self.loinc!r} is not one of {', '.join(a.loinc_codes)}"
            )
        return self

    @property
    def internal_unit(self) -> str:
        """The unit of `value_internal`."""
        return analyte(self.analyte).internal_unit

    @property
    def warning(self) -> str | None:
        """A sentence when the value lies outside the soft plausibility range, else None."""
        bounds = limits(self.analyte)
        if not outside(self.value_internal, bounds.soft):
            return None
        hint = unit_mixup_hint(self.analyte, self.value, self.unit)
        return (
            f"{self.analyte} {self.value:g} {self.unit} is implausible "
            f"(usual range {describe_range(bounds.soft, bounds.unit)})"
            + (f"; {hint}" if hint else "; confirm the value")
        )


class PatientLabs(BaseModel):
    """One patient's labs and the few facts needed to interpret them.

    Labs may be given as ``{"magnesium": "2.43 mg/dL"}`` or
    ``{"magnesium": {"value": 2.43, "unit": "mg/dL"}}``; keys may be aliases or LOINC codes.
    A value without a unit is refused: mgckd never guesses units.

    Examples
    --------
    >>> p = PatientLabs(age_years=70, sex="male", labs={"mg": "2.43 mg/dL"})
    >>> round(p.labs["magnesium"].value_internal, 2)
    1.0
    """

    model_config = _FROZEN

    patient_id: str = "patient-1"
    age_years: float | None = Field(default=None, ge=0, le=130)
    sex: Sex | None = None
    dialysis: Dialysis = Dialysis.NONE
    diabetes: bool | None = None
    labs: dict[str, LabValue] = Field(default_factory=dict)

    @field_validator("sex", mode="before")
    @classmethod
    def _sex_spelling(cls, sex: Any) -> Any:
        if isinstance(sex, str):
            return _SEX_SPELLINGS.get(sex.strip().lower(), sex.strip().lower())
        return sex

    @field_validator("labs", mode="before")
    @classmethod
    def _lab_entries(cls, labs: Any) -> Any:
        if not isinstance(labs, dict):
            return labs
        entries: dict[str, Any] = {}
        for key, raw in labs.items():
            name = analyte(str(key)).name
            if name in entries:
                raise ValueError(f"{name} is given twice (as {key!r} and an earlier key)")
            entries[name] = _lab_entry(name, raw)
        return entries

    @property
    def warnings(self) -> tuple[str, ...]:
        """Soft-limit warnings, one sentence each, in the order of the labs."""
        return tuple(w for v in self.labs.values() if (w := v.warning) is not None)

    def internal(self, analyte_name: str) -> float | None:
        """The value of an analyte in its internal unit, or None when not measured."""
        value = self.labs.get(analyte(analyte_name).name)
        return None if value is None else value.value_internal


def _lab_entry(name: str, raw: Any) -> Any:
    if isinstance(raw, LabValue):
        return raw
    if isinstance(raw, str):
        value, unit = parse_value(raw)
        if not unit and analyte(name).internal_unit != "pH":
            raise UnitError(
                f"{name}: {raw!r} has no unit; accepted units: {', '.join(analyte(name).units)}"
            )
        return {"analyte": name, "value": value, "unit": unit or "pH"}
    if isinstance(raw, dict):
        return {"analyte": name, **raw}
    if isinstance(raw, int | float) and analyte(name).internal_unit == "pH":
        return {"analyte": name, "value": raw, "unit": "pH"}
    raise UnitError(
        f"{name}: {raw!r} has no unit; give e.g. '{raw} {analyte(name).units[0]}' "
        f"(accepted units: {', '.join(analyte(name).units)})"
    )
