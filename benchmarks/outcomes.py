"""Outcome-risk benchmarks: `mgckd.outcomes.risk` on a 10⁶-patient hemodialysis cohort.

Run with ``make bench`` (all benchmarks) or ``cd benchmarks && ../.venv/bin/python outcomes.py``.
No peer: no other package applies published categorical effect sizes with their populations; the
numbers say what a registry-sized cohort costs. Cohort: uniform serum Mg over the labs layer's
usual range and phosphate likewise (seed 2014); T50 uniform over 150-450 min for the per-unit
effect.
"""

from __future__ import annotations

import platform

import numpy as np
from timing import best_of  # benchmarks/timing.py, beside this file

from mgckd.labs import limits
from mgckd.outcomes import Cohort, apply_effects, effect_size, published_context, risk

N_PATIENTS = 1_000_000
DRAWS = 4000
REPEATS = 3
SEED = 2014
T50_RANGE_MIN = (150.0, 450.0)
EGFR_RANGE = (10.0, 90.0)
"""eGFR of the non-dialysis half of the mixed cohort (mL/min/1.73 m²), uniform."""


def _cohorts() -> tuple[Cohort, Cohort]:
    rng = np.random.default_rng(SEED)
    hemodialysis = Cohort(
        dialysis=np.full(N_PATIENTS, "hemodialysis"),
        mg_mmol_l=rng.uniform(*limits("magnesium").soft, N_PATIENTS),
        phosphate_mmol_l=rng.uniform(*limits("phosphate").soft, N_PATIENTS),
    )
    general = Cohort(
        dialysis=np.full(N_PATIENTS, "none"),
        t50_min=rng.uniform(*T50_RANGE_MIN, N_PATIENTS),
    )
    return hemodialysis, general


def _mixed() -> Cohort:
    """Half hemodialysis, half non-dialysis CKD (diabetes yes/no, eGFR, T50): every packaged
    effect finds patients inside and outside its population."""
    rng = np.random.default_rng(SEED)
    half = N_PATIENTS // 2
    return Cohort(
        dialysis=np.repeat(["hemodialysis", "none"], half),
        diabetes=rng.random(N_PATIENTS) < 0.5,
        egfr_ml_min_1_73m2=np.where(
            np.arange(N_PATIENTS) < half, np.nan, rng.uniform(*EGFR_RANGE, N_PATIENTS)
        ),
        mg_mmol_l=rng.uniform(*limits("magnesium").soft, N_PATIENTS),
        phosphate_mmol_l=rng.uniform(*limits("phosphate").soft, N_PATIENTS),
        t50_min=rng.uniform(*T50_RANGE_MIN, N_PATIENTS),
    )


def outcomes() -> list[tuple[str, float, str]]:
    """`published_context` and `risk` (categorical, stratified, per-unit) on 10⁶ patients."""
    hemodialysis, general = _cohorts()
    rows = []
    for label, cohort, effect in (
        ("J curve (5 Mg categories)", hemodialysis, "sakaguchi-2014-cv-death-mg-categories"),
        (
            "Mg bands in phosphate >= 6.0",
            hemodialysis,
            "sakaguchi-2014-cv-death-mg-bands-high-phosphate",
        ),
        ("T50 per 60 min (per unit)", general, "eelderink-2020-cv-death-t50"),
    ):
        seconds = best_of(
            lambda cohort=cohort, effect=effect: risk(cohort, effect, rng=SEED, draws=DRAWS),
            REPEATS,
        )
        rows.append(
            (
                f"risk, 1e6 patients, {DRAWS} draws, {label}",
                seconds,
                f"{N_PATIENTS / seconds:.3g} patients/s",
            )
        )
    record = effect_size("sakaguchi-2014-cv-death-mg-categories")
    context = best_of(lambda: published_context(hemodialysis, record), REPEATS)
    rows.append(
        ("published_context, 1e6 patients", context, f"{N_PATIENTS / context:.3g} patients/s")
    )
    mixed = _mixed()
    every = best_of(lambda: apply_effects(mixed, rng=SEED, draws=DRAWS), REPEATS)
    rows.append(
        (
            "apply_effects, every record, 1e6 mixed patients",
            every,
            f"{N_PATIENTS / every:.3g} patients/s",
        )
    )
    return rows


def main() -> None:
    """Print the outcome benchmarks."""
    print(f"outcomes ({platform.machine()}, Python {platform.python_version()})")
    for name, seconds, rate in outcomes():
        print(f"{name:60s} {seconds * 1e3:10.1f} ms   {rate}")


if __name__ == "__main__":
    main()
