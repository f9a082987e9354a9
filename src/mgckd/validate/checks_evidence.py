"""Checks of the evidence toolkit against the literature (S1-16, L-leenders-2021-mg-mortality).

S1-16 is the seed's Table 2: eleven heterogeneous cohorts. The check rebuilds it, pools what can be
put on one scale (HR per +0.1 mmol/L) and says what cannot; the published single-cohort numbers
are for the outcome model to predict, so the verdict stays pending. The Leenders 2021 target is
judged by direction, with both CIs in the detail.
"""

from __future__ import annotations

import math

from matplotlib.figure import Figure
from scipy import stats

from mgckd.validate._checks import CheckResult, Verdict, check
from mgckd.validate._claims import claim

_ALL_CAUSE = "all_cause_death"
_CV = "cv_death"


def _forest(seed_table2_only: bool) -> Figure:
    from mgckd.evidence import meta_analyze, plot_forest  # noqa: PLC0415

    result = meta_analyze(outcome=_ALL_CAUSE, seed_table2_only=seed_table2_only)
    figure = Figure(figsize=(7.5, 2.6), layout="constrained")
    plot_forest(result, figure.subplots())
    return figure


@check("S1-16")
def table2_pooled() -> CheckResult:
    """Pool the rows of the seed's Table 2 that harmonize to HR per +0.1 mmol/L serum Mg."""
    from mgckd.evidence import harmonize, load_mg_outcome_studies, meta_analyze  # noqa: PLC0415

    studies = load_mg_outcome_studies()
    table2 = studies[studies["in_seed_table2"]]
    pooled = meta_analyze(table2, outcome=_ALL_CAUSE)
    cv = harmonize(table2, outcome=_CV)
    low, high = pooled.pooled_ci
    unusable = sorted(set(table2["study"]) - set(pooled.names) - set(cv.included["study"]))
    detail = (
        f"Table 2 rebuilt: {table2['study'].nunique()} studies, {len(table2)} estimates. "
        f"All-cause death, HR per +0.1 mmol/L pooled from {', '.join(pooled.names)}: "
        f"{pooled.pooled:.3f} ({low:.3f}-{high:.3f}), {pooled.method}, "
        f"I² {100 * pooled.i2:.0f} %. CV death: {len(cv.included)} estimate on that scale "
        f"({', '.join(cv.included['study']) or 'none'}), nothing to pool. Not harmonizable: "
        f"{', '.join(unusable)} (categorical contrasts, linear or group-mean outcomes, "
        "unstated exposure steps; reasons per row from mgckd.evidence.harmonize). The published "
        "JSDT and CONTRAST estimates are single-cohort numbers for the outcome model to "
        "predict (issues 7 and 8)."
    )
    return CheckResult(
        model=pooled.pooled,
        verdict=Verdict.PENDING,
        detail=detail,
        figure=lambda: _forest(seed_table2_only=True),
    )


@check("L-leenders-2021-mg-mortality")
def leenders_direction() -> CheckResult:
    """The harmonizable all-cause pool points the same way as the 22-study meta-analysis."""
    from mgckd.evidence import meta_analyze  # noqa: PLC0415

    target = claim("L-leenders-2021-mg-mortality")
    published = target.published.item("pooled HR for all-cause death per +0.1 mmol/L serum Mg")
    pooled = meta_analyze(outcome=_ALL_CAUSE)
    passed = target.judge(pooled.estimate, item=published.name, sign=-1)
    if published.ci is None:  # pragma: no cover - the registry gives a CI
        raise ValueError("the Leenders all-cause HR has no CI in claims.yaml")
    z_level = float(stats.norm.isf(0.025))
    published_se = (math.log(published.ci[1]) - math.log(published.ci[0])) / (2 * z_level)
    z = (pooled.estimate - math.log(published.value)) / math.hypot(pooled.se, published_se)
    low, high = pooled.pooled_ci
    return CheckResult(
        model=pooled.pooled,
        verdict=Verdict.PASS if passed else Verdict.FAIL,
        detail=(
            f"pooled all-cause HR per +0.1 mmol/L from {', '.join(pooled.names)} "
            f"({pooled.method}): {pooled.pooled:.3f} ({low:.3f}-{high:.3f}) vs published "
            f"{published.render()}; difference z = {z:.2f} "
            f"({'within' if abs(z) < z_level else 'beyond'} sampling error)"
        ),
        figure=lambda: _forest(seed_table2_only=False),
    )
