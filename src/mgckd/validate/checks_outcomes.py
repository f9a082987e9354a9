"""Checks of the outcome layer (`mgckd.outcomes`): S0-18, S0-19 and the pending S0-5, S0-7,
S0-15, S0-21.

These check the machinery, not a mechanism: the published effect sizes are the layer's inputs, so
the test is that `mgckd.outcomes.risk` applies them correctly. A virtual cohort spans the
published categories; 1-year events are drawn from the absolute risks `risk` returns; logistic
regression of those events (`mgckd.evidence.analyze_registry`, a separate code path) must give
back each published odds ratio inside its 95 % CI. Passing says the inputs are applied as
published — never that the association was predicted. Claims that need simulated trajectories
(the physiology and cohort layers) stay pending for those parts, with the reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mgckd.labs import hypomagnesemia, limits
from mgckd.outcomes import (
    CategoricalExposure,
    Cohort,
    EffectSize,
    effect_size,
    risk,
)
from mgckd.units import convert
from mgckd.validate._checks import CheckResult, Verdict, check
from mgckd.validate._claims import claim

J_CURVE = "sakaguchi-2014-cv-death-mg-categories"
HIGH_PHOSPHATE = "sakaguchi-2014-cv-death-mg-bands-high-phosphate"
HIP_FRACTURE = "sakaguchi-2018-hip-fracture-mg-quartiles"
ESKD_DIABETIC = "sakaguchi-2012-eskd-hypomg-diabetic"
ESKD_MG_PHOSPHATE = "sakaguchi-2015-eskd-low-mg-high-phosphate"
T50_PREVEND = "eelderink-2020-cv-death-t50"
T50_EVOLVE = "pasch-2017-death-t50"

PATIENTS_PER_CATEGORY = 40_000
"""Virtual patients per Mg category: about 1,300 events each at a 3 % risk, so the recovered log
OR has a standard error near 0.04, well inside the published CIs' half-widths (0.14-0.27)."""
SEED = 20140101
"""Seed of the virtual cohorts, their events and the Monte Carlo (recorded in every detail)."""
_MACHINERY = (
    "Machinery check, not an independent validation: the published ratios are inputs of "
    "mgckd.outcomes, and this verifies that risk() applies them as published."
)


@dataclass(frozen=True, slots=True)
class Reproduction:
    """A virtual cohort run through `risk`, its simulated events and the ORs fitted to them.

    `recovered` has one row per category with an estimate: ``category``, ``published``,
    ``published_low``, ``published_high``, ``ratio``, ``ci_low``, ``ci_high`` (the fit) and
    ``inside`` (the fitted OR inside the published 95 % CI). `phosphate_ratio` is the fitted
    phosphate OR per mg/dL (with its 95 % CI) among the patients with an estimate.
    """

    effect: EffectSize
    n_patients: int
    n_events: int
    n_no_estimate: int
    n_outside_stratum_estimated: int
    recovered: pd.DataFrame
    phosphate_ratio: tuple[float, float, float]

    def render(self) -> str:
        """``<label>: fitted OR (CI) vs published OR (CI)``, one per category."""
        return "; ".join(
            f"{r.category}: {r.ratio:.3f} ({r.ci_low:.3f}-{r.ci_high:.3f}) vs published "
            f"{r.published:g} ({r.published_low:g}-{r.published_high:g})"
            for r in self.recovered.itertuples()
        )


def _population_matched(effect: EffectSize, n: int) -> dict[str, Any]:
    """Cohort fields that put every virtual patient inside the effect's population."""
    population = effect.population
    fields: dict[str, Any] = {"dialysis": [population.dialysis[0].value] * n}
    if population.diabetes is not None:
        fields["diabetes"] = [population.diabetes] * n
    if population.egfr_below_ml_min_1_73m2 is not None:
        fields["egfr_ml_min_1_73m2"] = np.full(n, population.egfr_below_ml_min_1_73m2 / 2)
    return fields


def virtual_cohort(effect: EffectSize, *, n_per_category: int, seed: int) -> Cohort:
    """Patients inside the effect's population, serum Mg uniform within each category that has
    a published ratio or is the reference (open ends closed at the labs layer's usual range),
    phosphate uniform over its usual range (so a stratum has patients on both sides)."""
    exposure = effect.exposure
    if not isinstance(exposure, CategoricalExposure):
        raise TypeError(f"{effect.id}: a virtual cohort spans categories")
    rng = np.random.default_rng(seed)
    mg_low, mg_high = limits("magnesium").soft
    edges = (mg_low, *exposure.cutpoints_internal, mg_high)
    used = [i for i, c in enumerate(exposure.categories) if c.ratio is not None or c.reference]
    mg = np.concatenate([rng.uniform(edges[i], edges[i + 1], n_per_category) for i in used])
    phosphate = rng.uniform(*limits("phosphate").soft, mg.size)
    return Cohort(mg_mmol_l=mg, phosphate_mmol_l=phosphate, **_population_matched(effect, mg.size))


