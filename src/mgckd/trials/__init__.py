"""In-silico trials: eligibility, randomization, arms, endpoints and the real trial's analysis,
repeated to give the distribution of the effect estimate and the power; sample-size search.

See docs/trials.md.
"""

from mgckd.trials._analysis import Analysis, ancova, logrank, median_difference, risk_ratio, welch_t
from mgckd.trials._design import (
    METHODS_FOR,
    ArmSpec,
    Criterion,
    EndpointSpec,
    PopulationSpec,
    Published,
    TrialDesign,
    parse_trial,
    read_trial,
)
from mgckd.trials._measures import MEASURES, Measure, MeasureContext
from mgckd.trials._result import EndpointResult, TrialResult, analyse
from mgckd.trials._run import SampleSize, run_trial, sample_size
from mgckd.trials._simulate import TrialData, simulate_trial

__all__ = [
    "MEASURES",
    "METHODS_FOR",
    "Analysis",
    "ArmSpec",
    "Criterion",
    "EndpointResult",
    "EndpointSpec",
    "Measure",
    "MeasureContext",
    "PopulationSpec",
    "Published",
    "SampleSize",
    "TrialData",
    "TrialDesign",
    "TrialResult",
    "analyse",
    "ancova",
    "logrank",
    "median_difference",
    "parse_trial",
    "read_trial",
    "risk_ratio",
    "run_trial",
    "sample_size",
    "simulate_trial",
    "welch_t",
]
