"""``mgckd risk`` and the outcome context of ``mgckd assess``, in-process."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from mgckd.cli import main

REPO = Path(__file__).resolve().parents[1]
COHORT = REPO / "examples" / "cohort_hemodialysis.csv"
J_CURVE = "sakaguchi-2014-cv-death-mg-categories"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_risk_prints_the_summary_with_population_and_caveat(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, "risk", str(COHORT), "--effect", J_CURVE, "--draws", "500")
    assert code == 0
    out = " ".join(out.split())
    assert "JSDT Renal Data Registry 2009" in out
    assert "Association, not causation" in out
    assert "(1.08-1.42)" in out
    assert "assumption" in out  # the absolute-risk basis says how it was made


def test_risk_json_and_out_carry_every_patient(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    table = tmp_path / "risk.parquet"
    code, out, _ = run(
        capsys,
        "risk",
        str(COHORT),
        "--effect",
        "sakaguchi-2014-cv-death-mg-bands-high-phosphate",
        "--seed",
        "4",
        "--json",
        "--out",
        str(table),
    )
    assert code == 0
    data = json.loads(out)
    assert data["caveat"] == "association, not causation"
    assert data["metadata"]["seed"] == 4
    assert len(data["patients"]) == 8
    written = pd.read_parquet(table)
    assert written["patient_id"].tolist() == [p["patient_id"] for p in data["patients"]]
    no_phosphate = written.set_index("patient_id").loc["HD08"]
    assert no_phosphate["status"] == "no_estimate"


def test_risk_list_shows_every_effect(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "risk", "--list", "--json")
    assert code == 0
    ids = {row["effect_id"] for row in json.loads(out)}
    assert {J_CURVE, "pasch-2017-death-t50"} <= ids
    code, out, _ = run(capsys, "risk", "--list")
    assert code == 0
    assert "(blocked)" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--effect", "nope"], "unknown effect 'nope'"),
        (["--effect", "sakaguchi-2012-eskd-hypomg-diabetic"], "is outside the population"),
        (["--effect", "eelderink-2020-cv-death-t50"], "needs the cohort column 't50_min'"),
        (["--effect", J_CURVE, "--out", "x.txt"], "written as .csv or .parquet"),
    ],
)
def test_risk_user_errors_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, _, err = run(capsys, "risk", str(COHORT), *argv)
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_risk_outside_population_on_request_is_flagged(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(
        capsys,
        "risk",
        str(COHORT),
        "--effect",
        "sakaguchi-2012-eskd-hypomg-non-diabetic",
        "--allow-outside-population",
    )
    assert code == 0
    assert "8 patients are outside the published population" in " ".join(out.split())


def test_risk_refuses_mg_in_mg_dl_labelled_mmol_l(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    cohort = tmp_path / "mixup.csv"
    cohort.write_text("patient_id,dialysis,mg_mmol_l\np1,hemodialysis,2.4\n")
    code, _, err = run(capsys, "risk", str(cohort), "--effect", J_CURVE)
    assert code == 2
    assert "probable unit error: read as 2.4 mg/dL" in err


def _findings(out: str) -> dict[str, dict[str, object]]:
    return {f["name"]: f for f in json.loads(out)[0]["findings"]}


def test_assess_shows_the_outcome_context_of_a_hemodialysis_patient(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = REPO / "examples" / "patients" / "hemodialysis_mild_hypermagnesemia.json"
    code, out, _ = run(capsys, "assess", str(path), "--json")
    assert code == 0
    findings = _findings(out)
    band = findings["outcome_sakaguchi-2014-cv-death-mg-bands-high-phosphate"]
    assert band["value"] == 0.81
    assert band["unit"] == "OR"
    assert "95 % CI 0.66-0.99" in str(band["note"])
    assert "association, not causation" in str(band["note"])
    assert "outcome_sakaguchi-2012-eskd-hypomg-diabetic" not in findings  # not its population


def test_assess_shows_the_eskd_hr_for_diabetic_ckd(capsys: pytest.CaptureFixture[str]) -> None:
    path = REPO / "examples" / "patients" / "ckd_g3b_hypomagnesemia.json"
    code, out, _ = run(capsys, "assess", str(path), "--json")
    assert code == 0
    finding = _findings(out)["outcome_sakaguchi-2012-eskd-hypomg-diabetic"]
    assert finding["value"] == 2.12
    assert str(finding["category"]).startswith("<=1.8 mg/dL vs >1.8 mg/dL")


def test_assess_does_not_place_a_suspect_unit_in_a_category(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(
        capsys, "assess", "--mg", "2.6 mmol/L", "--dialysis", "hemodialysis", "--json"
    )
    assert code == 0
    finding = _findings(out)[f"outcome_{J_CURVE}"]
    assert finding["value"] is None
    assert "check the magnesium unit first" in str(finding["note"])


def test_assess_notes_when_no_population_matches(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "assess", "--mg", "0.8 mmol/L", "--json")
    assert code == 0
    assert "mgckd risk --list" in str(_findings(out)["outcome_context"]["note"])
