"""``mgckd dialysate``: one patient's labs in, a comparison of dialysate Mg levels out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mgckd.cli import main


def test_dialysate_compares_levels_as_json(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = main(
        [
            "dialysate", "--mg", "2.6 mg/dL", "--albumin", "3.6 g/dL", "--model", "magnesium",
            "--level", "0.5", "--level", "0.75", "--json", "--out", str(tmp_path),
        ]
    )  # fmt: skip
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    levels = report["levels"]
    assert [row["dialysate_mg_mmol_l"] for row in levels] == [0.5, 0.75]
    assert levels[0]["current"] is True
    assert levels[0]["mg_total_pre_mmol_l"] == pytest.approx(2.6 / 2.4305 * 1.0, rel=1e-4)
    assert levels[1]["mg_total_pre_mmol_l"] > levels[0]["mg_total_pre_mmol_l"]
    assert levels[0]["mg_total_pre_mmol_l_low"] < levels[0]["mg_total_pre_mmol_l"]
    assert "calcium_mmol_l" in report["assumed"]
    assert (tmp_path / "dialysate_comparison.csv").exists()
    assert (tmp_path / "dialysate_comparison.png").exists()


def test_a_dialysate_outside_the_accepted_range_is_one_line_exit_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["dialysate", "--mg", "1.1 mmol/L", "--level", "3"]) == 2
    err = capsys.readouterr().err
    assert "dialysate_mg_mmol_l: 3 mmol/L is outside the accepted range 0.25-1 mmol/L" in err
    assert "Traceback" not in err
    assert main(["dialysate", "--ca", "2.3 mmol/L"]) == 2
    assert "--mg" in capsys.readouterr().err
