"""The physiology calibration: how much each remaining nephron's TAL and DCT reabsorptive capacity
per unit GFR falls as CKD advances, for Mg and for Ca (the nephron adaptation exponents).

Targets: the mean serum Mg of CKD G3–G4 patients not taking Mg (S0-10's baseline) and a plasma Ca
inside its reference range at the G3b/G4 boundary, both from the whole-body model's steady states.

The Mg target is a cohort mean, so the model's value is a cohort mean too: the mean over the
virtual patients of the ``ckd_g1_g5`` preset in G3a–G4 (`calibration_cohort`), each at the steady
state of their own GFR, proteinuria, diabetes, diuretics and diet as `mgckd.populations` maps
them. The fitted exponent is then the adaptation of a kidney without that case mix, which the
cohorts apply on top — the case mix is counted once (docs/populations.md#seed-claims-on-cohorts).
The Ca target describes a pediatric cohort without that case mix and stays on the reference patient
at `check_ckd_gfr_ml_min`. Everything else the model says about CKD (FEMg, phosphate, PTH,
calcitriol, FGF23, the course over time, S0-2's prevalences) is predicted
(docs/physiology.md#calibration).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache

import numpy as np

from mgckd.calibrate._problem import Free, Problem, Target, problem
from mgckd.exceptions import SimulationError
from mgckd.model import CompiledModel
from mgckd.params import parameters
from mgckd.populations import Population, patient_parameters, sample_population
from mgckd.populations._models import resolve_model
from mgckd.simulate import Status, steady_state
from mgckd.units import convert

MG_CLAIM = "L-sakaguchi-2019-ckd-serum-mg"
CA_CLAIM = "L-tschirner-ckd-calcium-normal"
MODEL = "whole_body"
"""The model the exponents are fitted in (and the cohorts' prevalences are predicted with)."""
COHORT_PRESET = "ckd_g1_g5"
"""The preset whose case mix the Mg target's cohort carries (the same Osaka nephrology clinics)."""
COHORT_STAGES = ("G3a", "G3b", "G4")
"""The KDIGO categories of the Mg target's cohort (S0-10: CKD G3–G4)."""
COHORT_SAMPLED = 2000
"""Patients drawn from the preset; those in `COHORT_STAGES` (about 70 %) form the cohort."""
COHORT_SEED = 1073
"""Seed of the cohort (any fixed number, not the S0-2 check's: other patients)."""
_EXPONENTS = {
    "mg_nephron_adaptation_exponent": "mg_adaptation_exponent",
    "ca_nephron_adaptation_exponent": "ca_adaptation_exponent",
}
"""Registry name → model parameter of each fitted exponent."""
CALIBRATED_EXPONENTS = tuple(_EXPONENTS)
"""The registry names of the fitted exponents."""
_LAST: dict[int, np.ndarray] = {}
"""The previous evaluation's steady states, by batch size: the next one's guess (the fit's
evaluations lie close together; from the model's healthy state a few low-GFR patients do not
converge)."""


@cache
def calibration_cohort() -> Population:
    """The virtual CKD G3–G4 cohort of the Mg target: the ``ckd_g1_g5`` patients in G3a–G4."""
    drawn = sample_population(COHORT_PRESET, COHORT_SAMPLED, rng=COHORT_SEED)
    return drawn.in_stages(COHORT_STAGES)


def _steady_rules(
    compiled: CompiledModel, overrides: Mapping[str, object], n: int
) -> dict[str, np.ndarray]:
    """Every rule (model units) at the steady state of `n` patients with `overrides`.

    Raises
    ------
    SimulationError
        When a patient's steady state fails (a cohort mean without them would be biased).
    """
    p = compiled.parameter_array(overrides, n)  # type: ignore[arg-type]
    solved = steady_state(compiled, p, guess=_LAST.get(n))
    failed = np.flatnonzero(solved.status != Status.SUCCESS)
    if failed.size:
        raise SimulationError(
            f"physiology calibration: the steady state of {failed.size} of {n} patients failed "
            f"(first: patient {int(failed[0])})"
        )
    _LAST[n] = solved.states
    return dict(zip(compiled.model.rule_names, compiled.rules(0.0, solved.states, p), strict=True))


def cohort_mean_mg_dl(exponents: Mapping[str, float]) -> float:
    """Mean serum total Mg (mg/dL) of `calibration_cohort` at each patient's steady state, with
    the nephron adaptation `exponents` (registry names → values) for every patient."""
    compiled = resolve_model(MODEL)
    cohort = calibration_cohort()
    overrides = {
        **patient_parameters(cohort, compiled),
        **{_EXPONENTS[name]: value for name, value in exponents.items()},
    }
    rules = _steady_rules(compiled, overrides, len(cohort))
    mean = float(np.mean(rules["plasma_mg_total_mmol_l"]))
    return float(convert(mean, "mmol/L", "mg/dL", analyte="magnesium"))


def reference_ca_mmol_l(exponents: Mapping[str, float]) -> float:
    """Plasma total Ca (mmol/L) of the reference patient at the constant GFR
    `check_ckd_gfr_ml_min`, with the nephron adaptation `exponents`."""
    gfr = parameters()["check_ckd_gfr_ml_min"].to("L/h")
    overrides = {
        "gfr_start_l_h": gfr,
        "gfr_floor_l_h": gfr,
        **{_EXPONENTS[name]: value for name, value in exponents.items()},
    }
    return float(_steady_rules(resolve_model(MODEL), overrides, 1)["plasma_ca_total_mmol_l"][0])


def model(values: Mapping[str, float]) -> Sequence[float]:
    """[mean serum total Mg of the CKD G3–G4 cohort (mg/dL), plasma total Ca of the reference
    patient at the G3b/G4 boundary (mmol/L)], at steady state."""
    return [cohort_mean_mg_dl(values), reference_ca_mmol_l(values)]


@problem("physiology")
def physiology() -> Problem:
    """The Mg and Ca nephron adaptation exponents, on serum Mg and Ca in CKD G3–G4."""
    return Problem(
        name="physiology",
        description="nephron adaptation exponents (TAL/DCT capacity per GFR), on CKD Mg and Ca",
        free=(
            Free("mg_nephron_adaptation_exponent", lower=0.0, upper=2.0, start=0.8),
            Free("ca_nephron_adaptation_exponent", lower=0.0, upper=2.0, start=0.6),
        ),
        targets=(Target(MG_CLAIM), Target(CA_CLAIM)),
        model=model,
    )
