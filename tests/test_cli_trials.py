"""``mgckd trial`` and ``mgckd cohort``, in-process."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from mgckd.cli import main

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples" / "trials"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_trial_prints_estimates_power_and_sample_size(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    table = tmp_path / "repeats.csv"
    code, out, _ = run(
        capsys,
        "trial",
        str(EXAMPLES / "s0_10_mgo_cac.yaml"),
        "--repeats",
        "4",
        "--sample-size",
        "--n-max",
        "96",
        "--out",
        str(table),
    )
    assert code == 0, out
    text = " ".join(out.split())
    assert "4 virtual trials of 96 patients" in text
    assert "sample size:" in text
    assert len(pd.read_csv(table)) == 8  # 2 endpoints x 4 trials


def test_trial_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "trial", str(EXAMPLES / "mg_hydroxide_t50_ckd.yaml"), "--repeats", "3", "--json"
    )
    assert code == 0
    data = json.loads(out)
    assert data["repeats"] == 3
    assert {e["endpoint"] for e in data["endpoints"]} == {"t50", "serum_mg_change"}
    assert data["sample_size"] is None


def test_hemodialysis_trials_run_with_a_pool(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "trial",
        str(EXAMPLES / "s0_16_dialysate_t50.yaml"),
        "--repeats",
        "3",
        "--n",
        "8",
        "--pool",
        "10",
    )
    assert code == 0, out
    text = " ".join(out.split())
    assert "3 virtual trials of 8 patients drawn from 10 virtual patients" in text
    assert "published 73" in text


def test_a_dialysate_outside_the_range_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    text = (EXAMPLES / "s0_16_dialysate_t50.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace("dialysate_mg_mmol_l: 1.0", "dialysate_mg_mmol_l: 3.0"))
    code, _, err = run(capsys, "trial", str(bad), "--repeats", "2")
    assert code == 2
    assert "arms.high_mg.dialysate_mg_mmol_l: 3 mmol/L is outside the accepted range" in err
    assert "Traceback" not in err


def test_cohort_sample_and_run(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, "cohort", "sample", "jsdt_hd", "--n", "200", "--json")
    assert code == 0
    assert json.loads(out)["summary"][0]["characteristic"] == "age_years"
    args = ["cohort", "run", "ckd_g1_g5", "--n", "60", "--days", "30", "--chunk-size", "25"]
    args += ["--workers", "0", "--out", str(tmp_path / "run"), "--json"]
    code, out, _ = run(capsys, *args)
    assert code == 0
    data = json.loads(out)
    assert data["computed_chunks"] == [0, 1, 2]
    code, out, _ = run(capsys, *args)
    assert json.loads(out)["skipped_chunks"] == [0, 1, 2]
    hd = ["cohort", "run", "jsdt_hd", "--n", "4", "--days", "7", "--workers", "0"]
    code, out, _ = run(capsys, *hd, "--out", str(tmp_path / "hd"), "--json")
    assert code == 0
    data = json.loads(out)
    assert {row["ckd_stage"] for row in data["by_stage"]} == {"G5D"}
    assert data["spec"]["model"] == "magnesium"
