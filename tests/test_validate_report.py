"""The validation runner, the report object and its HTML / JSON writers."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import matplotlib
import pytest
from matplotlib.figure import Figure

import mgckd.validate
from mgckd._version import __version__
from mgckd.exceptions import RegistryError, UserInputError
from mgckd.validate import (
    CheckResult,
    ValidationReport,
    Verdict,
    _checks,
    _report,
    check,
    claim,
    run_validation,
    write_html,
    write_json,
)
from mgckd.validate._run import ReportRow

matplotlib.use("Agg")

FREE_ID = "S1-17"  # the claim the temporary checks below are registered for
DEMO_MODULE = "checks_zz_pytest_demo"


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> dict[str, _checks.CheckFunction]:
    """The real checks, less FREE_ID, plus whatever the test registers; restored afterwards."""
    copy = dict(_checks.discover_checks())
    copy.pop(FREE_ID, None)
    monkeypatch.setattr(_checks, "_registry", copy)
    return copy


def _register(result: CheckResult) -> None:
    def temporary() -> CheckResult:
        return result

    check(FREE_ID)(temporary)


def _only_row(report: ValidationReport) -> ReportRow:
    (row,) = report.rows
    return row


def _figure() -> Figure:
    figure = Figure(figsize=(2, 2))
    figure.add_subplot().plot([0, 1], [0, 1])
    return figure


# --- runner ------------------------------------------------------------------------------------


@pytest.mark.usefixtures("registry")
def test_raising_check_becomes_an_error_row() -> None:
    def broken() -> CheckResult:
        raise ZeroDivisionError("model diverged\nat t = 3 h")

    check(FREE_ID)(broken)
    row = _only_row(run_validation(ids=[FREE_ID]))
    assert row.verdict is Verdict.ERROR
    assert row.detail == "ZeroDivisionError: model diverged at t = 3 h"
    assert row.model is None


@pytest.mark.usefixtures("registry")
def test_check_returning_the_wrong_type_is_an_error_row() -> None:
    check(FREE_ID)(lambda: 1.0)  # type: ignore[arg-type,return-value]
    row = _only_row(run_validation(ids=[FREE_ID]))
    assert row.verdict is Verdict.ERROR
    assert "float" in row.detail


@pytest.mark.usefixtures("registry")
def test_passing_check_reports_its_model_value() -> None:
    _register(CheckResult(model=2.5, verdict=Verdict.PASS, detail="inside the CI"))
    row = _only_row(run_validation(ids=[FREE_ID]))
    assert (row.verdict, row.model, row.detail) == (Verdict.PASS, 2.5, "inside the CI")


def test_claims_without_a_check_are_pending_with_their_reason(
    registry: dict[str, _checks.CheckFunction],
) -> None:
    report = run_validation()
    pending = [row for row in report.rows if row.id not in registry]
    assert pending
    for row in pending:
        assert row.verdict is Verdict.PENDING
        assert row.detail == claim(row.id).pending_reason


@pytest.mark.usefixtures("registry")
def test_check_for_an_unknown_claim_is_a_registry_error() -> None:
    check("L-no-such-claim")(lambda: CheckResult(model=0.0, verdict=Verdict.PASS, detail=""))
    with pytest.raises(RegistryError, match="L-no-such-claim"):
        run_validation()


def test_unknown_requested_id_is_a_user_error() -> None:
    with pytest.raises(UserInputError, match="S9-9"):
        run_validation(ids=["S0-1", "S9-9"])


def test_ids_select_rows_in_registry_order() -> None:
    report = run_validation(ids=["S1-15", "S0-1", "S0-1"])
    assert [row.id for row in report.rows] == ["S0-1", "S1-15"]


@pytest.fixture
def demo_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A ``checks_*`` module on the package path, registering a passing check for FREE_ID."""
    (tmp_path / f"{DEMO_MODULE}.py").write_text(
        "from mgckd.validate import CheckResult, Verdict, check\n\n\n"
        f"@check({FREE_ID!r})\n"
        "def demo() -> CheckResult:\n"
        "    return CheckResult(model='found', verdict=Verdict.PASS, detail='discovered')\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(mgckd.validate, "__path__", [*mgckd.validate.__path__, str(tmp_path)])
    name = f"mgckd.validate.{DEMO_MODULE}"
    yield name
    sys.modules.pop(name, None)


@pytest.mark.usefixtures("registry")
def test_checks_modules_are_discovered_when_the_runner_runs(demo_module: str) -> None:
    assert demo_module not in sys.modules
    row = _only_row(run_validation(ids=[FREE_ID]))
    assert demo_module in sys.modules
    assert (row.verdict, row.model) == (Verdict.PASS, "found")


def test_importing_the_package_imports_no_checks() -> None:
    code = "import sys, mgckd.validate; print([m for m in sys.modules if '.checks_' in m])"
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert output.strip() == "[]"


# --- report object -----------------------------------------------------------------------------


def _row(claim_id: str, verdict: Verdict, *, required: bool) -> ReportRow:
    return ReportRow(
        id=claim_id,
        kind="Q",
        role="validation",
        required=required,
        statement="s",
        published="p",
        model=None if verdict is Verdict.PENDING else math.nan,
        verdict=verdict,
        detail="d",
    )


SAMPLE = ValidationReport(
    rows=(
        _row("S0-1", Verdict.FAIL, required=True),
        _row("S0-2", Verdict.ERROR, required=True),
        _row("S0-3", Verdict.PENDING, required=True),
        _row("S0-4", Verdict.PASS, required=True),
        _row("S0-5", Verdict.FAIL, required=False),
    )
)


def test_required_failures_are_required_rows_that_fail_or_error() -> None:
    assert [row.id for row in SAMPLE.required_failures] == ["S0-1", "S0-2"]


def test_required_failure_from_the_runner(registry: dict[str, _checks.CheckFunction]) -> None:
    registry.pop("S0-1", None)
    failing = CheckResult(model=0.0, verdict=Verdict.FAIL, detail="wrong")
    check("S0-1")(lambda: failing)
    _register(failing)
    report = run_validation(ids=["S0-1", FREE_ID])
    assert [row.id for row in report.required_failures] == ["S0-1"]


def test_counts_cover_every_verdict() -> None:
    assert SAMPLE.counts == {"pass": 1, "fail": 2, "pending": 1, "error": 1}


def test_frame_is_tidy() -> None:
    frame = SAMPLE.to_frame()
    assert list(frame.columns) == [
        "id", "kind", "role", "required", "statement", "published", "model", "verdict", "detail"
    ]  # fmt: skip
    assert frame.shape == (5, 9)
    assert frame["verdict"].tolist() == ["fail", "error", "pending", "pass", "fail"]


def test_json_has_rows_counts_and_version() -> None:
    data = SAMPLE.to_json()
    assert data["mgckd_version"] == __version__
    assert data["counts"] == SAMPLE.counts
    assert data["rows"][0]["model"] == "nan"
    assert data["rows"][2]["model"] is None
    json.dumps(data, allow_nan=False)


# --- writers -----------------------------------------------------------------------------------


@pytest.mark.usefixtures("registry")
def test_html_is_self_contained_escaped_and_embeds_figures(tmp_path: Path) -> None:
    _register(CheckResult(model=1.0, verdict=Verdict.PASS, detail="<b>&", figure=_figure))
    path = write_html(run_validation(ids=[FREE_ID, "S0-1"], figures=True), tmp_path / "r.html")
    html = path.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert "&lt;b&gt;&amp;" in html
    assert "<b>&" not in html
    assert 'src="data:image/png;base64,' in html
    assert '<tr class="pass">' in html
    assert '<tr class="pending">' in html
    assert "<script" not in html
    assert "<link" not in html
    assert 'src="http' not in html


@pytest.mark.usefixtures("registry")
def test_figures_are_dropped_unless_asked_for() -> None:
    _register(CheckResult(model=1.0, verdict=Verdict.PASS, detail="", figure=_figure))
    assert _only_row(run_validation(ids=[FREE_ID])).figure is None
    assert "data:image/png" not in _report.render_html(run_validation(ids=[FREE_ID]))


def test_json_writer_round_trips(tmp_path: Path) -> None:
    path = write_json(SAMPLE, tmp_path / "r.json")
    assert json.loads(path.read_text(encoding="utf-8")) == json.loads(json.dumps(SAMPLE.to_json()))


@pytest.mark.parametrize("writer", [write_html, write_json])
def test_write_into_missing_directory_fails_and_creates_nothing(
    tmp_path: Path, writer: object
) -> None:
    target = tmp_path / "missing" / "report.out"
    with pytest.raises(FileNotFoundError):
        writer(SAMPLE, target)  # type: ignore[operator]
    assert list(tmp_path.iterdir()) == []


def test_failed_replace_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "report.json"
    target.write_text("old", encoding="utf-8")

    def refuse(*_: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(_report.os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        write_json(SAMPLE, target)
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]
    assert target.read_text(encoding="utf-8") == "old"
