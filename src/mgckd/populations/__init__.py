"""Virtual cohorts: patients sampled from documented distributions, mapped onto the physiology
model and simulated in chunks (one vectorized solve each), locally or on a Dask cluster, with
every finished chunk kept in Parquet.

See docs/populations.md.
"""

from mgckd.populations._cohort import (
    CohortSpec,
    chunk_frame,
    observables_frame,
    simulate_population,
    steady_observables,
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
from mgckd.populations._presets import Correlation, Preset, preset, presets, require_simulable
from mgckd.populations._runner import CohortRun, read_cohort_run, run_cohort
from mgckd.populations._sample import Population, chunk_generator, sample_population
from mgckd.populations._schedule import personal_schedule

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
    "TruncatedNormal",
    "chunk_frame",
    "chunk_generator",
    "observables_frame",
    "patient_parameters",
    "personal_schedule",
    "preset",
    "presets",
    "read_cohort_run",
    "require_simulable",
    "run_cohort",
    "sample_population",
    "simulate_population",
    "steady_observables",
]
