"""The drugs mgckd knows, what each does to the physiology model, and their schedules.

Salts add their Ca or Mg to the gut lumen (the salt mass over its molar mass, from the registry),
as a daily average (a supplement rate) or, for Mg salts, as discrete doses. A Mg salt's elemental
Mg goes to its own model input; the model lets only the salt's available fraction dissolve into the
absorptive pool (`mgckd.physiology.MG_SALT_INPUTS`), and a discrete dose carries that dissolved
part only. Phosphate binders add
gut binding capacity: the daily dose divided over the day's meals, each meal's grams × the binder's
relative binding coefficient (Daugirdas 2011) × calcium carbonate's binding per gram with a meal
(Schiller 1989) give the ratio of binding to the lumen's other exits. Oral calcitriol adds to
plasma calcitriol; calcimimetics add a Ca-equivalent agonist at the parathyroid CaSR; diuretics
change renal parameters while taken. See docs/physiology.md#interventions.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from mgckd._pint import quantity
from mgckd.model import Dose, Event, SetParameter
from mgckd.params import parameters
from mgckd.physiology import MG_SALT_INPUTS

_GUT = "mg_gut"


class Drug(StrEnum):
    """The interventions of issue 5."""

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

PARAMETER_EFFECTS: dict[Drug, tuple[str, str, str]] = {
    **RENAL_EFFECTS,
    Drug.CINACALCET: (
        "calcimimetic_ca_equivalent_mmol_l",
        "cinacalcet_ca_equivalent",
        "calcimimetic_ca_equivalent_none",
    ),
}
"""Drugs acting through a model parameter while taken: (parameter, value on, value off)."""

SALT_CONTENT: dict[Drug, tuple[tuple[str, str, str], ...]] = {
    Drug.MAGNESIUM_OXIDE: (("supplement_mg_oxide_mmol_h", "molar_mass_magnesium_oxide", "1"),),
    Drug.MAGNESIUM_HYDROXIDE: (
        ("supplement_mg_hydroxide_mmol_h", "molar_mass_magnesium_hydroxide", "1"),
    ),
    Drug.MAGNESIUM_CARBONATE: (
        ("supplement_mg_carbonate_mmol_h", "molar_mass_magnesium_carbonate", "1"),
    ),
    Drug.CALCIUM_CARBONATE: (("supplement_ca_mmol_h", "molar_mass_calcium_carbonate", "1"),),
    Drug.CALCIUM_ACETATE_MAGNESIUM_CARBONATE: (
        ("supplement_ca_mmol_h", "molar_mass_calcium_acetate", "1"),
        (
            "supplement_mg_carbonate_mmol_h",
            "molar_mass_magnesium_carbonate_heavy",
            "calmag_mgco3_per_ca_acetate",
        ),
    ),
}
"""Salts: (supplement parameter, registry molar mass, registry mass of this salt per mg of the
dose) for each element they carry; the molar mass is per mole of the metal (one metal per formula
unit, or per Mg for the tablet's heavy magnesium carbonate)."""

BINDERS: dict[Drug, str] = {
    Drug.CALCIUM_CARBONATE: "binding_coefficient_calcium_carbonate",
    Drug.CALCIUM_ACETATE_MAGNESIUM_CARBONATE: "binding_coefficient_calcium_acetate",
    Drug.SEVELAMER: "binding_coefficient_sevelamer",
}
"""Phosphate binders (besides Mg salts, which the model binds through their Mg): registry name
of their relative binding coefficient per gram of the dose (calcium carbonate = 1)."""

MG_SALTS = {
    drug
    for drug, content in SALT_CONTENT.items()
    if all(parameter in MG_SALT_INPUTS for parameter, _, _ in content)
}
"""Drugs whose dose is elemental Mg only (deliverable as discrete doses)."""

_DOSED = frozenset(SALT_CONTENT) | frozenset(BINDERS)


class Intervention(BaseModel):
    """One drug taken over a period.

    Attributes
    ----------
    drug : which drug.
    dose_mg : mass per dose, mg: of the salt (salts), of the binder (sevelamer), of calcium
        acetate (calcium acetate/magnesium carbonate, whose MgCO3 follows in the tablet's ratio).
    dose_ug : calcitriol per dose, µg.
    doses_per_day : doses a day.
    start_day, stop_day : when it is taken, days from the start (stop_day None: to the end).
    delivery : ``daily_average`` (a constant supplement rate: the right choice over months)
        or ``doses`` (each dose a bolus into the gut lumen).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    drug: Drug
    dose_mg: Annotated[float, Field(gt=0)] | None = None
    dose_ug: Annotated[float, Field(gt=0)] | None = None
    doses_per_day: Annotated[int, Field(ge=1, le=24)] = 1
    start_day: Annotated[float, Field(ge=0)] = 0.0
    stop_day: Annotated[float, Field(gt=0)] | None = None
    delivery: Literal["daily_average", "doses"] = "daily_average"

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.stop_day is not None and self.stop_day <= self.start_day:
            raise ValueError(f"stop_day {self.stop_day} must be after start_day {self.start_day}")
        if (self.drug in _DOSED) != (self.dose_mg is not None):
            raise ValueError(
                f"{self.drug.value} needs dose_mg (mg per dose)"
                if self.drug in _DOSED
                else f"{self.drug.value} takes no dose_mg"
            )
        if (self.drug is Drug.CALCITRIOL) != (self.dose_ug is not None):
            raise ValueError(
                "calcitriol needs dose_ug (µg per dose)"
                if self.drug is Drug.CALCITRIOL
                else f"{self.drug.value} takes no dose_ug"
            )
        if self.delivery == "doses" and self.drug not in MG_SALTS:
            raise ValueError(
                f"delivery 'doses' is for Mg salts; give {self.drug.value} as a daily_average"
            )
        return self

    def mg_per_dose_mmol(self) -> float:
        """Elemental Mg per dose, mmol (0 for a drug without Mg)."""
        per_dose = self.per_dose()
        return sum(per_dose.get(rate, 0.0) for rate in MG_SALT_INPUTS)

    def dissolved_mg_per_dose_mmol(self) -> float:
        """Mg per dose that dissolves and enters the absorptive gut lumen, mmol: each salt's
        elemental Mg times its available fraction (registry values, as the model's defaults)."""
        registry = parameters()
        per_dose = self.per_dose()
        return sum(
            per_dose.get(rate, 0.0) * registry[fraction].to("1")
            for rate, fraction in MG_SALT_INPUTS.items()
        )

    def per_dose(self) -> dict[str, float]:
        """What one dose adds, by model parameter, in the parameter's unit × hours (mmol of Mg or
        Ca, mmol of phosphate binding at the reference diet, pmol of calcitriol)."""
        registry = parameters()
        out: dict[str, float] = {}
        dose = quantity(self.dose_mg or 0.0, "mg")
        for parameter, molar_mass, mass_ratio in SALT_CONTENT.get(self.drug, ()):
            ratio = registry[mass_ratio].to("1") if mass_ratio != "1" else 1.0
            amount = (dose * ratio / registry[molar_mass].quantity).to("mmol").magnitude
            out[parameter] = out.get(parameter, 0.0) + float(amount)
        if self.drug in BINDERS:
            out["binder_pi_capacity_mmol_h"] = _binding_capacity_mmol(
                dose.to("g").magnitude, registry[BINDERS[self.drug]].to("1")
            )
        if self.drug is Drug.CALCITRIOL and self.dose_ug is not None:
            mass = quantity(self.dose_ug, "ug") * registry["calcitriol_oral_bioavailability"].to(
                "1"
            )
            out["calcitriol_dose_pmol_h"] = float(
                (mass / registry["molar_mass_calcitriol"].quantity).to("pmol").magnitude
            )
        return out

    def window_h(self, duration_h: float) -> tuple[float, float]:
        """Start and stop in hours, the stop capped at `duration_h`."""
        hours = _hours_per_day()
        stop = duration_h if self.stop_day is None else min(self.stop_day * hours, duration_h)
        return self.start_day * hours, stop


def _binding_capacity_mmol(dose_g: float, relative_coefficient: float) -> float:
    """Binding one dose of a phosphate binder adds to the model's gut, mmol (×1/h per dose a day:
    the ``binder_pi_capacity_mmol_h`` rate, binding at the reference lumen content).

    The daily dose is divided over the day's meals and acts on each meal's phosphate: grams per
    meal × `relative_coefficient` × the per-gram binding of calcium carbonate with a meal is the
    ratio β of binding to the lumen's other exits, and the model's gut reaches that β when the
    capacity is β × the reference diet. Per dose: grams × coefficient × per-gram binding × the
    reference diet's phosphate per meal (docs/physiology.md#interventions).

    Parameters
    ----------
    dose_g : mass of the binder per dose, g.
    relative_coefficient : its phosphate binding per gram relative to calcium carbonate (1).
    """
    registry = parameters()
    per_gram = registry["binding_calcium_carbonate_per_g_meal"].to("1/g")
    meal_pi = registry["diet_pi_mmol_d"].quantity / registry["meals_per_day"].quantity
    return float(dose_g * relative_coefficient * per_gram * meal_pi.to("mmol").magnitude)


def _hours_per_day() -> float:
    return float(quantity(1.0, "d").to("h").magnitude)


def intervention_schedule(
    interventions: Sequence[Intervention], *, duration_h: float
) -> tuple[Event, ...]:
    """The schedule of events that gives the model these interventions.

    Daily-average contributions of several drugs to one parameter add up.
    """
    events: list[Event] = []
    rate_changes: dict[str, dict[float, float]] = {}
    hours = _hours_per_day()
    for item in interventions:
        start, stop = item.window_h(duration_h)
        if start >= duration_h:
            continue
        if item.drug in PARAMETER_EFFECTS:
            parameter, on, off = PARAMETER_EFFECTS[item.drug]
            registry = parameters()
            value_on, value_off = (float(registry[n].quantity.magnitude) for n in (on, off))
            events.append(SetParameter(parameter, value_on, at_h=start))
            if stop < duration_h:
                events.append(SetParameter(parameter, value_off, at_h=stop))
            continue
        if item.delivery == "doses":
            every = hours / item.doses_per_day
            count = max(1, int((stop - start) // every))
            events.append(
                Dose(
                    _GUT,
                    item.dissolved_mg_per_dose_mmol(),
                    start_h=start,
                    every_h=every,
                    count=count,
                )
            )
            continue
        for parameter, per_dose in item.per_dose().items():
            changes = rate_changes.setdefault(parameter, {})
            rate = per_dose * item.doses_per_day / hours
            changes[start] = changes.get(start, 0.0) + rate
            if stop < duration_h:
                changes[stop] = changes.get(stop, 0.0) - rate
    for parameter, changes in rate_changes.items():
        total = 0.0
        for time_h in sorted(changes):
            total += changes[time_h]
            events.append(SetParameter(parameter, max(total, 0.0), at_h=time_h))
    return tuple(events)