def reproduce(
    effect: EffectSize, *, n_per_category: int = PATIENTS_PER_CATEGORY, seed: int = SEED
) -> Reproduction:
    """Apply an OR effect to a virtual cohort, draw events, fit the ORs back (see module doc)."""
    from mgckd.evidence import (  # noqa: PLC0415  (statsmodels: load on use)
        analyze_registry,
        categorize_mg,
    )

    if effect.measure != "OR" or not isinstance(effect.exposure, CategoricalExposure):
        raise TypeError(f"{effect.id}: reproduction by logistic regression needs categorical ORs")
    exposure = effect.exposure
    cohort = virtual_cohort(effect, n_per_category=n_per_category, seed=seed)
    frame = risk(cohort, effect, rng=seed).to_frame()
    rng = np.random.default_rng(seed + 1)
    absolute = frame["absolute_risk"].to_numpy(dtype=np.float64)
    estimated = np.isfinite(absolute)
    events = rng.random(absolute.size) < np.where(estimated, absolute, 0.0)
    table = pd.DataFrame(
        {
            "mg_mmol_l": cohort.mg_mmol_l,
            "phosphate_mmol_l": cohort.phosphate_mmol_l,
            "event": events.astype(int),
        }
    )[estimated]
    used = [i for i, c in enumerate(exposure.categories) if c.ratio is not None or c.reference]
    cut_mmol_l = [exposure.cutpoints_internal[i - 1] for i in used[1:]]
    cut_mg_dl = convert(np.asarray(cut_mmol_l), "mmol/L", "mg/dL", analyte="magnesium")
    cut_points = [float(v) for v in np.atleast_1d(cut_mg_dl)]
    labels = categorize_mg(cut_points, table["mg_mmol_l"].to_numpy())[0].labels
    analysis = analyze_registry(
        table,
        outcome="event",
        mg_categories=cut_points,
        mg_reference=labels[used.index(exposure.reference_index)],
        interaction=False,
        spline_knots=None,
        paf=False,
        population=f"virtual cohort for {effect.id}",
    )
    fitted = {
        str(row["mg_category"]): (float(row["ratio"]), float(row["ci_low"]), float(row["ci_high"]))
        for row in analysis.mg_by_category.to_dict("records")
    }
    rows = []
    for position, i in enumerate(used):
        category = exposure.categories[i]
        if category.ratio is None:
            continue
        ratio, fit_low, fit_high = fitted[labels[position]]
        low, high = category.ratio.ci
        rows.append(
            {
                "category": category.label,
                "published": category.ratio.estimate,
                "published_low": low,
                "published_high": high,
                "ratio": ratio,
                "ci_low": fit_low,
                "ci_high": fit_high,
                "inside": low <= ratio <= high,
            }
        )
    phosphate = next(
        r for r in analysis.coefficients.to_dict("records") if r["term"] == "phosphate"
    )
    below = np.zeros(absolute.size, dtype=bool)
    if effect.stratum is not None and cohort.phosphate_mmol_l is not None:
        below = cohort.phosphate_mmol_l < effect.stratum.lower_internal
    return Reproduction(
        effect=effect,
        n_patients=int(estimated.sum()),
        n_events=int(events.sum()),
        n_no_estimate=int((~estimated).sum()),
        n_outside_stratum_estimated=int((below & estimated).sum()),
        recovered=pd.DataFrame(rows),
        phosphate_ratio=(
            float(phosphate["ratio"]),
            float(phosphate["ci_low"]),
            float(phosphate["ci_high"]),
        ),
    )


def _mg_dl(mmol_l: float) -> float:
    return float(convert(mmol_l, "mmol/L", "mg/dL", analyte="magnesium"))


