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


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("s0_16_dialysate_t50.yaml", "mgckd.dialysis"),
        ("s1_2_calmag.yaml", "mgckd.dialysis"),
    ],
)
def test_trial_needing_what_is_not_built_is_one_line(
    capsys: pytest.CaptureFixture[str], name: str, message: str
) -> None:
    code, _, err = run(capsys, "trial", str(EXAMPLES / name), "--repeats", "2")
    assert code == 2
    assert message in err
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
    code, _, err = run(capsys, "cohort", "run", "jsdt_hd", "--out", str(tmp_path / "hd"))
    assert code == 2
    assert "mgckd.dialysis" in err
