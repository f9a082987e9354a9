"""Meta-analysis: hand calculations, statsmodels, metafor's BCG example, harmonization, plots."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats
from statsmodels.stats.meta_analysis import combine_effects

from mgckd.evidence import (
    harmonize,
    leave_one_out,
    load_mg_outcome_studies,
    meta_analyze,
    plot_forest,
    pool,
    read_studies,
    restricted_log_likelihood,
    tau2_reml,
)
from mgckd.exceptions import MissingColumnError, UserInputError

# research/clinical-evidence.md 11.3: ln HR per +0.1 mmol/L and SE (de Roij 2015, Ishimura 2007b)
WORKED_Y = [-0.1625, -0.1758]
WORKED_SE = [0.0509, 0.0866]
# research/clinical-evidence.md 11.4: low vs reference Mg, all-cause death (Li, IUN 2019, CKJ 2015)
LOW_MG_HR = [(1.39, 1.23, 1.58), (2.82, 1.31, 6.29), (1.737, 1.200, 2.512)]


def _log_and_se(triples: list[tuple[float, float, float]]) -> tuple[list[float], list[float]]:
    z = stats.norm.isf(0.025)
    y = [math.log(hr) for hr, _, _ in triples]
    se = [(math.log(high) - math.log(low)) / (2 * z) for _, low, high in triples]
    return y, se


def test_dersimonian_laird_equals_hand_calculation() -> None:
    # Written out: weights 1/SE², the fixed-effect mean, Cochran's Q, the DL moment estimator
    # truncated at 0, and the random-effects mean with weights 1/(SE² + tau²).
    w1, w2 = 1 / 0.0509**2, 1 / 0.0866**2
    mu_fixed = (w1 * -0.1625 + w2 * -0.1758) / (w1 + w2)
    q = w1 * (-0.1625 - mu_fixed) ** 2 + w2 * (-0.1758 - mu_fixed) ** 2
    c = (w1 + w2) - (w1**2 + w2**2) / (w1 + w2)
    tau2 = max(0.0, (q - 1) / c)
    r1, r2 = 1 / (0.0509**2 + tau2), 1 / (0.0866**2 + tau2)
    mu = (r1 * -0.1625 + r2 * -0.1758) / (r1 + r2)
    se = math.sqrt(1 / (r1 + r2))
    result = pool(WORKED_Y, WORKED_SE, method="DL")
    assert result.tau2 == pytest.approx(tau2, abs=1e-12)
    assert result.q == pytest.approx(q, abs=1e-6)
    assert result.estimate == pytest.approx(mu, abs=1e-6)
    assert result.se == pytest.approx(se, abs=1e-6)
    low, high = result.pooled_ci
    assert math.exp(mu - 1.959963984540054 * se) == pytest.approx(low, abs=1e-6)
    assert math.exp(mu + 1.959963984540054 * se) == pytest.approx(high, abs=1e-6)
    # the derived numbers of research/clinical-evidence.md 11.3: HR 0.847 (0.777-0.923), Q 0.018
    assert (round(result.pooled, 3), round(low, 3), round(high, 3)) == (0.847, 0.777, 0.923)
    assert round(result.q, 3) == 0.018
    assert result.i2 == 0.0


def test_dersimonian_laird_matches_statsmodels_when_heterogeneous() -> None:
    y, se = _log_and_se(LOW_MG_HR)
    ours = pool(y, se, method="DL")
    theirs = combine_effects(np.array(y), np.array(se) ** 2, method_re="dl")
    assert ours.tau2 == pytest.approx(theirs.tau2, rel=1e-10)
    assert ours.estimate == pytest.approx(theirs.mean_effect_re, rel=1e-10)
    assert ours.se == pytest.approx(theirs.sd_eff_w_re, rel=1e-10)
    assert ours.fixed_estimate == pytest.approx(theirs.mean_effect_fe, rel=1e-10)
    assert ours.q == pytest.approx(theirs.q, rel=1e-10)
    assert ours.i2 == pytest.approx(theirs.i2, rel=1e-10)
    hk = pool(y, se, method="DL", hartung_knapp=True)
    assert hk.se == pytest.approx(theirs.sd_eff_w_re_hksj, rel=1e-10)


def test_homogeneous_set_matches_statsmodels_fixed_effect() -> None:
    ours = pool(WORKED_Y, WORKED_SE, method="DL")
    with pytest.warns(RuntimeWarning):  # statsmodels takes sqrt of a negative variance here
        theirs = combine_effects(np.array(WORKED_Y), np.array(WORKED_SE) ** 2, method_re="dl")
    assert ours.fixed_estimate == pytest.approx(theirs.mean_effect_fe, rel=1e-12)
    assert ours.fixed_se == pytest.approx(theirs.sd_eff_w_fe, rel=1e-12)
    assert ours.estimate == pytest.approx(theirs.mean_effect_fe, rel=1e-12)  # tau² = 0
    # statsmodels 0.14-0.15 leaves the DL tau² negative when Q < k - 1; mgckd truncates at 0
    # (DerSimonian & Laird 1986). If this starts failing, statsmodels fixed it: revisit _meta.py.
    assert theirs.tau2 < 0


def test_paule_mandel_matches_statsmodels() -> None:
    y, se = _log_and_se(LOW_MG_HR)
    theirs = combine_effects(np.array(y), np.array(se) ** 2, method_re="pm")
    ours = pool(y, se, method="PM")
    assert ours.tau2 == pytest.approx(theirs.tau2, rel=1e-4)
    assert ours.estimate == pytest.approx(theirs.mean_effect_re, rel=1e-4)


def test_reml_maximizes_the_restricted_likelihood() -> None:
    y, se = _log_and_se(LOW_MG_HR)
    v = np.array(se) ** 2
    tau2, converged = tau2_reml(y, v)
    found = optimize.minimize_scalar(
        lambda t: -restricted_log_likelihood(y, v, t),
        bounds=(0.0, 5.0),
        method="bounded",
        options={"xatol": 1e-12},
    )
    assert converged
    assert tau2 == pytest.approx(found.x, abs=1e-6)


# dat.bcg (Colditz et al. 1994), log relative risks, as in the metafor documentation:
#   library(metafor)
#   dat <- escalc(measure="RR", ai=tpos, bi=tneg, ci=cpos, di=cneg, data=dat.bcg)
#   rma(yi, vi, data=dat)               # REML: tau^2 0.3132, I^2 92.22%, Q(df=12) 152.2330,
#                                       #       estimate -0.7145, se 0.1798, CI -1.0669 -0.3622
#   rma(yi, vi, data=dat, method="DL")  # DL:   tau^2 0.3088, estimate -0.7141
BCG = np.array(
    [
        [4, 119, 11, 128],
        [6, 300, 29, 274],
        [3, 228, 11, 209],
        [62, 13536, 248, 12619],
        [33, 5036, 47, 5761],
        [180, 1361, 372, 1079],
        [8, 2537, 10, 619],
        [505, 87886, 499, 87892],
        [29, 7470, 45, 7232],
        [17, 1699, 65, 1600],
        [186, 50448, 141, 27197],
        [5, 2493, 3, 2338],
        [27, 16886, 29, 17825],
    ],
    dtype=float,
)


def test_bcg_matches_metafor() -> None:
    a, b, c, d = BCG.T
    yi = np.log((a / (a + b)) / (c / (c + d)))
    vi = 1 / a - 1 / (a + b) + 1 / c - 1 / (c + d)
    reml = pool(yi, np.sqrt(vi), method="REML")
    assert reml.tau2 == pytest.approx(0.3132, abs=5e-5)
    assert 100 * reml.i2 == pytest.approx(92.22, abs=5e-3)
    assert reml.q == pytest.approx(152.2330, abs=5e-5)
    assert reml.estimate == pytest.approx(-0.7145, abs=5e-5)
    assert reml.se == pytest.approx(0.1798, abs=5e-5)
    assert reml.ci == pytest.approx((-1.0669, -0.3622), abs=5e-5)
    dl = pool(yi, np.sqrt(vi), method="DL")
    assert dl.tau2 == pytest.approx(0.3088, abs=5e-5)
    assert dl.estimate == pytest.approx(-0.7141, abs=5e-5)


def test_low_mg_case_reports_heterogeneity() -> None:
    # research/clinical-evidence.md 11.4 (derived): Q 4.11, tau² 0.034, I² 51 %,
    # RE HR 1.615 (1.208-2.160), FE HR 1.444 (1.284-1.624)
    result = meta_analyze(scale="low_vs_reference", method="DL")
    assert set(result.names) == {"Li 2015", "Int Urol Nephrol 2019", "Clin Kidney J 2015"}
    assert round(result.q, 2) == 4.11
    assert round(result.tau2, 3) == 0.034
    assert round(100 * result.i2) == 51
    assert [round(x, 3) for x in (result.pooled, *result.pooled_ci)] == [1.615, 1.208, 2.160]
    assert round(math.exp(result.fixed_estimate), 3) == 1.444
    assert result.prediction_interval is not None


def test_hartung_knapp_uses_t_with_k_minus_1_df() -> None:
    y, se = _log_and_se(LOW_MG_HR)
    result = pool(y, se, method="DL", hartung_knapp=True)
    t = stats.t.isf(0.025, 2)
    assert result.ci[1] - result.estimate == pytest.approx(t * result.se)


def test_fixed_effect_and_methods_differ_only_where_they_should() -> None:
    y, se = _log_and_se(LOW_MG_HR)
    fixed = pool(y, se, method="FE")
    assert fixed.tau2 == 0.0
    assert fixed.estimate == pytest.approx(fixed.fixed_estimate)
    assert fixed.prediction_interval is None
    assert pool(y, se, method="REML").tau2 > 0


def test_leave_one_out_repools_the_rest() -> None:
    y, se = _log_and_se(LOW_MG_HR)
    result = pool(y, se, names=["a", "b", "c"], method="DL")
    loo = leave_one_out(result)
    assert list(loo["omitted"]) == ["a", "b", "c"]
    without_b = pool([y[0], y[2]], [se[0], se[2]], method="DL")
    assert loo.loc[1, "estimate"] == pytest.approx(without_b.pooled)
    with pytest.raises(UserInputError, match="at least 3"):
        leave_one_out(pool(WORKED_Y, WORKED_SE))


@pytest.mark.parametrize(
    ("effects", "ses", "message"),
    [
        ([0.1], [0.1], "at least 2"),
        ([0.1, 0.2], [0.1, 0.0], "positive"),
        ([0.1], [0.1, 0.2], "2 standard"),
    ],
)
def test_pool_refuses_bad_input(effects: list[float], ses: list[float], message: str) -> None:
    with pytest.raises(UserInputError, match=message):
        pool(effects, ses)


# --- the study table and its harmonization -----------------------------------------------------


def test_study_table_rebuilds_table_2() -> None:
    studies = load_mg_outcome_studies()
    table2 = studies[studies["in_seed_table2"]]
    assert table2["study"].nunique() == 11
    assert studies["id"].is_unique
    ratios = studies[studies["measure"].isin(["HR", "OR"]) & studies["ci_low"].notna()]
    assert (
        (ratios["ci_low"] <= ratios["estimate"]) & (ratios["estimate"] <= ratios["ci_high"])
    ).all()
    assert set(studies["status"]) <= {"confirmed", "seed_ocr"}
    assert "citation" in studies.attrs


def test_per_mg_dl_estimate_is_rescaled_through_the_molar_mass() -> None:
    included = harmonize().included.set_index("id")
    ishimura = included.loc["ishimura-2007-all-cause-death"]
    # 0.1 mmol/L = 0.1 × 24.305 / 10 mg/dL = 0.24305 mg/dL
    assert ishimura["factor"] == pytest.approx(0.24305, rel=1e-9)
    assert ishimura["log_ratio"] == pytest.approx(0.24305 * math.log(0.485), rel=1e-9)
    assert ishimura["ratio"] == pytest.approx(0.839, abs=5e-4)  # research 11.1: 0.839 (0.708-0.994)
    assert (round(ishimura["ci_low"], 3), round(ishimura["ci_high"], 3)) == (0.708, 0.994)
    assert included.loc["de-roij-2015-all-cause-death", "factor"] == 1.0


def test_unharmonizable_rows_say_why() -> None:
    reasons = dict(
        zip(*harmonize(outcome="cv_death").excluded[["id", "reason"]].to_numpy().T, strict=True)
    )
    assert "printed as 0" in reasons["cai-2016-cv-death"]
    assert "not per_unit" in reasons["matias-2014-cv-death"]
    assert "OR, not HR" in reasons["sakaguchi-2014-cv-death-below-0.95"]
    assert "not a ratio" in reasons["yu-2016-cv-death"]
    low = harmonize(outcome="all_cause_death").excluded.set_index("id")["reason"]
    assert "categorical contrast" in low["li-2015-all-cause-death-below-1.8"]
    assert "no 95 % CI" in low["cai-2016-all-cause-death"]


def test_too_few_rows_to_pool_is_a_user_error_listing_reasons() -> None:
    with pytest.raises(UserInputError, match=r"only 1 estimate.*matias-2014-cv-death"):
        meta_analyze(outcome="cv_death")


def test_a_users_table_in_meq_per_litre(tmp_path: Path) -> None:
    table = pd.DataFrame(
        {
            "id": ["a", "b", "c"],
            "study": ["A", "B", "C"],
            "outcome": ["all_cause_death"] * 3,
            "measure": ["HR"] * 3,
            "estimate": [0.9, 0.8, 0.85],
            "ci_low": [0.8, 0.6, 0.7],
            "ci_high": [1.01, 1.07, 1.03],
            "exposure": ["per_unit"] * 3,
            "per_value": [0.1, 0.2, 1.0],
            "per_unit": ["mEq/L", "mmol/L", "mg/dL"],
        }
    )
    path = tmp_path / "mine.csv"
    table.to_csv(path, index=False)
    harmonized = harmonize(read_studies(path)).included.set_index("id")
    assert harmonized.loc["a", "factor"] == pytest.approx(2.0)  # 0.1 mEq/L = 0.05 mmol/L
    assert harmonized.loc["b", "factor"] == pytest.approx(0.5)
    table.drop(columns="exposure").to_csv(path, index=False)
    with pytest.raises(MissingColumnError, match="exposure"):
        read_studies(path)


def test_forest_plot_draws_each_study_and_the_pool() -> None:
    result = meta_analyze(scale="low_vs_reference")
    ax = plot_forest(result)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert len(labels) == result.k + 1
    assert labels[-1].startswith("pooled (REML)")
    assert ax.get_xscale() == "log"


def test_result_frames_and_text() -> None:
    result = meta_analyze()
    frame = result.to_frame()
    assert list(frame["kind"]) == ["study", "study", "pooled"]
    assert frame["weight"][:2].sum() == pytest.approx(1.0)
    data = result.to_dict()
    assert data["k"] == 2
    assert "not causal" in data["note"]
    assert "not treatment instructions" in result.summary()
