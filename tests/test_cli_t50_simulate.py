"""``mgckd t50 simulate``: labs in, T50 and the curve out; bad input is exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from mgckd.cli import main

REPO = Path(__file__).resolve().parents[1]
LABS = ("--ca", "9.6 mg/dL", "--mg", "2.19 mg/dL", "--pi", "3.4 mg/dL", "--albumin", "4.0 g/dL")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["t50", "simulate", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_json_has_t50_and_the_curve(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, *LABS, "--fetuin-a", "383 mg/L", "--json")
    assert code == 0
    report = json.loads(out)
    assert set(report) == {"samples", "curves", "assumed", "written"}
    (sample,) = report["samples"]
    assert sample["status"] == "ok"
    assert 250 < sample["t50_min"] < 400  # about the reference normal serum's
    assert sample["fetuin_a_g_l"] == pytest.approx(0.383)
    curves = report["curves"]
    assert len(curves["signal_rnu"]) == 1
    assert len(curves["signal_rnu"][0]) == len(curves["time_min"]) == 120
    assert "pyrophosphate_umol_l" in report["assumed"]
    assert "fetuin_a_g_l" not in report["assumed"]
    assert "ph" in report["assumed"]  # no pH or blood gas: 7.40 assumed, and said


def test_out_writes_the_table_the_curves_and_the_figure(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, _ = run(capsys, *LABS, "--out", str(tmp_path / "sim"))
    assert code == 0
    assert "T50" in out
    curves = pd.read_csv(tmp_path / "sim" / "curves.csv")
    assert list(curves.columns[:3]) == ["patient_id", "time_min", "signal_rnu"]
    assert len(curves) == 120
    assert (tmp_path / "sim" / "curves.png").stat().st_size > 0
    table = pd.read_csv(tmp_path / "sim" / "t50_simulated.csv")
    assert table["status"].tolist() == ["ok"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ((*LABS, "--fetuin-a", "5 mmol/L"), "fetuin_a_g_l: '5 mmol/L' is not a g/L quantity"),
        ((*LABS, "--fetuin-a", "5 g/L"), "fetuin_a_g_l 5 is outside 0.02-2 g/L"),
        ((*LABS, "--pyrophosphate", "-1 umol/L"), "pyrophosphate_umol_l -1 is outside"),
        (LABS[:6], "missing required analyte(s): albumin"),
        ((), "give a file or lab flags"),
        ((*LABS, "--mg", "two"), "not a number"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], message: str
) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert message in err
    assert "Traceback" not in err
    assert out == ""


def test_a_file_of_patients(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, str(REPO / "examples" / "plasma_speciation.csv"), "--json")
    assert code == 0, err
    samples = json.loads(out)["samples"]
    assert len(samples) > 1
    assert all(s["status"] in ("ok", "flagged", "censored", "invalid_input") for s in samples)


def test_example_script_draws_the_docs_figure(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-W",
            "error",
            str(REPO / "examples" / "cpp_t50_curves.py"),
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    low, normal, high = (
        float(line.split("T50 ")[1].split()[0]) for line in done.stdout.splitlines()
    )
    assert low < normal < high
    assert (tmp_path / "cpp_t50_mg.png").exists()
