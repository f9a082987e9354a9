"""From a patient's characteristics to the per-patient parameters of the physiology model.

- ``gfr_start_l_h``, ``gfr_floor_l_h``, ``gfr_decline_per_h``: the CKD course
  floor + (start − floor)·exp(−rate·t) from eGFR (every patient at 1.73 m², so GFR = eGFR) and
  its annual decline, rate = decline / (start − floor) so the initial slope is the patient's,
  floor the published course's (Riggs 2012). (Hemodialysis patients: ``_hemodialysis.py``.)
  `recent_decline` replaces it with the decline that brought each patient to their eGFR over the
  last `decline_look_back_years` (the cross-sectional view of S0-2).
- ``diet_mg_mmol_h``: dietary Mg. ``supplement_mg_oxide_mmol_h``: the daily Mg of MgO taken as a
  laxative.
- ``tubular_injury``: max · uPCR / (uPCR + half) + an extra amount with diabetes (S0-3, S0-4).
- ``loop_diuretic_inhibition``, ``thiazide_inhibition``: the interventions' effect sizes for
  patients taking them.
- ``ecf_volume_l``: ECF per kg of body weight.

The names are looked up in the model: any `mgckd.model.Model` that declares them works (the Mg
model today, the whole-body model when it lands); a missing one is a `ScenarioError` naming it.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from mgckd._pint import quantity
from mgckd.exceptions import ScenarioError
from mgckd.interventions import RENAL_EFFECTS, Drug, Intervention
from mgckd.model import CompiledModel
from mgckd.params import parameters
from mgckd.physiology import GfrCourse
from mgckd.populations._presets import _pair
from mgckd.populations._sample import Population

FloatArray = NDArray[np.float64]

PATIENT_PARAMETERS = (
    "gfr_start_l_h",
    "gfr_floor_l_h",
    "gfr_decline_per_h",
    "diet_mg_mmol_h",
    "supplement_mg_oxide_mmol_h",
    "tubular_injury",
    "loop_diuretic_inhibition",
    "thiazide_inhibition",
    "ecf_volume_l",
)
"""The model parameters a population sets per patient."""


def _registry(name: str, unit: str) -> float:
    return parameters()[name].to(unit)


def _to(values: FloatArray, unit: str, target: str) -> FloatArray:
    out: FloatArray = np.asarray(quantity(values, unit).to(target).magnitude, dtype=np.float64)
    return out


def _gfr_course(population: Population) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Start and floor GFR (mL/min) and the exponential rate (1/year) of each patient."""
    minimum = _registry("population_gfr_minimum_ml_min", "mL/min")
    egfr = population.column("egfr_ml_min_1_73m2")  # every patient at 1.73 m²: GFR = eGFR
    start = np.maximum(egfr, minimum)
    floor = np.minimum(start, GfrCourse.riggs_2012().floor_ml_min)
    span = start - floor
    slope = population.column("egfr_slope_ml_min_year")
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(span > 0, slope / span, 0.0)
    return start, floor, rate


def decline_look_back_years() -> float:
    """How long ago (years) a cross-sectional CKD patient's course starts: the time the cohort's
    mean eGFR slope takes from the G4/G5 boundary (15 mL/min) down to the cohort's lowest eGFR,
    so that every patient starts at an eGFR where the whole-body model has a steady state.

    >>> decline_look_back_years()
    5.0
    """
    bounds = parameters()["kdigo_gfr_category_lower_bounds"].quantity.to("mL/min").magnitude
    boundary = float(min(bounds))
    lowest = _pair("ckd_cohort_egfr_outer_bounds_ml_min", "mL/min")[0]
    slope = _registry("ckd_cohort_egfr_slope_mean_ml_min_year", "mL/min/year")
    return (boundary - lowest) / slope