def j_curve_result(effect: EffectSize) -> CheckResult:
    """S0-18 on `effect` (the packaged seed Table 2 ORs, or a perturbed copy in tests)."""
    target = claim("S0-18")
    exposure = effect.exposure
    if not isinstance(exposure, CategoricalExposure):  # pragma: no cover - packaged data
        raise TypeError("S0-18 needs a categorical effect")
    result = reproduce(effect)
    recovered = result.recovered
    edges = (limits("magnesium").soft[0], *exposure.cutpoints_internal)
    ratios = {
        str(label): float(ratio)
        for label, ratio in zip(recovered["category"], recovered["ratio"], strict=True)
    }
    reference = exposure.categories[exposure.reference_index].label
    ratios[reference] = 1.0
    nadir = min(ratios, key=lambda label: ratios[label])
    index = next(i for i, c in enumerate(exposure.categories) if c.label == nadir)
    upper = (*exposure.cutpoints_internal, limits("magnesium").soft[1])[index]
    nadir_mg_dl = _mg_dl((edges[index] + upper) / 2.0)
    ends = [ratios[exposure.categories[i].label] for i in (0, len(exposure.categories) - 1)]
    j_shape = min(ends) > ratios[nadir]
    in_band = target.judge(nadir_mg_dl)
    passed = bool(recovered["inside"].all()) and in_band and j_shape
    detail = (
        f"{_MACHINERY} Inputs: 1-year CV-death ORs of the JSDT hemodialysis registry as printed "
        f"in the seed's Table 2 (S1-16, OCR; {effect.source.citation}). Virtual hemodialysis "
        f"cohort: {result.n_patients:,} patients with Mg uniform in each category with an OR "
        f"(seed {SEED}); {result.n_events:,} 1-year CV deaths drawn from risk()'s absolute "
        "risks (reference risk: the crude 4,751/142,069, an assumption); logistic regression "
        f"(mgckd.evidence.analyze_registry) gives {result.render()}. Lowest odds in {nadir} "
        f"(midpoint {nadir_mg_dl:.2f} mg/dL; published best band 2.7-3.0 mg/dL); higher odds "
        f"at both ends ({ends[0]:.2f}, {ends[1]:.2f}): J shape "
        f"{'reproduced' if j_shape else 'not reproduced'}. Not checked: the all-cause sextile "
        "ORs of Sakaguchi 2014 Kidney Int (S0-18's paper) are UNCONFIRMED, so the J shape is "
        "that of CV death (the paper's abstract reports the same shape for CV and non-CV "
        "death); 0.95-1.10 mmol/L has no published OR. Predicting the curve from simulated Mg "
        "trajectories needs the physiology (issue 5) and virtual cohorts (issue 8)."
    )
    return CheckResult(
        model=round(nadir_mg_dl, 3),
        verdict=Verdict.PASS if passed else Verdict.FAIL,
        detail=detail,
    )


@check("S0-18")
def j_curve() -> CheckResult:
    """The seed's Table 2 ORs applied to a virtual hemodialysis cohort come back J-shaped."""
    return j_curve_result(effect_size(J_CURVE))


def high_phosphate_result(effect: EffectSize) -> CheckResult:
    """S0-19 on `effect` (the packaged record, or a perturbed copy in tests)."""
    target = claim("S0-19")
    result = reproduce(effect)
    names = [v.name for v in target.published.values if v.ci is not None]
    judged = [
        target.judge(ratio, item=name)
        for ratio, name in zip(result.recovered["ratio"], names, strict=True)
    ]
    confined = result.n_outside_stratum_estimated == 0 and result.n_no_estimate > 0
    ratio, low, high = result.phosphate_ratio
    passed = all(judged) and confined
    detail = (
        f"{_MACHINERY} Inputs: adjusted ORs of 1-year CV death by Mg band within phosphate >= "
        f"6.0 mg/dL ({effect.source.citation}). Virtual hemodialysis cohort (seed {SEED}), "
        "phosphate uniform over its usual range: "
        f"{result.n_no_estimate:,} patients below 6.0 mg/dL got no estimate (the ORs hold only "
        f"in the stratum), {result.n_patients:,} inside it, {result.n_events:,} CV deaths drawn "
        f"from risk()'s absolute risks; logistic regression recovers {result.render()}. Not "
        "reproduced: the phosphate slope within each Mg band (steep below 2.7, attenuated at "
        "2.7-3.0, absent at >= 3.1 mg/dL; P for interaction 0.03) — its ORs are UNCONFIRMED, "
        "so mgckd applies none (fitted phosphate OR per mg/dL inside the stratum "
        f"{ratio:.2f}, {low:.2f}-{high:.2f}: flat, as the seed reports only for >= 3.1 mg/dL); "
        "predicting it from simulated phosphate and Mg needs the physiology (issue 5) and "
        "virtual cohorts (issue 8)."
    )
    return CheckResult(
        model="; ".join(f"{r:.3f}" for r in result.recovered["ratio"]),
        verdict=Verdict.PASS if passed else Verdict.FAIL,
        detail=detail,
    )


@check("S0-19")
def mg_bands_in_high_phosphate() -> CheckResult:
    """The Mg-band ORs within phosphate >= 6.0 mg/dL come back from a virtual cohort."""
    return high_phosphate_result(effect_size(HIGH_PHOSPHATE))


def _one_patient(effect: EffectSize, **fields: Any) -> pd.Series:
    cohort = Cohort(**{**_population_matched(effect, 1), **fields})
    return risk(cohort, effect, rng=SEED).to_frame().iloc[0]


