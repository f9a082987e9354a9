"""The evidence checks: S1-16 pools what Table 2 allows and stays pending; Leenders by direction."""

from __future__ import annotations

import pandas as pd
import pytest

from mgckd.evidence import _studies
from mgckd.validate import Verdict, run_validation
from mgckd.validate.checks_evidence import leenders_direction, table2_pooled


def test_s1_16_pools_the_harmonizable_rows_and_stays_pending() -> None:
    result = table2_pooled()
    assert result.verdict is Verdict.PENDING
    assert result.model == pytest.approx(0.847, abs=5e-4)
    assert "0.847 (0.777-0.923)" in result.detail
    assert "Sakaguchi 2014" in result.detail  # named among the rows that cannot be pooled
    assert result.figure is not None


def test_leenders_passes_by_direction_and_reports_both_cis() -> None:
    result = leenders_direction()
    assert result.verdict is Verdict.PASS
    assert "0.87–0.94" in result.detail
    assert "z = -1.26" in result.detail


def test_leenders_fails_when_the_pooled_direction_flips(monkeypatch: pytest.MonkeyPatch) -> None:
    meta, frame = _studies._packaged()
    flipped = frame.copy()
    per_unit = flipped["exposure"] == "per_unit"
    for column, other in (("estimate", "estimate"), ("ci_low", "ci_high"), ("ci_high", "ci_low")):
        flipped.loc[per_unit, column] = 1 / frame.loc[per_unit, other]
    monkeypatch.setattr(_studies, "_packaged", lambda: (meta, pd.DataFrame(flipped)))
    assert leenders_direction().verdict is Verdict.FAIL


def test_the_runner_shows_both_rows() -> None:
    report = run_validation(ids=["S1-16", "L-leenders-2021-mg-mortality"])
    verdicts = {row.id: row.verdict for row in report.rows}
    assert verdicts == {"S1-16": Verdict.PENDING, "L-leenders-2021-mg-mortality": Verdict.PASS}
