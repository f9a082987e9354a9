"""The S1-2 (CALMAG) check: its judgement passes the published values and fails others; the check
runs the design file end to end (here a small copy of it), and is pending without the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from mgckd.validate import Verdict, checks_trials
from mgckd.validate.checks_trials import calmag_virtual_trial, judge_calmag

REPO = Path(__file__).resolve().parents[1]
DESIGN = REPO / "examples" / "trials" / "s1_2_calmag.yaml"
PUBLISHED = {
    "treatment difference in serum Mg, CaMg vs sevelamer": 0.2597,
    "days to phosphate ≤ 1.78 mmol/L, CaMg": 16.0,
    "days to phosphate ≤ 1.78 mmol/L, sevelamer": 30.0,
}


def test_the_judgement_passes_the_trial_and_fails_a_binder_without_mg() -> None:
    assert judge_calmag(PUBLISHED)[0]
    no_mg = PUBLISHED | {"treatment difference in serum Mg, CaMg vs sevelamer": 0.0}
    ok, phrases = judge_calmag(no_mg)
    assert not ok
    assert "0 (outside ±25 %)" in phrases[0]
    swapped = PUBLISHED | {"days to phosphate ≤ 1.78 mmol/L, CaMg": 30.0}
    assert not judge_calmag(swapped)[0]


def test_the_check_runs_the_design(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    small = tmp_path / "calmag.yaml"
    text = DESIGN.read_text(encoding="utf-8")
    small.write_text(
        text.replace("n_patients: 255", "n_patients: 4").replace(
            "duration_days: 168", "duration_days: 7"
        ),
        encoding="utf-8",
    )
    monkeypatch.setattr(checks_trials, "CALMAG_DESIGN", small)
    monkeypatch.setattr(checks_trials, "CHECK_POOL", 4)
    monkeypatch.setattr(checks_trials, "CHECK_REPEATS", 2)
    result = calmag_virtual_trial()
    assert result.verdict in (Verdict.PASS, Verdict.FAIL)  # a prediction
    assert "2 virtual trials of 4 (drawn from 4 virtual patients" in result.detail
    assert "binders washed out" in result.detail
    assert "patients reaching the target: sevelamer " in result.detail  # each arm's phosphate
    assert "% reached; camg " in result.detail
    monkeypatch.setattr(checks_trials, "CALMAG_DESIGN", tmp_path / "missing.yaml")
    assert calmag_virtual_trial().verdict is Verdict.PENDING
