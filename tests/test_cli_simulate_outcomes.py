"""``mgckd simulate --outcomes``: the published associations of each simulated patient, refused
outside their populations unless asked, written to a report directory."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from mgckd.cli import main
from mgckd.simulate import read_scenario, simulate

J_CURVE = "sakaguchi-2014-cv-death-mg-categories"
PREVEND = "eelderink-2020-cv-death-t50"
ESKD_DN = "sakaguchi-2012-eskd-hypomg-diabetic"
LABEL = "association, not causation; a research estimate, not a treatment instruction"


def _ckd(tmp_path: Path) -> Path:
    path = tmp_path / "ckd.yaml"
    path.write_text(
        "duration_days: 60\nsave_every_days: 10\npatients:\n  - id: healthy\n"
        "  - id: ckd\n    gfr_course: {start_ml_min: 30, rate_per_year: 0}\n"
        "interventions:\n  - {drug: magnesium_oxide, dose_mg: 330, doses_per_day: 2}\n",
        encoding="utf-8",
    )
    return path


def _hemodialysis(tmp_path: Path, save_every_days: float) -> Path:
    path = tmp_path / "hd.yaml"
    path.write_text(
        f"duration_days: 10\nsave_every_days: {save_every_days}\npatients:\n  - id: anuric\n"
        "dialysis: {dialysate_mg_mmol_l: 0.5, schedule: {weekdays: [mon, wed, fri]}}\n",
        encoding="utf-8",
    )
    return path


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    assert main(["simulate", *argv, "--json"]) == 0
    document: dict[str, Any] = json.loads(capsys.readouterr().out)
    return document


def _rows(document: dict[str, Any], sample: str = "end") -> pd.DataFrame:
    frame = pd.DataFrame(document["outcomes"]["patients"])
    return frame[frame["sample"] == sample].set_index(["effect_id", "patient_id"])


def test_a_ckd_scenario_gets_the_t50_context_and_no_hemodialysis_ratio(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = _json(capsys, str(_ckd(tmp_path)), "--outcomes")
    outcomes = document["outcomes"]
    assert outcomes["label"] == LABEL
    assert [s["name"] for s in outcomes["samples"]] == ["start", "end"]
    rows = _rows(document)
    refused = rows.loc[(J_CURVE, "ckd")]
    assert refused["status"] == "outside_population"
    assert refused["reason"] == "dialysis none (needs hemodialysis)"
    assert pd.isna(refused["relative_risk"])
    raw = [r for r in outcomes["patients"] if r["status"] == "outside_population"]
    assert raw
    assert all(r["relative_risk"] is None for r in raw)
    applied = rows.loc[(PREVEND, "ckd")]
    assert applied["status"] == "estimated"
    assert applied["caveat"] == "association, not causation"
    assert applied["relative_risk_low"] < applied["relative_risk"] < applied["relative_risk_high"]
    assert "PREVEND" in applied["population"]
    assert rows.loc[(ESKD_DN, "ckd"), "reason"].startswith("diabetes unknown")
    effects = pd.DataFrame(outcomes["effects"]).query("sample == 'end'").set_index("effect_id")
    assert effects.loc["pasch-2017-death-t50", "status"] == "blocked"


def test_the_refusal_is_lifted_only_on_request_and_then_flagged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = (str(_ckd(tmp_path)), "--outcomes", "--allow-outside-population", "--diabetes", "yes")
    rows = _rows(_json(capsys, *argv))
    flagged = rows.loc[(J_CURVE, "ckd")]
    assert flagged["status"] in ("estimated", "reference", "no_estimate")
    assert bool(flagged["outside_population"])
    eskd = rows.loc[(ESKD_DN, "ckd")]  # eGFR 30 with diabetes: inside, not flagged
    assert not eskd["outside_population"]
    assert eskd["status"] in ("estimated", "reference")


def test_mgo_moves_the_simulated_patient_along_the_published_t50_slope(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = _json(capsys, str(_ckd(tmp_path)), "--outcomes")
    start, end = _rows(document, "start"), _rows(document, "end")
    assert end.loc[(PREVEND, "ckd"), "exposure"] > start.loc[(PREVEND, "ckd"), "exposure"]
    assert end.loc[(PREVEND, "ckd"), "relative_risk"] < start.loc[(PREVEND, "ckd"), "relative_risk"]


def test_the_report_directory_holds_the_json_the_text_and_the_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "report"
    scenario = str(_ckd(tmp_path))
    assert main(["simulate", scenario, "--outcomes", "--report", str(report)]) == 0
    printed = capsys.readouterr().out
    assert "Published outcome associations" in printed
    assert "not applied, outside its population" in printed
    text = (report / "summary.txt").read_text(encoding="utf-8")
    assert "End of scenario (60 days)" in text
    assert "eelderink-2020-cv-death-t50" in text
    assert "Association, not causation; a research estimate, not a treatment instruction." in text
    saved = json.loads((report / "summary.json").read_text(encoding="utf-8"))
    assert saved == _json(capsys, scenario, "--outcomes")
    table = pd.read_csv(report / "outcomes.csv")
    assert {"effect_id", "patient_id", "sample", "ratio_ci_low", "population"} <= set(table)


def test_bad_outcome_options_are_user_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = str(_ckd(tmp_path))
    assert main(["simulate", scenario, "--outcomes", "--diabetes", "maybe"]) == 2
    assert "--diabetes 'maybe' is not one of yes, no" in capsys.readouterr().err
    (tmp_path / "file").write_text("", encoding="utf-8")
    assert main(["simulate", scenario, "--report", str(tmp_path / "file")]) == 2
    assert "exists and is not a directory" in capsys.readouterr().err


@pytest.mark.slow
def test_hemodialysis_labs_too_coarse_to_be_pre_dialysis_are_refused_before_simulating(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["simulate", str(_hemodialysis(tmp_path, 3.5)), "--outcomes"]) == 2
    assert "save_every_days: no save between the end" in capsys.readouterr().err


@pytest.mark.slow
def test_a_hemodialysis_scenario_reads_pre_dialysis_mg_into_the_jsdt_categories(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = _hemodialysis(tmp_path, 0.25)
    document = _json(capsys, str(scenario), "--outcomes")
    samples = document["outcomes"]["samples"]
    assert [s["time_h"] for s in samples] == [48.0, 216.0]  # Wednesday of each week
    ready = read_scenario(scenario)
    result = simulate(ready.model, ready.scenario, save_at=ready.save_at_h)
    pre = result.rule("plasma_mg_total_mmol_l")[list(ready.save_at_h).index(216.0), 0]
    rows = _rows(document)
    row = rows.loc[(J_CURVE, "anuric")]
    assert row["exposure"] == pytest.approx(pre)
    assert row["status"] in ("estimated", "reference", "no_estimate")
    assert not row["outside_population"]
    assert rows.loc[(PREVEND, "anuric"), "reason"] == "dialysis hemodialysis (needs none)"
