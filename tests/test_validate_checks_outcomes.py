"""The outcome checks: S0-18 and S0-19 reproduce the published ratios (machinery checks that can
fail), the rest stay pending with their reasons."""

from __future__ import annotations

import numpy as np
import pytest

from mgckd.outcomes import CategoricalExposure, Category, EffectSize, Ratio, _context, effect_size
from mgckd.validate import Verdict
from mgckd.validate.checks_outcomes import (
    HIGH_PHOSPHATE,
    J_CURVE,
    eskd_diabetic,
    eskd_mg_phosphate,
    high_phosphate_result,
    hip_fracture,
    j_curve,
    j_curve_result,
    mg_bands_in_high_phosphate,
    reproduce,
    t50_outcomes,
)


def _inverted(effect: EffectSize) -> EffectSize:
    """The record with every ratio (and CI) inverted: a protective curve instead of a J."""
    exposure = effect.exposure
    assert isinstance(exposure, CategoricalExposure)
    categories = tuple(
        c
        if c.ratio is None
        else Category(
            label=c.label,
            ratio=Ratio(estimate=1 / c.ratio.estimate, ci=(1 / c.ratio.ci[1], 1 / c.ratio.ci[0])),
        )
        for c in exposure.categories
    )
    return effect.model_copy(
        update={"exposure": exposure.model_copy(update={"categories": categories})}
    )


def test_s0_18_reproduces_the_j_curve_and_says_it_is_a_machinery_check() -> None:
    result = j_curve()
    assert result.verdict is Verdict.PASS
    assert result.model == pytest.approx(2.94, abs=0.01)  # midpoint of 1.15-1.27 mmol/L
    assert result.detail.startswith("Machinery check, not an independent validation")
    assert "J shape reproduced" in result.detail
    assert "UNCONFIRMED" in result.detail


def test_s0_18_fails_when_the_applied_ratios_are_not_the_published_ones() -> None:
    result = j_curve_result(_inverted(effect_size(J_CURVE)))
    assert result.verdict is Verdict.FAIL
    assert "J shape not reproduced" in result.detail


def test_s0_19_recovers_both_bands_inside_their_cis_and_confines_them() -> None:
    result = mg_bands_in_high_phosphate()
    assert result.verdict is Verdict.PASS
    assert "got no estimate (the ORs hold only in the stratum)" in result.detail
    assert "phosphate slope within each Mg band" in result.detail


def test_s0_19_fails_when_risk_misplaces_patients_in_categories(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shifted = _context.assign_categories

    def off_by_one(values: np.ndarray, exposure: CategoricalExposure) -> np.ndarray:
        index = shifted(values, exposure)
        return np.where(index >= 0, (index + 1) % len(exposure.categories), index)

    monkeypatch.setattr(_context, "assign_categories", off_by_one)
    assert high_phosphate_result(effect_size(HIGH_PHOSPHATE)).verdict is Verdict.FAIL


def test_reproduction_reports_each_category_against_its_published_ci() -> None:
    result = reproduce(effect_size(HIGH_PHOSPHATE), n_per_category=20_000, seed=3)
    assert result.recovered["category"].tolist() == ["2.7 to <3.1 mg/dL", ">=3.1 mg/dL"]
    assert result.n_outside_stratum_estimated == 0
    assert result.n_no_estimate > 0


def test_pending_outcome_claims_say_what_is_applied_and_what_is_missing() -> None:
    rows = {
        "S0-5": eskd_diabetic(),
        "S0-7": eskd_mg_phosphate(),
        "S0-15": t50_outcomes(),
        "S0-21": hip_fracture(),
    }
    assert {row.verdict for row in rows.values()} == {Verdict.PENDING}
    assert "HR 2.12 (Monte Carlo" in rows["S0-5"].detail
    assert "labs layer's hypomagnesemia flag says no" in rows["S0-5"].detail
    assert "medians are UNCONFIRMED" in rows["S0-7"].detail
    assert "HR 1.22 (Monte Carlo" in rows["S0-15"].detail
    assert "Q2 and Q3 HRs" in rows["S0-21"].detail