def recent_decline(population: Population, years: float) -> dict[str, FloatArray]:
    """GFR-course parameters (model units) of each patient's decline over the last `years`: from
    where the cohort's mean slope puts them `years` ago (eGFR + slope · years, at most the
    cohort's highest eGFR) to their eGFR now, on the course floor + (start − floor)·exp(−rate·t)
    with the floor at the smallest GFR a patient is given, so that GFR(`years`) = eGFR.

    Simulated from the steady state at the start for `years`, a patient has lived with a GFR near
    their own for a few years, not the decades a steady state stands for.
    """
    minimum = _registry("population_gfr_minimum_ml_min", "mL/min")
    highest = _pair("ckd_cohort_egfr_outer_bounds_ml_min", "mL/min")[1]
    slope = _registry("ckd_cohort_egfr_slope_mean_ml_min_year", "mL/min/year")
    now = np.maximum(population.column("egfr_ml_min_1_73m2"), minimum)
    start = np.maximum(np.minimum(now + slope * years, highest), now)
    rate = np.log((start - minimum) / (now - minimum)) / years
    return {
        "gfr_start_l_h": _to(start, "mL/min", "L/h"),
        "gfr_floor_l_h": _to(np.full_like(start, minimum), "mL/min", "L/h"),
        "gfr_decline_per_h": _to(rate, "1/year", "1/h"),
    }


def _tubular_injury(population: Population) -> FloatArray:
    maximum = _registry("population_tubular_injury_max", "1")
    half = _registry("population_tubular_injury_half_upcr_g_g", "g/g")
    upcr = np.nan_to_num(population.column("upcr_g_g"), nan=0.0)
    diabetes = population.column("diabetes") * _registry("population_diabetes_tubular_injury", "1")
    injury: FloatArray = maximum * upcr / (upcr + half) + diabetes
    return injury


def laxative_mg_mmol_h(population: Population) -> FloatArray:
    """Each patient's Mg from magnesium oxide taken as a laxative, mmol/h (0 for non-users)."""
    laxative = Intervention(
        drug=Drug.MAGNESIUM_OXIDE,
        dose_mg=_registry("population_mgo_laxative_dose_mg_d", "mg/d"),
    )
    per_day = _to(np.array(laxative.mg_per_dose_mmol()), "mmol/d", "mmol/h")
    out: FloatArray = population.column("mgo_laxative") * per_day
    return out


def ecf_volume_l(population: Population) -> FloatArray:
    """Each patient's extracellular fluid volume (dry), L, from body weight."""
    per_kg = _registry("population_ecf_fraction_of_weight", "L/kg")
    out: FloatArray = population.column("weight_kg") * per_kg
    return out


def check_finite(population: Population, values: dict[str, FloatArray]) -> None:
    """Raise `ScenarioError` naming the first patient with a non-finite parameter."""
    for name, array in values.items():
        if not np.all(np.isfinite(array)):
            first = int(np.flatnonzero(~np.isfinite(array))[0])
            raise ScenarioError(
                f"patient {population.characteristics['patient_id'].iloc[first]!r}: parameter "
                f"{name} is not finite (check the population's characteristics)"
            )


def _renal_effect(drug: Drug) -> tuple[str, float]:
    parameter, on, _ = RENAL_EFFECTS[drug]
    return parameter, _registry(on, "1")


def patient_parameters(population: Population, compiled: CompiledModel) -> dict[str, FloatArray]:
    """The per-patient parameter overrides of `population` for a compiled model, each in the
    model's unit (one value per patient).

    Raises
    ------
    ScenarioError
        When the model lacks a parameter the population sets (the message names it).
    """
    missing = [name for name in PATIENT_PARAMETERS if name not in compiled.parameters]
    if missing:
        raise ScenarioError(
            f"model {compiled.model.name!r} has no parameter(s) {', '.join(missing)}, which a "
            f"virtual population sets per patient ({', '.join(PATIENT_PARAMETERS)})"
        )
    start, floor, rate = _gfr_course(population)
    loop_parameter, loop_on = _renal_effect(Drug.LOOP_DIURETIC)
    thiazide_parameter, thiazide_on = _renal_effect(Drug.THIAZIDE)
    values = {
        "gfr_start_l_h": _to(start, "mL/min", "L/h"),
        "gfr_floor_l_h": _to(floor, "mL/min", "L/h"),
        "gfr_decline_per_h": _to(rate, "1/year", "1/h"),
        "diet_mg_mmol_h": _to(population.column("diet_mg_mmol_d"), "mmol/d", "mmol/h"),
        "supplement_mg_oxide_mmol_h": laxative_mg_mmol_h(population),
        "tubular_injury": _tubular_injury(population),
        loop_parameter: population.column("loop_diuretic") * loop_on,
        thiazide_parameter: population.column("thiazide") * thiazide_on,
        "ecf_volume_l": ecf_volume_l(population),
    }
    check_finite(population, values)
    return {name: np.broadcast_to(v, len(population)).copy() for name, v in values.items()}
