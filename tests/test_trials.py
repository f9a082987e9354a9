"""In-silico trials: the analyses against SciPy and statsmodels, design checks, randomization,
repeated trials, unavailable endpoints and arms, events, and the sample-size search."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats
from statsmodels.duration.survfunc import survdiff

from mgckd.exceptions import NotAvailableError, ScenarioError, UserInputError
from mgckd.trials import (
    ancova,
    logrank,
    median_difference,
    parse_trial,
    read_trial,
    risk_ratio,
    run_trial,
    sample_size,
    welch_t,
)
from mgckd.trials._simulate import randomize, simulate_trial

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples" / "trials"
RNG = np.random.default_rng(42)
ARM = np.tile(np.repeat([0, 1], 15), (3, 1))
VALUES = RNG.normal(1.0, 0.3, (3, 30)) + 0.4 * ARM


def test_welch_t_matches_scipy() -> None:
    found = welch_t(VALUES, ARM)
    for r in range(3):
        ref = stats.ttest_ind(VALUES[r, ARM[r] == 1], VALUES[r, ARM[r] == 0], equal_var=False)
        assert found.p[r] == pytest.approx(ref.pvalue, rel=1e-9)
        low, high = ref.confidence_interval()
        assert (found.low[r], found.high[r]) == pytest.approx((low, high), rel=1e-9)


def test_missing_values_are_left_out() -> None:
    holes = VALUES.copy()
    holes[0, [0, 20]] = np.nan
    found = welch_t(holes, ARM)
    kept = np.isfinite(holes[0])
    ref = stats.ttest_ind(
        holes[0, kept & (ARM[0] == 1)], holes[0, kept & (ARM[0] == 0)], equal_var=False
    )
    assert found.p[0] == pytest.approx(ref.pvalue, rel=1e-9)
    assert found.arm_n[0].tolist() == [14, 14]


def test_median_difference_matches_mann_whitney() -> None:
    found = median_difference(VALUES, ARM)
    for r in range(3):
        x1, x0 = VALUES[r, ARM[r] == 1], VALUES[r, ARM[r] == 0]
        ref = stats.mannwhitneyu(x1, x0, method="asymptotic", use_continuity=True)
        assert found.p[r] == pytest.approx(ref.pvalue, rel=1e-9)
        assert found.estimate[r] == pytest.approx(np.median(x1) - np.median(x0))


def test_ancova_matches_statsmodels() -> None:
    baseline = RNG.normal(1.0, 0.3, (3, 30))
    follow = 0.5 * baseline + VALUES
    found = ancova(follow, baseline, ARM)
    for r in range(3):
        design = sm.add_constant(np.column_stack([ARM[r], baseline[r]]))
        fit = sm.OLS(follow[r], design).fit()
        assert found.estimate[r] == pytest.approx(fit.params[1], rel=1e-9)
        assert found.p[r] == pytest.approx(fit.pvalues[1], rel=1e-9)


def test_logrank_matches_statsmodels() -> None:
    grid = np.arange(0.0, 41.0)
    time = np.minimum(np.round(RNG.exponential(15.0, (3, 30)) * (1 - 0.4 * ARM)), 40.0)
    event = time < 40.0
    found = logrank(time, event, ARM, grid)
    for r in range(3):
        _, p = survdiff(time[r], event[r].astype(int), ARM[r])
        assert found.p[r] == pytest.approx(p, rel=1e-8)


def test_risk_ratio() -> None:
    event = np.zeros((2, 40))
    arm = np.tile(np.repeat([0, 1], 20), (2, 1))
    event[0, :10] = 1  # 10/20 in the reference arm
    event[0, 20:25] = 1  # 5/20 treated
    event[1, :4] = 1  # 4/20 vs 0/20: Haldane correction
    found = risk_ratio(event, arm)
    assert found.estimate[0] == pytest.approx(0.5)
    se = np.sqrt(1 / 5 - 1 / 20 + 1 / 10 - 1 / 20)
    assert found.p[0] == pytest.approx(2 * stats.norm.sf(np.log(2) / se))
    assert found.estimate[1] == pytest.approx((0.5 / 21) / (4.5 / 21))


def _design(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "small",
        "population": {
            "preset": "ckd_g1_g5",
            "eligibility": {"egfr_ml_min_1_73m2": {"at_least": 15, "below": 60}},
        },
        "n_patients": 24,
        "arms": [
            {"name": "control"},
            {
                "name": "mgo",
                "interventions": [{"drug": "magnesium_oxide", "dose_mg": 330, "doses_per_day": 2}],
            },
        ],
        "duration_days": 90,
        "endpoints": [
            {
                "name": "serum_mg",
                "measure": "serum_mg_total",
                "compare": "change",
                "method": "welch_t",
                "unit": "mg/dL",
            }
        ],
        "repeats": 6,
        "seed": 3,
    }
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"arms": [{"name": "a"}, {"name": "a"}]}, "arm names must differ"),
        (
            {
                "endpoints": [
                    {"name": "x", "measure": "t50", "compare": "follow_up", "method": "logrank"}
                ]
            },
            r"endpoints\.0: .*method 'logrank' does not analyse 'follow_up'",
        ),
        (
            {
                "endpoints": [
                    {
                        "name": "x",
                        "measure": "phosphate",
                        "compare": "time_to_below",
                        "method": "logrank",
                    }
                ]
            },
            "threshold is given",
        ),
        ({"block_size": 3}, "multiple of the ratios' sum"),
        ({"n_patients": 2}, "n_patients"),
    ],
)
def test_design_errors_name_the_field(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        parse_trial(_design(**changes))


def test_permuted_blocks_keep_arms_balanced() -> None:
    design = parse_trial(_design(block_size=4))
    arms = randomize(design, 50, 24, np.random.default_rng(0))
    assert (arms.sum(axis=1) == 12).all()
    assert (arms[:, :4].sum(axis=1) == 2).all()
    assert not (arms == arms[0]).all()


def test_repeated_trials_are_reproducible_and_see_the_effect() -> None:
    design = parse_trial(_design())
    first = run_trial(design)
    again = run_trial(design)
    np.testing.assert_array_equal(first.primary.analysis.estimate, again.primary.analysis.estimate)
    summary = first.summary().iloc[0]
    assert summary["estimate_p2_5"] > 0  # MgO raises serum Mg in every virtual trial
    assert summary["power"] == 1.0
    assert summary["unit"] == "mg/dL"
    frame = first.to_frame()
    assert len(frame) == design.repeats
    assert (frame["control_n"] + frame["mgo_n"] == 24).all()
    assert first.to_dict()["metadata"]["seed"] == 3


def test_published_results_are_judged_for_coverage() -> None:
    spec = _design()["endpoints"][0] | {"published": {"estimate": 0.45, "arms": {"mgo": 99.0}}}
    result = run_trial(parse_trial(_design(endpoints=[spec])))
    inside = result.primary.covered()
    low, high = np.percentile(result.primary.analysis.estimate, [2.5, 97.5])
    assert inside == (low <= 0.45 <= high)
    assert result.primary.arms_covered(["control", "mgo"]) == {"mgo": False}


def test_eligibility_on_a_baseline_observable() -> None:
    criterion = {"plasma_mg_total_mmol_l": {"below": 0.9}, "diabetes": {"equals": True}}
    design = parse_trial(
        _design(population={"preset": "ckd_g1_g5", "eligibility": criterion}, repeats=2)
    )
    result = run_trial(design)
    assert result.data.eligible < result.data.screened
    with pytest.raises(ScenarioError, match="neither a characteristic"):
        run_trial(
            parse_trial(
                _design(population={"preset": "ckd_g1_g5", "eligibility": {"nope": {"below": 1}}})
            )
        )


def test_unavailable_parts_are_named() -> None:
    dialysate = _design()["arms"][1] | {"dialysate_mg_mmol_l": 1.0}
    with pytest.raises(ScenarioError, match=r"arms\.mgo\.dialysate_mg_mmol_l: .*not on hemo"):
        run_trial(parse_trial(_design(arms=[{"name": "control"}, dialysate])))
    phosphate = {
        "name": "pi",
        "measure": "phosphate",
        "compare": "follow_up",
        "method": "welch_t",
        "primary": True,
    }
    endpoints = [phosphate, _design()["endpoints"][0]]
    design = parse_trial(_design(endpoints=endpoints))
    with pytest.raises(NotAvailableError, match="plasma_pi_mmol_l"):
        run_trial(design)
    skipped = run_trial(design, skip_unavailable=True)
    assert list(skipped.endpoints) == ["serum_mg"]
    assert any("pi: not computed" in note for note in skipped.notes())


def test_outcome_events_from_a_published_effect() -> None:
    event = {
        "name": "eskd",
        "measure": "serum_mg_total",
        "compare": "event",
        "method": "risk_ratio",
        "effect": "sakaguchi-2012-eskd-hypomg-diabetic",
        "control_risk": 0.3,
    }
    population = {
        "preset": "ckd_g1_g5",
        "eligibility": {"diabetes": {"equals": True}, "egfr_ml_min_1_73m2": {"below": 60}},
    }
    design = parse_trial(_design(endpoints=[event], population=population, n_patients=40))
    result = run_trial(design)
    risks = result.primary.analysis.arm_statistic
    assert np.all((risks >= 0) & (risks <= 1))
    assert any("causal" in note for note in result.notes())
    no_risk = event | {"control_risk": None}
    with pytest.raises(ScenarioError, match="give control_risk"):
        run_trial(parse_trial(_design(endpoints=[no_risk], population=population)))


def test_sample_size_search_is_reproducible_and_reaches_the_target() -> None:
    design = parse_trial(_design(repeats=8))
    found = sample_size(design, target_power=0.8, n_max=24)
    again = sample_size(design, target_power=0.8, n_max=24)
    assert found == again
    assert found.n_patients is not None
    assert found.power >= 0.8
    assert found.evaluations[0] == (24, pytest.approx(found.evaluations[0][1]))
    below = [p for n, p in found.evaluations if n < found.n_patients]
    assert all(p < 0.8 for p in below)


def test_the_runnable_example_trial(tmp_path: Path) -> None:
    result = run_trial(read_trial(EXAMPLES / "mg_hydroxide_t50_ckd.yaml"), repeats=3)
    summary = result.summary().set_index("endpoint")
    assert summary.loc["t50", "estimate_median"] > 0  # more Mg, longer T50 (S0-17's direction)


def _hemodialysis(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "population": {"preset": "jsdt_hd"},
        "n_patients": 8,
        "arms": [{"name": "standard"}, {"name": "high_mg", "dialysate_mg_mmol_l": 1.0}],
        "duration_days": 14,
        "endpoints": [
            {"name": "mg", "measure": "serum_mg_total", "compare": "change", "method": "welch_t"}
        ],
        "repeats": 3,
        "pool_patients": 12,
    }
    return _design(**(data | changes))


def test_a_dialysate_trial_on_hemodialysis_patients() -> None:
    """Pre-dialysis samples every session from the long-run cycle; the higher dialysate raises
    pre-dialysis Mg in every virtual trial; the pool is drawn without replacement per trial."""
    design = parse_trial(_hemodialysis())
    result = run_trial(design)
    np.testing.assert_allclose(result.data.grid_days, [0, 2, 5, 7, 9, 12, 14])
    summary = result.summary().iloc[0]
    assert summary["estimate_p2_5"] > 0.1
    assert abs(summary["standard_median"]) < 1e-3  # on their own long-run cycle: no change
    assert result.to_dict()["pool_patients"] == 12
    again = run_trial(design)
    np.testing.assert_array_equal(result.primary.analysis.estimate, again.primary.analysis.estimate)
    with pytest.raises(ScenarioError, match=r"arms\.b\.dialysate_mg_mmol_l: 3 mmol/L is outside"):
        run_trial(
            parse_trial(
                _hemodialysis(arms=[{"name": "a"}, {"name": "b", "dialysate_mg_mmol_l": 3.0}])
            )
        )
    with pytest.raises(ScenarioError, match="pool_patients 6 must be at least n_patients 8"):
        parse_trial(_hemodialysis(pool_patients=6))
    with pytest.raises(UserInputError, match="pool_patients 12 is smaller than the 20"):
        run_trial(design, n_patients=20)


def test_the_pool_is_simulated_once_per_arm() -> None:
    design = parse_trial(_hemodialysis())
    data = simulate_trial(design, repeats=4, n=8, seed=1)
    assert data.endpoints["mg"].baseline.shape == (4, 8)
    # 12 pool patients: every trial's 8 are distinct, and trials overlap
    ids = data.endpoints["mg"].baseline
    assert all(np.unique(row).size == 8 for row in ids)


def test_calmag_design_runs_on_the_whole_body_model() -> None:
    """CALMAG's design, small: binder washout, binders in both arms, phosphate and Mg."""
    design = read_trial(EXAMPLES / "s1_2_calmag.yaml").model_copy(
        update={"n_patients": 4, "duration_days": 7.0, "pool_patients": 4}
    )
    result = run_trial(design, repeats=2)
    summary = result.summary().set_index("endpoint")
    assert (
        summary.loc["serum_mg_change", "camg_median"]
        > summary.loc["serum_mg_change", "sevelamer_median"]
    )  # the Mg carbonate of CaMg
    assert summary.loc["time_to_phosphate_target", "method"] == "logrank"


def test_the_dialysate_t50_design_runs() -> None:
    result = run_trial(
        read_trial(EXAMPLES / "s0_16_dialysate_t50.yaml"), repeats=3, n_patients=8, pool_patients=8
    )
    summary = result.summary().set_index("endpoint")
    assert summary.loc["t50", "estimate_median"] > 0  # more Mg, longer T50 (S0-16's direction)
    assert summary.loc["t50", "published"] == 73


def test_the_hard_outcome_design_runs() -> None:
    result = run_trial(
        read_trial(EXAMPLES / "hard_outcome_mgo_eskd.yaml"), repeats=2, n_patients=12
    )
    risks = result.primary.analysis.arm_statistic
    assert np.all((risks >= 0) & (risks <= 1))
