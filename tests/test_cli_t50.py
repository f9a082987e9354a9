"""``mgckd t50 analyze`` on the example plate, its outputs, bad input, and the example generator."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mgckd.cli import main

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "t50"
PLATE = EXAMPLE / "plate96_mars.csv"
LAYOUT = EXAMPLE / "layout96.csv"
T50_TOLERANCE_MIN = 2.0


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_analyze_example_plate_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out_dir = tmp_path / "t50"
    code, out, _ = run(
        capsys, "t50", "analyze", str(PLATE), "--layout", str(LAYOUT), "--out", str(out_dir),
        "--json",
    )  # fmt: skip
    assert code == 0
    data = json.loads(out)
    assert data["format"] == "mars"
    assert data["metadata"]["Read mode"] == "Nephelometry"
    assert data["n_wells"] == 96
    assert sorted(Path(p).name for p in data["written"]) == [
        "plate.png",
        "samples.csv",
        "wells.csv",
    ]
    assert (out_dir / "plate.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    wells = pd.read_csv(out_dir / "wells.csv", keep_default_na=False, na_values=[""])
    samples = pd.read_csv(out_dir / "samples.csv", keep_default_na=False, na_values=[""])
    truth = pd.read_csv(EXAMPLE / "plate96_truth.csv")
    both = wells.merge(truth, on=["well", "sample"], suffixes=("", "_true"))
    observed = both[both["status"].isin(["ok", "flagged"])]
    assert len(observed) >= 88
    assert (observed["t50_min"] - observed["t50_min_true"]).abs().max() < T50_TOLERANCE_MIN

    by_sample = samples.set_index("sample")
    for censored in ("serum-07", "serum-23"):  # made with T50 690 and 820 min
        assert by_sample.loc[censored, "t50_report"] == "> 600"
        assert by_sample.loc[censored, "status"] == "censored"
    assert by_sample.loc["serum-14", "outlier_wells"] == "D05"  # planted 90 min late
    by_well = wells.set_index("well")
    assert "noisy" in by_well.loc["F02", "flags"]
    assert "spikes" in by_well.loc["G06", "flags"]
    assert "overflow" in by_well.loc["H05", "flags"]
    assert by_sample.loc["serum-26", "n_used"] == 3  # the bubble well still counts


def test_analyze_table_output(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run(capsys, "t50", "analyze", str(PLATE), "--out", str(tmp_path))
    assert code == 0
    assert "Sample X14" in out  # without a layout the MARS Content labels are the samples
    assert "> 600" in out
    assert "D05" in out
    assert "F07: censored (no_transition)" in err


def _bad_plate(tmp_path: Path) -> Path:
    lines = PLATE.read_text(encoding="utf-8").splitlines()
    cells = lines[30].split(",")  # line 31: well B12
    cells[20] = "12x4"
    lines[30] = ",".join(cells)
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--format", "xlsx"), "--format 'xlsx' is not one of auto, long, mars"),
        (("--model", "6pl"), "--model '6pl' is not one of auto, 4pl, 5pl"),
        (("--layout", "nowhere.csv"), "nowhere.csv: no such file"),
    ],
)
def test_bad_options_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: tuple[str, ...], message: str
) -> None:
    code, _, err = run(capsys, "t50", "analyze", str(PLATE), "--out", str(tmp_path), *argv)
    assert code == 2
    assert message in err
    assert err.strip().count("\n") == 0


def test_malformed_plate_exit_2_naming_line_and_well(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run(capsys, "t50", "analyze", str(_bad_plate(tmp_path)), "--out", str(tmp_path))
    assert code == 2
    assert "bad.csv: line 31, well B12, time 90 min: reading '12x4' is not a number" in err
    assert not (tmp_path / "wells.csv").exists()
    code, _, _ = run(
        capsys, "t50", "analyze", str(_bad_plate(tmp_path)), "--out", str(tmp_path / "new")
    )
    assert code == 2
    assert not (tmp_path / "new").exists()


def test_out_directory_must_have_a_parent(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run(capsys, "t50", "analyze", str(PLATE), "--out", str(tmp_path / "a" / "b"))
    assert code == 2
    assert "does not exist" in err


def test_example_generator_reproduces_the_shipped_files(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(EXAMPLE / "make_plate96.py"), str(tmp_path)],
        check=True,
        capture_output=True,
    )
    for name in ("plate96_mars.csv", "layout96.csv", "plate96_truth.csv"):
        assert (tmp_path / name).read_bytes() == (EXAMPLE / name).read_bytes(), name
    assert np.isfinite(pd.read_csv(tmp_path / "plate96_truth.csv")["t50_min"]).all()
