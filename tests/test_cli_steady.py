"""`mgckd steady`: the steady state of a scenario's patients under their conditions."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mgckd.cli import main
from mgckd.simulate import Scenario, read_scenario, simulate

REPO = Path(__file__).resolve().parents[1]
CKD = str(REPO / "examples" / "scenarios" / "ckd_mgo.yaml")
HOURS_PER_YEAR = 24 * 365.25


def _steady(capsys: pytest.CaptureFixture[str], *argv: str) -> list[dict[str, object]]:
    assert main(["steady", CKD, "--json", *argv]) == 0
    records: list[dict[str, object]] = json.loads(capsys.readouterr().out)
    return records


def test_every_element_is_in_balance_and_the_body_stays_there(
    capsys: pytest.CaptureFixture[str],
) -> None:
    records = _steady(capsys)
    assert {r["status"] for r in records} == {"success"}
    for record in records:
        for absorbed, urine in (
            ("mg_absorbed_mmol_d", "urine_mg_mmol_d"),
            ("ca_absorbed_mmol_d", "urine_ca_mmol_d"),
            ("pi_absorbed_mmol_d", "urine_pi_mmol_d"),
        ):
            assert record[urine] == pytest.approx(record[absorbed], rel=1e-8)
    ready = read_scenario(Path(CKD))
    untreated = Scenario(
        duration_h=HOURS_PER_YEAR,
        n_patients=ready.scenario.n_patients,
        parameters={**ready.scenario.parameters, "gfr_decline_per_h": 0.0},
    )
    year = simulate(ready.model, untreated, save_at=[0.0, HOURS_PER_YEAR])
    mg = year.rule("plasma_mg_total_mmol_l")
    np.testing.assert_allclose(mg[-1], [r["plasma_mg_total_mmol_l"] for r in records], rtol=1e-6)


def test_a_later_day_of_the_ckd_course_has_less_gfr_and_more_pth(
    capsys: pytest.CaptureFixture[str],
) -> None:
    start, later = _steady(capsys), _steady(capsys, "--at-day", "720")
    by_id = {r["patient_id"]: r for r in later}
    course = next(r for r in start if r["patient_id"] == "ckd_course")
    assert by_id["ckd_course"]["gfr_ml_min"] < course["gfr_ml_min"]  # type: ignore[operator]
    assert by_id["ckd_course"]["plasma_pth_pmol_l"] > course["plasma_pth_pmol_l"]  # type: ignore[operator]


def test_the_table_is_written_and_dialysis_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "steady.csv"
    assert main(["steady", CKD, "--out", str(target)]) == 0
    assert "plasma_mg_ionized_mmol_l" in capsys.readouterr().out
    assert list(pd.read_csv(target)["patient_id"]) == list(read_scenario(Path(CKD)).patient_ids)
    hemodialysis = str(REPO / "examples" / "scenarios" / "hemodialysis.yaml")
    assert main(["steady", hemodialysis]) == 2
    assert "mgckd dialysate" in capsys.readouterr().err
    assert main(["steady", CKD, "--out", str(tmp_path / "steady.xlsx")]) == 2
    assert ".csv or .parquet" in capsys.readouterr().err
