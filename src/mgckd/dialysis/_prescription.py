"""The dialysis prescription and its schedule: validated values.

Every number has a default and an accepted range in the parameter registry
(``params/data/dialysis.toml``); a value outside its range is refused with a `ScenarioError`
naming the field, the value and the range with its unit.

>>> Prescription().dialysate_mg_mmol_l
0.5
>>> Prescription(dialysate_mg_mmol_l=3.0)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
mgckd.exceptions.ScenarioError: dialysate_mg_mmol_l: 3 mmol/L is outside the accepted range ...
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

from mgckd._pint import quantity
from mgckd.exceptions import ScenarioError
from mgckd.params import parameters

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Day names of a weekly schedule, in week order."""
DEFAULT_WEEKDAYS = ("mon", "wed", "fri")
"""The usual thrice-weekly pattern."""
Modality = Literal["hd", "hdf"]


def hours(value: float, unit: str) -> float:
    """`value` in `unit` (a time) as hours."""
    return float(quantity(value, unit).to("h").magnitude)


def reference(name: str, unit: str) -> float:
    """A registry default in `unit`."""
    return parameters()[name].to(unit)


def registry_default(name: str, unit: str) -> Any:
    """A dataclass field whose default is the registry value `name` in `unit`."""
    return field(default_factory=lambda: reference(name, unit))


def check_range(where: str, value: float, range_name: str, unit: str) -> None:
    """Raise `ScenarioError` unless `value` lies in the registry range `range_name` (`unit`)."""
    low, high = parameters()[range_name].quantity.to(unit).magnitude
    if not (isinstance(value, int | float) and math.isfinite(value) and low <= value <= high):
        raise ScenarioError(
            f"{where}: {value:g} {unit} is outside the accepted range {low:g}-{high:g} {unit}"
            if isinstance(value, int | float) and not isinstance(value, bool)
            else f"{where}: {value!r} is not a number in {low:g}-{high:g} {unit}"
        )


@dataclass(frozen=True)
class Schedule:
    """When sessions run: a weekly pattern of weekdays, or every n days; the first session of
    the pattern starts at time 0 (hours), so time 0 is the start of the session after the longest
    gap when the pattern is weekly.

    Attributes
    ----------
    weekdays : days of a weekly pattern (``mon`` … ``sun``); default Mon/Wed/Fri.
    every_days : instead of weekdays, one session every this many days (1–7).
    duration_h : session length, hours.

    >>> Schedule().starts_h
    (0.0, 48.0, 96.0)
    >>> Schedule(every_days=2).period_h
    48.0
    """

    weekdays: tuple[str, ...] | None = None
    every_days: int | None = None
    duration_h: float = registry_default("dialysis_session_duration_reference_h", "h")

    def __post_init__(self) -> None:
        if self.weekdays is not None and self.every_days is not None:
            raise ScenarioError("schedule: give weekdays or every_days, not both")
        if self.every_days is not None and (
            isinstance(self.every_days, bool)
            or not isinstance(self.every_days, int)
            or not 1 <= self.every_days <= len(WEEKDAYS)
        ):
            raise ScenarioError(
                f"schedule.every_days: {self.every_days!r} is not a whole number of days 1-7"
            )
        if self.weekdays is not None:
            days = tuple(self.weekdays)
            unknown = [d for d in days if d not in WEEKDAYS]
            if unknown or not days or len(set(days)) != len(days):
                raise ScenarioError(
                    f"schedule.weekdays: {list(days)!r} must be distinct days among "
                    f"{', '.join(WEEKDAYS)}"
                )
            object.__setattr__(self, "weekdays", tuple(sorted(days, key=WEEKDAYS.index)))
        # the longest accepted session is shorter than a day, so sessions never overlap
        check_range(
            "schedule.duration_h", self.duration_h, "dialysis_session_duration_range_h", "h"
        )

    @property
    def days(self) -> tuple[str, ...]:
        """The weekly pattern's days (the default when neither form is given)."""
        return self.weekdays or DEFAULT_WEEKDAYS

    @property
    def period_h(self) -> float:
        """Length of the repeating pattern, hours (a week, or every_days days)."""
        if self.every_days is not None:
            return hours(self.every_days, "d")
        return hours(len(WEEKDAYS), "d")

    @property
    def starts_h(self) -> tuple[float, ...]:
        """Session starts within one period, hours from the first."""
        if self.every_days is not None:
            return (0.0,)
        first = WEEKDAYS.index(self.days[0])
        return tuple(hours(WEEKDAYS.index(d) - first, "d") for d in self.days)

    def gaps_before_h(self) -> tuple[float, ...]:
        """Hours from the end of the previous session to the start of each session of the
        pattern (the first session's gap wraps around from the last of the previous period)."""
        ends = [s + self.duration_h for s in self.starts_h]
        previous = [ends[-1] - self.period_h, *ends[:-1]]
        return tuple(s - e for s, e in zip(self.starts_h, previous, strict=True))


