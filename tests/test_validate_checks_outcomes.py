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
    SIMULATED_PATIENTS,
    T50_CRIC_DEATH,
    T50_PREVEND,
    eskd_diabetic,
    eskd_mg_phosphate,
    high_phosphate_result,
    hip_fracture,
    j_curve,
    j_curve_result,
    mg_bands_in_high_phosphate,
    reproduce,
    simulated_hemodialysis_cohort,
    t50_outcomes,
    t50_result,
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
        "S0-21": hip_fracture(),
    }
    assert {row.verdict for row in rows.values()} == {Verdict.PENDING}
    assert "HR 2.12 (Monte Carlo" in rows["S0-5"].detail
    assert "labs layer's hypomagnesemia flag says no" in rows["S0-5"].detail
    assert "medians are UNCONFIRMED" in rows["S0-7"].detail
    assert "Q2 and Q3 HRs" in rows["S0-21"].detail


# --- the simulated hemodialysis cohort -----------------------------------------------------------


def test_the_simulated_cohort_fills_every_jsdt_category_with_a_published_or() -> None:
    simulated = simulated_hemodialysis_cohort()
    cohort = simulated.cohort
    assert cohort.n == SIMULATED_PATIENTS
    assert simulated.left_out == ()
    assert cohort.phosphate_mmol_l is None  # the Mg model has none: never the reference value
    exposure = effect_size(J_CURVE).exposure
    assert isinstance(exposure, CategoricalExposure)
    assert cohort.mg_mmol_l is not None
    counts = np.bincount(_context.assign_categories(cohort.mg_mmol_l, exposure), minlength=5)
    published = [i for i, c in enumerate(exposure.categories) if c.ratio or c.reference]
    assert all(counts[i] >= 10 for i in published), counts
    assert "pre-dialysis, session 2" in simulated.sample.description


def test_on_the_simulated_cohort_the_published_ors_come_back_and_wrong_ones_do_not() -> None:
    cohort = simulated_hemodialysis_cohort().cohort
    result = reproduce(effect_size(J_CURVE), cohort=cohort)
    assert result.copies == 356  # 142,069 JSDT patients over 400 simulated
    assert result.recovered["inside"].all()
    inverted = reproduce(_inverted(effect_size(J_CURVE)), cohort=cohort).recovered
    published = result.recovered
    within = inverted["ratio"].between(published["published_low"], published["published_high"])
    assert not within.all()  # the packaged CIs reject what an inverted record gives
    assert (
        inverted.set_index("category").loc[["<0.95 mmol/L", ">=1.27 mmol/L"], "ratio"] < 1
    ).all()


def test_s0_18_and_s0_19_report_the_simulated_cohort() -> None:
    assert "J shape reproduced on simulated Mg" in j_curve().detail
    detail = mg_bands_in_high_phosphate().detail
    assert "their serum Mg the simulated pre-dialysis value" in detail
    assert "phosphate drawn uniform over its usual range (the Mg model has none)" in detail


# --- S0-15 -----------------------------------------------------------------------------------


def test_s0_15_shorter_t50_goes_with_faster_cac_and_higher_published_hazards() -> None:
    result = t50_outcomes()
    assert result.verdict is Verdict.PASS
    assert isinstance(result.model, float)
    assert result.model < 0
    assert "predicted (the model was not fitted to it" in result.detail
    assert "eelderink-2020-cv-death-t50: HR" in result.detail
    assert "bundy-2019-death-t50: HR" in result.detail
    assert result.figure is not None


def test_s0_15_fails_when_a_hazard_ratio_is_applied_the_wrong_way_round() -> None:
    def flipped(effect: EffectSize) -> EffectSize:
        exposure = effect.exposure
        assert not isinstance(exposure, CategoricalExposure)
        ratio = exposure.ratio
        inverse = Ratio(estimate=1 / ratio.estimate, ci=(1 / ratio.ci[1], 1 / ratio.ci[0]))
        return effect.model_copy(
            update={"exposure": exposure.model_copy(update={"ratio": inverse})}
        )

    effects = (flipped(effect_size(T50_PREVEND)), effect_size(T50_CRIC_DEATH))
    assert t50_result(effects).verdict is Verdict.FAIL
