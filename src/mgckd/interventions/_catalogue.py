"""The drugs mgckd knows, what each does to the physiology model, and their schedules.

Mg salts add elemental Mg to the gut lumen (the salt mass times the Mg fraction of its formula,
from the registry's molar masses), either as a daily average (a supplement rate) or as discrete
doses. Diuretics change renal parameters while they are taken. Drugs whose action lives in a
module not built yet (Ca, phosphate, PTH, calcitriol) are refused with a message saying so.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from mgckd._pint import quantity
from mgckd.exceptions import ScenarioError
from mgckd.model import Dose, Event, SetParameter
from mgckd.params import parameters

_SUPPLEMENT = "supplement_mg_mmol_h"
_GUT = "mg_gut"


class Drug(StrEnum):
    """Interventions of issue 5; those marked pending need modules not built yet."""

    MAGNESIUM_OXIDE = "magnesium_oxide"
    MAGNESIUM_HYDROXIDE = "magnesium_hydroxide"
    MAGNESIUM_CARBONATE = "magnesium_carbonate"
    LOOP_DIURETIC = "loop_diuretic"
    THIAZIDE = "thiazide"
    CALCIUM_ACETATE_MAGNESIUM_CARBONATE = "calcium_acetate_magnesium_carbonate"
    CALCIUM_CARBONATE = "calcium_carbonate"
    SEVELAMER = "sevelamer"
    CALCITRIOL = "calcitriol"
    CINACALCET = "cinacalcet"


MG_SALTS: dict[Drug, str] = {
    Drug.MAGNESIUM_OXIDE: "molar_mass_magnesium_oxide",
    Drug.MAGNESIUM_HYDROXIDE: "molar_mass_magnesium_hydroxide",
    Drug.MAGNESIUM_CARBONATE: "molar_mass_magnesium_carbonate",
}
"""Mg salts and the registry name of their molar mass (one Mg per formula unit)."""

RENAL_EFFECTS: dict[Drug, tuple[str, str, str]] = {
    Drug.LOOP_DIURETIC: (
        "loop_diuretic_inhibition",
        "loop_diuretic_tal_inhibition",
        "loop_diuretic_tal_inhibition_none",
    ),
    Drug.THIAZIDE: (
        "thiazide_inhibition",
        "thiazide_dct_inhibition",
        "thiazide_dct_inhibition_none",
    ),
}
"""Drugs acting on the kidney: (model parameter, registry value on, registry value off)."""

PENDING: dict[Drug, str] = {
    Drug.CALCIUM_ACETATE_MAGNESIUM_CARBONATE: "its calcium and phosphate-binding action needs "
    "the Ca and phosphate modules",
    Drug.CALCIUM_CARBONATE: "it needs the Ca and phosphate modules",
    Drug.SEVELAMER: "it needs the phosphate module (gut binding)",
    Drug.CALCITRIOL: "it needs the calcitriol/PTH module",
    Drug.CINACALCET: "it needs the PTH module (parathyroid CaSR)",
}


class Intervention(BaseModel):
    """One drug taken over a period.

    Attributes
    ----------
    drug : which drug.
    dose_mg : mass of the salt per dose, mg (Mg salts only).
    doses_per_day : doses a day.
    start_day, stop_day : when it is taken, days from the start (stop_day None: to the end).
    delivery : ``daily_average`` (a constant supplement rate: the right choice over months)
        or ``doses`` (each dose a bolus into the gut lumen).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    drug: Drug
    dose_mg: Annotated[float, Field(gt=0)] | None = None
    doses_per_day: Annotated[int, Field(ge=1, le=24)] = 1
    start_day: Annotated[float, Field(ge=0)] = 0.0
    stop_day: Annotated[float, Field(gt=0)] | None = None
    delivery: Literal["daily_average", "doses"] = "daily_average"

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.stop_day is not None and self.stop_day <= self.start_day:
            raise ValueError(f"stop_day {self.stop_day} must be after start_day {self.start_day}")
        if self.drug in MG_SALTS and self.dose_mg is None:
            raise ValueError(f"{self.drug.value} needs dose_mg (mg of the salt per dose)")
        if self.drug not in MG_SALTS and self.dose_mg is not None:
            raise ValueError(f"{self.drug.value} takes no dose_mg (its effect is a fixed size)")
        return self

    def mg_per_dose_mmol(self) -> float:
        """Elemental Mg per dose, mmol (0 for a drug that is not a Mg salt)."""
        if self.drug not in MG_SALTS or self.dose_mg is None:
            return 0.0
        molar_mass = parameters()[MG_SALTS[self.drug]].quantity
        return float((quantity(self.dose_mg, "mg") / molar_mass).to("mmol").magnitude)

    def window_h(self, duration_h: float) -> tuple[float, float]:
        """Start and stop in hours, the stop capped at `duration_h`."""
        hours = _hours_per_day()
        stop = duration_h if self.stop_day is None else min(self.stop_day * hours, duration_h)
        return self.start_day * hours, stop


def _hours_per_day() -> float:
    return float(quantity(1.0, "d").to("h").magnitude)


def intervention_schedule(
    interventions: Sequence[Intervention], *, duration_h: float
) -> tuple[Event, ...]:
    """The schedule of events that gives the model these interventions.

    Raises
    ------
    ScenarioError
        Naming the intervention (by position) whose drug needs a module not built yet.
    """
    events: list[Event] = []
    rate_changes: dict[float, float] = {}
    hours = _hours_per_day()
    for index, item in enumerate(interventions):
        if item.drug in PENDING:
            raise ScenarioError(
                f"interventions[{index}].drug: {item.drug.value} is not simulated yet: "
                f"{PENDING[item.drug]} of the physiology model (issue 5, pending)"
            )
        start, stop = item.window_h(duration_h)
        if start >= duration_h:
            continue
        if item.drug in RENAL_EFFECTS:
            parameter, on, off = RENAL_EFFECTS[item.drug]
            registry = parameters()
            events.append(SetParameter(parameter, registry[on].to("1"), at_h=start))
            if stop < duration_h:
                events.append(SetParameter(parameter, registry[off].to("1"), at_h=stop))
            continue
        per_dose = item.mg_per_dose_mmol()
        if item.delivery == "doses":
            every = hours / item.doses_per_day
            count = max(1, int((stop - start) // every))
            events.append(Dose(_GUT, per_dose, start_h=start, every_h=every, count=count))
        else:
            rate = per_dose * item.doses_per_day / hours
            rate_changes[start] = rate_changes.get(start, 0.0) + rate
            if stop < duration_h:
                rate_changes[stop] = rate_changes.get(stop, 0.0) - rate
    total = 0.0
    for time_h in sorted(rate_changes):
        total += rate_changes[time_h]
        events.append(SetParameter(_SUPPLEMENT, max(total, 0.0), at_h=time_h))
    return tuple(events)
