"""Virtual cohorts: patients sampled from documented distributions, mapped onto the physiology
model (hemodialysis patients onto `mgckd.dialysis`, from the long-run cycle of their own
prescription) and simulated in chunks (one vectorized solve each), locally or on a Dask
cluster, with every finished chunk kept in Parquet.

See docs/populations.md.
"""

from mgckd.populations._cohort import (
    CohortSpec,
    chunk_frame,
    observables_frame,
    simulate_population,
    steady_observables,
)
from mgckd.populations._hemodialysis import (
    hemodialysis_batch,
    hemodialysis_cross_section,
    pre_dialysis_times_h,
    sampling_time_h,
    simulate_hemodialysis,
)
from mgckd.populations._marginals import (
    Bernoulli,
    Constant,
    LogNormal,
    Marginal,
    PiecewiseUniform,
    TruncatedNormal,
)
from mgckd.populations._parameters import PATIENT_PARAMETERS, patient_parameters
from mgckd.populations._presets import Correlation, Preset, preset, presets
from mgckd.populations._runner import CohortRun, read_cohort_run, run_cohort
from mgckd.populations._sample import Population, chunk_generator, sample_population
from mgckd.populations._schedule import personal_schedule
from mgckd.populations._washout import Treatment, usual_binder_mmol_d, washout

__all__ = [
    "PATIENT_PARAMETERS",
    "Bernoulli",
    "CohortRun",
    "CohortSpec",
    "Constant",
    "Correlation",
    "LogNormal",
    "Marginal",
    "PiecewiseUniform",
    "Population",
    "Preset",
    "Treatment",
    "TruncatedNormal",
    "chunk_frame",
    "chunk_generator",
    "hemodialysis_batch",
    "hemodialysis_cross_section",
    "observables_frame",
    "patient_parameters",
    "personal_schedule",
    "pre_dialysis_times_h",
    "preset",
    "presets",
    "read_cohort_run",
    "run_cohort",
    "sample_population",
    "sampling_time_h",
    "simulate_hemodialysis",
    "simulate_population",
    "steady_observables",
    "usual_binder_mmol_d",
    "washout",
]
