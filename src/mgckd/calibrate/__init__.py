"""The calibration program: fit ``fitted`` parameters to ``calibration`` claims, and nothing else.

One `Problem` per module declares the registry parameters it fits (with bounds and fixed starting
values) and the calibration targets it fits them to; `fit` runs
`scipy.optimize.least_squares`; `write` puts the values into the registry data file (status
``fitted``, ``calibrated_to`` the claim ids) and `check` tells whether the shipped file equals what
the program produces. From the shell: ``mgckd calibrate [--check]``. Problems are fitted in
dependency order: a problem whose model uses another's fitted values comes after it.

>>> from mgckd.calibrate import problems
>>> list(problems())
['chemistry', 'physiology', 'dialysis', 'cpp', 'calcification']
"""

from mgckd.calibrate._fit import ProblemFit, TargetFit, fit, target_scale
from mgckd.calibrate._problem import Free, Problem, Target, problem, problems
from mgckd.calibrate._uncertainty import ParameterCovariance, parameter_covariance
from mgckd.calibrate._write import (
    CHECK_TOLERANCE,
    DECIMALS,
    Mismatch,
    check,
    data_file,
    render,
    write,
)

__all__ = [
    "CHECK_TOLERANCE",
    "DECIMALS",
    "Free",
    "Mismatch",
    "ParameterCovariance",
    "Problem",
    "ProblemFit",
    "Target",
    "TargetFit",
    "check",
    "data_file",
    "fit",
    "parameter_covariance",
    "problem",
    "problems",
    "render",
    "target_scale",
    "write",
]