@dataclass(frozen=True)
class Prescription:
    """A hemodialysis prescription.

    Attributes
    ----------
    dialysate_mg_mmol_l, dialysate_ca_mmol_l, dialysate_bicarbonate_mmol_l : bath, mmol/L.
    blood_flow_ml_min, dialysate_flow_ml_min : flows, mL/min (dialysate above blood flow).
    modality : ``hd`` (hemodialysis) or ``hdf`` (post-dilution hemodiafiltration).
    substitution_volume_l : substitution fluid per session, L (hdf only; default the
        high-volume HDF of CONVINCE).
    schedule : when sessions run.
    """

    dialysate_mg_mmol_l: float = registry_default("dialysate_mg_reference_mmol_l", "mmol/L")
    dialysate_ca_mmol_l: float = registry_default("dialysate_ca_reference_mmol_l", "mmol/L")
    dialysate_bicarbonate_mmol_l: float = registry_default(
        "dialysate_bicarbonate_reference_mmol_l", "mmol/L"
    )
    blood_flow_ml_min: float = registry_default("dialysis_blood_flow_reference_ml_min", "mL/min")
    dialysate_flow_ml_min: float = registry_default(
        "dialysis_dialysate_flow_reference_ml_min", "mL/min"
    )
    modality: Modality = "hd"
    substitution_volume_l: float | None = None
    schedule: Schedule = field(default_factory=Schedule)

    def __post_init__(self) -> None:
        checks = (
            ("dialysate_mg_mmol_l", "dialysate_mg_range_mmol_l", "mmol/L"),
            ("dialysate_ca_mmol_l", "dialysate_ca_range_mmol_l", "mmol/L"),
            ("dialysate_bicarbonate_mmol_l", "dialysate_bicarbonate_range_mmol_l", "mmol/L"),
            ("blood_flow_ml_min", "dialysis_blood_flow_range_ml_min", "mL/min"),
            ("dialysate_flow_ml_min", "dialysis_dialysate_flow_range_ml_min", "mL/min"),
        )
        for name, range_name, unit in checks:
            check_range(name, getattr(self, name), range_name, unit)
        if self.dialysate_flow_ml_min <= self.blood_flow_ml_min:
            raise ScenarioError(
                f"dialysate_flow_ml_min: {self.dialysate_flow_ml_min:g} mL/min must exceed the "
                f"blood flow ({self.blood_flow_ml_min:g} mL/min)"
            )
        if self.modality not in ("hd", "hdf"):
            raise ScenarioError(f"modality: {self.modality!r} is not one of hd, hdf")
        if self.modality == "hd" and self.substitution_volume_l:
            raise ScenarioError(
                "substitution_volume_l: hemodialysis (modality hd) has no substitution fluid; "
                "use modality hdf"
            )
        if self.modality == "hdf":
            volume = self.substitution_volume_l
            if volume is None:
                volume = reference("hdf_substitution_volume_reference_l", "L")
                object.__setattr__(self, "substitution_volume_l", volume)
            check_range("substitution_volume_l", volume, "hdf_substitution_volume_range_l", "L")
        if not isinstance(self.schedule, Schedule):
            raise ScenarioError(f"schedule: {self.schedule!r} is not a Schedule")

    def substitution_flow_l_h(self) -> float:
        """Substitution flow while a session runs, L/h (0 for hemodialysis)."""
        return (self.substitution_volume_l or 0.0) / self.schedule.duration_h

    def model_parameters(self) -> dict[str, float]:
        """The model parameters this prescription sets, in model units."""
        per_h = float(quantity(1.0, "mL/min").to("L/h").magnitude)
        return {
            "dialysate_mg_mmol_l": self.dialysate_mg_mmol_l,
            "dialysate_ca_mmol_l": self.dialysate_ca_mmol_l,
            "blood_flow_l_h": self.blood_flow_ml_min * per_h,
            "dialysate_flow_l_h": self.dialysate_flow_ml_min * per_h,
            "substitution_flow_l_h": self.substitution_flow_l_h(),
        }
