"""The S0-2 check on a virtual CKD G1-G5 cohort, and that its judgement can pass and fail."""

from __future__ import annotations

import numpy as np

from mgckd.validate import Verdict
from mgckd.validate.checks_populations import (
    hypomagnesemia_across_ckd_stages,
    judge_s0_2,
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
    assert "5126 of 5126 steady states" in result.detail
    assert "G5" in result.detail
