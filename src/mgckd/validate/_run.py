"""Run every claim's check and collect the verdicts in one `ValidationReport`."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from mgckd._version import __version__
from mgckd.exceptions import RegistryError, UserInputError
from mgckd.validate._checks import CheckFunction, CheckResult, Verdict, discover_checks
from mgckd.validate._claims import Claim, claims

if TYPE_CHECKING:
    from matplotlib.figure import Figure

_FAILING = frozenset({Verdict.FAIL, Verdict.ERROR})
_COLUMNS = (
    "id",
    "kind",
    "role",
    "required",
    "statement",
    "published",
    "model",
    "verdict",
    "detail",
)


@dataclass(frozen=True, slots=True)
class ReportRow:
    """One claim's line in the report; `model` is None when no check ran."""

    id: str
    kind: str
    role: str
    required: bool
    statement: str
    published: str
    model: str | float | None
    verdict: Verdict
    detail: str
    figure: Figure | None = field(default=None, compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The row as plain JSON-ready data (the figure left out)."""
        row = {name: getattr(self, name) for name in _COLUMNS}
        row["verdict"] = str(self.verdict)
        row["model"] = _json_model(self.model)
        return row


def _json_model(model: str | float | None) -> str | float | None:
    """Numbers as float (numpy scalars included), non-finite numbers as text (JSON has no NaN)."""
    if model is None or isinstance(model, str):
        return model
    number = float(model)
    return number if math.isfinite(number) else str(number)


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """The verdict for every claim run, in registry order.

    Attributes
    ----------
    rows : one `ReportRow` per claim.
    mgckd_version : the version of mgckd that produced the report.
    """

    rows: tuple[ReportRow, ...]
    mgckd_version: str = __version__

    @property
    def counts(self) -> dict[str, int]:
        """Number of rows per verdict, every verdict present (zero included)."""
        return {str(v): sum(row.verdict is v for row in self.rows) for v in Verdict}

    @property
    def required_failures(self) -> tuple[ReportRow, ...]:
        """Rows of required claims whose verdict is fail or error."""
        return tuple(row for row in self.rows if row.required and row.verdict in _FAILING)

    def to_frame(self) -> pd.DataFrame:
        """One row per claim, the columns of `ReportRow` less the figure."""
        return pd.DataFrame([row.to_dict() for row in self.rows], columns=list(_COLUMNS))

    def to_json(self) -> dict[str, Any]:
        """``{"mgckd_version", "counts", "rows"}`` as plain JSON-ready data."""
        return {
            "mgckd_version": self.mgckd_version,
            "counts": self.counts,
            "rows": [row.to_dict() for row in self.rows],
        }


def _select(all_claims: tuple[Claim, ...], ids: Sequence[str] | None) -> tuple[Claim, ...]:
    if ids is None:
        return all_claims
    known = {claim.id for claim in all_claims}
    unknown = [claim_id for claim_id in ids if claim_id not in known]
    if unknown:
        raise UserInputError(
            f"unknown claim id(s) {', '.join(map(repr, unknown))}; ids look like S0-1, S1-15 "
            "or L-<name> (see docs/registries/claims.md)"
        )
    wanted = set(ids)
    return tuple(claim for claim in all_claims if claim.id in wanted)


def _registered(known_ids: set[str]) -> Mapping[str, CheckFunction]:
    registry = discover_checks()
    strays = sorted(set(registry) - known_ids)
    if strays:
        where = ", ".join(f"{claim_id!r} ({registry[claim_id].__module__})" for claim_id in strays)
        raise RegistryError(f"checks registered for claim ids not in claims.yaml: {where}")
    return registry


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _call(function: CheckFunction) -> CheckResult:
    """Run one check; an exception or a wrong return type becomes an ``error`` result."""
    try:
        result = function()
    except Exception as error:  # a failing check is reported, never fatal to the run
        return CheckResult(model="", verdict=Verdict.ERROR, detail=_describe(error))
    if not isinstance(result, CheckResult):
        detail = f"the check returned {type(result).__name__}, not CheckResult"
        return CheckResult(model="", verdict=Verdict.ERROR, detail=detail)
    return result


def _describe(error: Exception) -> str:
    return _one_line(f"{type(error).__name__}: {error}")


def _row(claim: Claim, function: CheckFunction | None, *, figures: bool) -> ReportRow:
    if function is None:
        result = CheckResult(
            model="",
            verdict=Verdict.PENDING,
            detail=claim.pending_reason or "no check registered yet",
        )
    else:
        result = _call(function)
    ran = result.verdict not in (Verdict.PENDING, Verdict.ERROR)
    return ReportRow(
        id=claim.id,
        kind=str(claim.kind),
        role=str(claim.role),
        required=claim.required,
        statement=claim.statement,
        published=claim.render_published(),
        model=result.model if ran else None,
        verdict=result.verdict,
        detail=_one_line(result.detail),
        figure=result.figure() if figures and result.figure is not None else None,
    )


def run_validation(*, ids: Sequence[str] | None = None, figures: bool = False) -> ValidationReport:
    """Run the check of every claim (or of `ids`) and report each verdict.

    A claim without a registered check is ``pending`` with its ``pending_reason``; an exception
    inside a check is an ``error`` row with the exception's text, never a crash.

    Parameters
    ----------
    ids : claim ids to run, reported in registry order; all claims when None.
    figures : keep the figures checks return (for the HTML report); dropped otherwise.

    Raises
    ------
    UserInputError
        When `ids` names a claim that does not exist.
    RegistryError
        When a check is registered for a claim id that is not in ``claims.yaml``.
    """
    all_claims = claims()
    selected = _select(all_claims, ids)
    registry = _registered({claim.id for claim in all_claims})
    rows = tuple(_row(claim, registry.get(claim.id), figures=figures) for claim in selected)
    return ValidationReport(rows=rows)
