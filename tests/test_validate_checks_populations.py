"""The cohort checks: S0-2 on a virtual CKD G1-G5 cohort, L-sakaguchi-2018-ionized-mg on a virtual
hemodialysis cohort, and that their judgements can pass and fail."""

from __future__ import annotations

import numpy as np
import pytest

from mgckd.populations import sample_population
from mgckd.populations._cohort import steady_observables
from mgckd.populations._models import resolve_model
from mgckd.validate import Verdict
from mgckd.validate.checks_populations import (
    declined_serum_mg,
    hypermagnesemia,
    hypermagnesemia_by_total_vs_ionized_mg,
    hypomagnesemia_across_ckd_stages,
    judge_s0_2,
    judge_sakaguchi_2018,
    prevalences,
)

STAGES = np.repeat(["G1", "G2", "G3a", "G3b", "G4", "G5"], 100)
LOW, NORMAL = 0.65, 0.90  # mmol/L: below and above the 1.8 mg/dL (0.74 mmol/L) cut-point


def _cohort(low_share_by_stage: list[float]) -> np.ndarray:
    mg = np.full(STAGES.size, NORMAL)
    for i, share in enumerate(low_share_by_stage):
        mg[i * 100 : i * 100 + round(100 * share)] = LOW
    return mg


def test_a_flat_15_percent_passes_and_a_falling_one_fails() -> None:
    flat = prevalences(STAGES, _cohort([0.15] * 6))
    assert flat.overall == 15.0
    assert judge_s0_2(flat)[0]
    falling = prevalences(STAGES, _cohort([0.3, 0.25, 0.2, 0.15, 0.0, 0.0]))
    ok, how = judge_s0_2(falling)
    assert not ok
    assert "G4-G5 lower than G1-G3" in how
    assert not judge_s0_2(prevalences(STAGES, _cohort([0.5] * 6)))[0]


def test_the_check_runs_on_the_model() -> None:
    result = hypomagnesemia_across_ckd_stages()
    assert result.verdict in (Verdict.PASS, Verdict.FAIL)
    assert "model whole_body" in result.detail  # the model the adaptation is calibrated in
    assert "of 5126 at their steady state" in result.detail
    assert "n = 504 of 504" in result.detail  # no G5 patient dropped (issue 8)
    assert "G4 " in result.detail
    assert "(n = " in result.detail
    assert "G5" in result.detail


def test_hypermagnesemia_judgement_passes_the_study_and_fails_the_model_of_a_fixed_fraction() -> (
    None
):
    n = 118
    total = np.where(np.arange(n) < round(0.69 * n), 1.2, 1.0)  # 69 % above 1.1 mmol/L
    ionized = np.where(np.arange(n) < round(0.13 * n), 0.65, 0.55)  # 13 % above 0.60 mmol/L
    study = hypermagnesemia(total, ionized)
    assert study.by_total == pytest.approx(100 * 81 / 118)
    assert judge_sakaguchi_2018(study)[0]
    # ionized Mg as a fixed fraction of total: hypermagnesemia by ionized as common as by total
    ok, how = judge_sakaguchi_2018(hypermagnesemia(total, 0.55 * total))
    assert not ok
    assert "by ionized outside" in how


@pytest.mark.slow
def test_the_hemodialysis_check_runs_on_the_dialysis_model() -> None:
    result = hypermagnesemia_by_total_vs_ionized_mg()
    assert result.verdict in (Verdict.PASS, Verdict.FAIL)  # a prediction: either may come out
    assert "virtual hemodialysis cohort of 118" in result.detail
    assert "JSDT's 2.35/2.65/2.85" in result.detail
    assert "% by total" in str(result.model)


def test_g5_patients_without_a_steady_state_get_their_recent_decline() -> None:
    cohort = sample_population("ckd_g1_g5", 400, rng=2019).in_stages(["G5"])
    low = cohort.take(cohort.column("egfr_ml_min_1_73m2") < 8.0)
    state = steady_observables(low, resolve_model("whole_body"))
    assert (state["status"] != "success").any()  # why the treatment exists
    mg = declined_serum_mg(low)
    assert np.all(np.isfinite(mg))
    assert np.all((mg > 0.5) & (mg < 2.0))