def _interval(row: pd.Series, prefix: str, fmt: str = ".2f") -> str:
    return (
        f"{row[prefix]:{fmt}} (Monte Carlo {row[prefix + '_low']:{fmt}}-"
        f"{row[prefix + '_high']:{fmt}})"
    )


@check("S0-5")
def eskd_diabetic() -> CheckResult:
    """Pending: ESKD must come from simulated CKD progression; the applied HR is shown."""
    effect = effect_size(ESKD_DIABETIC)
    on_cut = float(convert(1.8, "mg/dL", "mmol/L", analyte="magnesium"))
    low = _one_patient(effect, mg_mmol_l=[on_cut])
    return CheckResult(
        model=float(low["relative_risk"]),
        verdict=Verdict.PENDING,
        detail=(
            f"The outcome layer carries the published HR ({effect.source.citation}): a "
            f"non-dialysis patient with type 2 diabetes and eGFR < 60 at Mg 1.8 mg/dL (the "
            f"paper's low group is <= 1.8; the labs layer's hypomagnesemia flag says "
            f"{hypomagnesemia(on_cut)!s}) gets HR {_interval(low, 'relative_risk')}. Pending: "
            "the claim asks the simulator to predict ESKD from Mg, which needs the CKD-"
            "progression physiology (issue 5) and a virtual diabetic CKD cohort (issue 8); no "
            "fixed horizon is published, so no absolute risk."
        ),
    )


@check("S0-7")
def eskd_mg_phosphate() -> CheckResult:
    """Pending: the one confirmed contrast cannot be placed on patients (medians unknown)."""
    effect = effect_size(ESKD_MG_PHOSPHATE)
    exposure = effect.exposure
    assert isinstance(exposure, CategoricalExposure)
    ratio = exposure.categories[0].ratio
    assert ratio is not None
    return CheckResult(
        model="",
        verdict=Verdict.PENDING,
        detail=(
            f"Packaged: HR {ratio.estimate:g} ({ratio.ci[0]:g}-{ratio.ci[1]:g}) lower-Mg/higher-"
            f"phosphate vs higher-Mg/higher-phosphate ({effect.source.citation}); blocked: "
            f"{effect.blocked}. Pending: the effect modification needs the CKD-progression "
            "physiology with Mg × phosphate injury (issue 5)."
        ),
    )


@check("S0-21")
def hip_fracture() -> CheckResult:
    """Pending: the PAF needs the unpublished Q2-Q3 HRs; the applied Q1 HR is shown."""
    effect = effect_size(HIP_FRACTURE)
    q1 = _one_patient(
        effect, mg_mmol_l=[float(convert(2.0, "mg/dL", "mmol/L", analyte="magnesium"))]
    )
    return CheckResult(
        model=float(q1["relative_risk"]),
        verdict=Verdict.PENDING,
        detail=(
            f"The outcome layer carries the published HR ({effect.source.citation}): a "
            f"hemodialysis patient in Q1 gets HR {_interval(q1, 'relative_risk')} and a 2-year "
            f"hip-fracture risk of {_interval(q1, 'absolute_risk', '.2%')} (Q4's crude 1.49 % "
            f"times the adjusted HR; Q1's crude incidence was {q1['crude_risk']:.2%}). Pending: "
            "the population attributable fraction (13.7 %) needs the Q2 and Q3 HRs and the "
            "PAFs of Ca, phosphate and PTH, all UNCONFIRMED, and a virtual hemodialysis cohort "
            "with the JSDT Mg distribution (issue 8)."
        ),
    )


@check("S0-15")
def t50_outcomes() -> CheckResult:
    """Pending: needs in-silico T50 and calcification; the applied PREVEND HR is shown."""
    effect = effect_size(T50_PREVEND)
    exposure = effect.exposure
    reference = getattr(exposure, "reference_value", math.nan)
    step = getattr(exposure, "step", math.nan)
    shorter = _one_patient(effect, t50_min=[reference + step])
    evolve = effect_size(T50_EVOLVE)
    return CheckResult(
        model=float(shorter["relative_risk"]),
        verdict=Verdict.PENDING,
        detail=(
            f"The outcome layer carries PREVEND's HR for CV death ({effect.population.render()}): "
            f"T50 {abs(step):g} min below the mean gives HR {_interval(shorter, 'relative_risk')} "
            f"(published CI {shorter['ratio_ci_low']:g}-{shorter['ratio_ci_high']:g}); shorter "
            f"T50 → higher risk. EVOLVE's HR is blocked ({evolve.blocked}); CRIC's has no CI in "
            "the sources reached. Pending: applying this HR to the in-silico T50 of mgckd.cpp "
            "needs virtual cohorts (issue 8), and the coronary calcification half of the claim "
            "needs the calcification layer (issue 7)."
        ),
    )
