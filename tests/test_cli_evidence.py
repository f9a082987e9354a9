"""``mgckd meta`` and ``mgckd registry``, in-process, plus the example script as a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mgckd.cli import main

REPO = Path(__file__).resolve().parents[1]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_meta_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "meta", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["k"] == 2
    assert round(data["pooled"], 3) == 0.847
    assert data["leave_one_out"] is None
    assert any(row["id"] == "cai-2016-all-cause-death" for row in data["excluded"])


def test_meta_low_mg_with_forest_plot(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    figure = tmp_path / "forest.svg"
    code, out, _ = run(
        capsys, "meta", "--scale", "low_vs_reference", "--method", "dl", "--out", str(figure)
    )
    assert code == 0
    assert "leave-one-out" in out
    assert "I² = 51.4 %" in out
    assert figure.read_text(encoding="utf-8").lstrip().startswith("<?xml")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("meta", "--outcome", "cv_death"), "only 1 estimate"),
        (("meta", "--method", "bayes"), "not one of REML"),
        (("meta", "--out", "forest.pdf"), ".png or .svg"),
        (("meta", "--studies", "nowhere.csv"), "no such file"),
    ],
)
def test_meta_user_errors_are_one_line(
    capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], message: str
) -> None:
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert message in err
    assert err.strip().count("\n") == 0


def test_registry_synth_then_analyze(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    table = tmp_path / "registry.parquet"
    code, _, _ = run(capsys, "registry", "synth", "--out", str(table), "--n", "4000", "--seed", "9")
    assert code == 0
    meta = json.loads((tmp_path / "registry.meta.json").read_text(encoding="utf-8"))
    assert meta["seed"] == 9
    assert meta["planted_ratios"]["mg[>=3.1]"] == pytest.approx(0.74)
    figure = tmp_path / "registry.png"
    code, out, _ = run(
        capsys, "registry", "analyze", str(table), "--outcome", "cv_death_1y",
        "--adjust", "age_years,diabetes", "--population", "synthetic", "--json",
        "--out", str(figure),
    )  # fmt: skip
    assert code == 0
    data = json.loads(out)
    assert data["n"] == 4000
    assert data["population"] == "synthetic"
    assert data["interaction"]["df"] == 2
    assert [c["unit"] for c in data["lab_columns"]] == ["mg/dL", "mg/dL"]
    assert figure.read_bytes()[:4] == b"\x89PNG"


def test_registry_cox_and_quantiles(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    table = tmp_path / "registry.csv"
    run(capsys, "registry", "synth", "--out", str(table), "--n", "3000", "--hazard")
    code, out, _ = run(
        capsys, "registry", "analyze", str(table), "--outcome", "cv_death", "--model", "cox",
        "--time", "time_years", "--mg-categories", "quantiles:3", "--spline-knots", "0",
    )  # fmt: skip
    assert code == 0
    assert "cox model of cv_death (HR)" in out


@pytest.mark.parametrize(
    ("header", "mg_value", "outcome", "message"),
    [
        ("mg", 2.5, "died", "has no unit"),
        ("mg [mg/dL]", 2.5, "nope", "missing column(s) 'nope'"),
        ("mg [mmol/L]", 30, "died", "row 2, column 'mg [mmol/L]': 30 mmol/L is outside"),
    ],
)
def test_registry_user_errors(  # noqa: PLR0917  (parametrized)
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    header: str,
    mg_value: float,
    outcome: str,
    message: str,
) -> None:
    table = tmp_path / "mine.csv"
    rows = f"{header},phosphate [mg/dL],died\n2.5,5.0,0\n{mg_value},5.0,1\n"
    table.write_text(rows, encoding="utf-8")
    code, _, err = run(capsys, "registry", "analyze", str(table), "--outcome", outcome)
    assert code == 2
    assert message in err
    assert err.strip().count("\n") == 0


def test_example_script_runs(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-W", "error", str(REPO / "examples" / "meta_analysis.py"), str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert "HR per +0.1 mmol/L serum Mg, all_cause_death: 0.847" in done.stdout
    assert (tmp_path / "forest.png").exists()
    assert (tmp_path / "registry.png").exists()
