"""Validation: the claims registry and the runner that judges the model against it.

Every published number or mechanism mgckd answers to is a `Claim` in ``claims.yaml``; a check
registered with `check` computes what the model says about it; `run_validation` collects the
verdicts in a `ValidationReport`, written by `write_html` or `write_json`.

>>> from mgckd.validate import claim
>>> claim("S0-1").published.item().render()
'hypomagnesemia threshold, serum total Mg: < 1.8 mg/dL'
"""

from mgckd.validate._checks import CheckResult, Verdict, check
from mgckd.validate._claims import (
    Claim,
    Kind,
    PublishedValue,
    Role,
    Tolerance,
    claim,
    claims,
    parse_claim,
)
from mgckd.validate._report import write_html, write_json
from mgckd.validate._run import ValidationReport, run_validation

__all__ = [
    "CheckResult",
    "Claim",
    "Kind",
    "PublishedValue",
    "Role",
    "Tolerance",
    "ValidationReport",
    "Verdict",
    "check",
    "claim",
    "claims",
    "parse_claim",
    "run_validation",
    "write_html",
    "write_json",
]
