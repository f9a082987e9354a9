"""Evidence toolkit: meta-analysis of the Mg-outcome literature and registry analysis.

- `load_mg_outcome_studies` — the seed's Table 2 of Mg and cardiovascular outcomes in kidney
  failure (S1-16), rebuilt, plus low-Mg hemodialysis cohorts; `harmonize` puts what can be put on
  one scale (HR per +0.1 mmol/L serum Mg) and says why the rest cannot; `pool` / `meta_analyze`
  pool by REML, DerSimonian-Laird, Paule-Mandel or fixed effect (Hartung-Knapp optional);
  `leave_one_out`; `plot_forest`.
- `read_registry` / `prepare_registry` and `analyze_registry` — a user's registry table: Mg
  categories × phosphate in logistic or Cox models, restricted cubic splines, population
  attributable fractions; `plot_phosphate_by_mg` (the seed's Fig. 2 style), `plot_mg_spline`.
- `synthesize_registry` — a JSDT-like hemodialysis registry with planted effects, seeded.

Every output is an association in the population it came from, never a treatment instruction.

>>> from mgckd.evidence import meta_analyze
>>> round(meta_analyze(method="DL").pooled, 3)
0.847
"""

from mgckd.evidence._meta import (
    METHODS,
    MetaAnalysis,
    cochran_q,
    leave_one_out,
    meta_analyze,
    pool,
    restricted_log_likelihood,
    tau2_dersimonian_laird,
    tau2_paule_mandel,
    tau2_reml,
)
from mgckd.evidence._plots import (
    plot_forest,
    plot_mg_spline,
    plot_phosphate_by_mg,
    registry_figure,
)
from mgckd.evidence._registry import (
    AttributableFraction,
    InteractionTest,
    MgCategories,
    RegistryAnalysis,
    SplineCurve,
    analyze_registry,
    categorize_mg,
    read_registry,
)
from mgckd.evidence._splines import rcs_basis, rcs_knots
from mgckd.evidence._studies import (
    SCALES,
    STUDY_COLUMNS,
    Harmonized,
    harmonize,
    load_mg_outcome_studies,
    read_studies,
)
from mgckd.evidence._synth import SyntheticRegistry, SynthSpec, synthesize_registry
from mgckd.evidence._table import LabColumn, prepare_registry, read_table

__all__ = [
    "METHODS",
    "SCALES",
    "STUDY_COLUMNS",
    "AttributableFraction",
    "Harmonized",
    "InteractionTest",
    "LabColumn",
    "MetaAnalysis",
    "MgCategories",
    "RegistryAnalysis",
    "SplineCurve",
    "SynthSpec",
    "SyntheticRegistry",
    "analyze_registry",
    "categorize_mg",
    "cochran_q",
    "harmonize",
    "leave_one_out",
    "load_mg_outcome_studies",
    "meta_analyze",
    "plot_forest",
    "plot_mg_spline",
    "plot_phosphate_by_mg",
    "pool",
    "prepare_registry",
    "rcs_basis",
    "rcs_knots",
    "read_registry",
    "read_studies",
    "read_table",
    "registry_figure",
    "restricted_log_likelihood",
    "synthesize_registry",
    "tau2_dersimonian_laird",
    "tau2_paule_mandel",
    "tau2_reml",
]
