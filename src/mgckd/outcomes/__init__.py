"""Outcome risk from published effect sizes: associations, with their CIs and populations.

- `effect_sizes` / `effect_size` / `effects_frame` — the packaged records
  (``data/effect_sizes.yaml``): JSDT 1-year cardiovascular death by Mg category (the J shape,
  S0-18; the seed's Table 2 ORs, S1-16, read from `mgckd.evidence`), by Mg band within phosphate
  >= 6.0 mg/dL (S0-19), 2-year hip fracture by Mg quartile (S0-21), ESKD by hypomagnesemia
  (S0-5), and T50 (S0-15); each with its population, adjustment, source and claim ids.
- `Cohort` / `read_cohort` — the patients: serum Mg, phosphate, T50, dialysis, diabetes, eGFR.
- `published_context` — each patient's published category, ratio and 95 % CI, and whether they
  belong to the effect's population (deterministic).
- `risk` — relative and (where a baseline is published) absolute risk with Monte Carlo
  intervals over the published CIs; refuses patients outside the effect's population unless
  asked.
- `apply_effects` — every packaged effect applied to one cohort where it belongs, with the
  refusals said (`OutcomeReport`); `cohort_from_simulation` and `sample_times` make that cohort
  from simulated trajectories (pre-dialysis labs on hemodialysis), as `mgckd simulate
  --outcomes` does.

Every output is an association in the population it came from ("association, not causation"),
never a treatment instruction.

>>> from mgckd.outcomes import Cohort, risk
>>> cohort = Cohort(dialysis=["hemodialysis"], mg_mmol_l=[0.9])
>>> result = risk(cohort, "sakaguchi-2014-cv-death-mg-categories", rng=7)
>>> round(float(result.to_frame()["relative_risk"].iloc[0]), 2)
1.24
"""

from mgckd.outcomes._apply import LABEL, OutcomeReport, apply_effects
from mgckd.outcomes._cohort import COHORT_COLUMNS, Cohort, read_cohort
from mgckd.outcomes._context import (
    ASSOCIATION,
    assign_categories,
    population_mismatch,
    published_context,
)
from mgckd.outcomes._effects import (
    Baseline,
    CategoricalExposure,
    Category,
    EffectSize,
    Horizon,
    Interaction,
    PerUnitExposure,
    Population,
    Ratio,
    Source,
    Stratum,
    effect_size,
    effect_sizes,
    effects_frame,
)
from mgckd.outcomes._risk import RiskResult, absolute_risk, risk
from mgckd.outcomes._simulated import (
    Sample,
    SimulatedCohort,
    cohort_from_simulation,
    sample_times,
)

__all__ = [
    "ASSOCIATION",
    "COHORT_COLUMNS",
    "LABEL",
    "Baseline",
    "CategoricalExposure",
    "Category",
    "Cohort",
    "EffectSize",
    "Horizon",
    "Interaction",
    "OutcomeReport",
    "PerUnitExposure",
    "Population",
    "Ratio",
    "RiskResult",
    "Sample",
    "SimulatedCohort",
    "Source",
    "Stratum",
    "absolute_risk",
    "apply_effects",
    "assign_categories",
    "cohort_from_simulation",
    "effect_size",
    "effect_sizes",
    "effects_frame",
    "population_mismatch",
    "published_context",
    "read_cohort",
    "risk",
    "sample_times",
]
