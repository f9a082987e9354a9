"""The command line, run in-process through `mgckd.cli.main` and once as a real subprocess."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from mgckd import __version__
from mgckd.cli import main

REPO = Path(__file__).resolve().parents[1]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--version")
    assert code == 0
    assert out.strip() == f"mgckd {__version__}"


def test_assess_converts_mg_to_mmol_and_meq(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "assess", "--mg", "2.43 mg/dL", "--json")
    assert code == 0
    (patient,) = json.loads(out)
    (mg,) = patient["conversions"]
    assert round(mg["in_units"]["mmol/L"], 2) == 1.00
    assert round(mg["in_units"]["mEq/L"], 2) == 2.00


def test_assess_computes_ckd_epi_2021(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "assess", "--age", "70", "--sex", "female", "--creatinine", "0.8 mg/dL", "--json"
    )
    assert code == 0
    findings = {f["name"]: f for f in json.loads(out)[0]["findings"]}
    assert findings["egfr_ckd_epi_2021"]["value"] == pytest.approx(79.2)
    assert findings["egfr_ckd_epi_2021"]["category"] == "KDIGO G2"


def test_assess_flags_probable_unit_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "assess", "--mg", "2.1 mmol/L")
    assert code == 0
    assert "probable unit error" in out
    assert "2.1 mg/dL" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("assess", "--mg", "-0.8 mmol/L"), "magnesium -0.8 mmol/L is negative"),
        (("assess", "--mg", "2.1"), "has no unit"),
        (("assess", "--mg", "2.1 mg/g"), "accepted units: mmol/L, mg/dL, mEq/L"),
        (("assess",), "give a file or at least one lab flag"),
        (("assess", "no-such-file.json"), "no-such-file.json"),
        (("convert", "2 mg/dL", "-a", "phosphate", "--to", "mEq/L"), "phosphate: unit 'mEq/L'"),
        (("params", "--status", "guessed"), "--status 'guessed' is not one of"),
        (("params", "--module", "nope"), "--module 'nope' is not one of"),
    ],
)
def test_user_errors_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], message: str
) -> None:
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert message in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, _ = run(capsys, "assess", "--no-such-flag")
    assert code == 2


def test_params_json_lists_every_parameter_with_unit_source_status(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, "params", "--json")
    assert code == 0
    rows = json.loads(out)
    assert len(rows) > 50
    for row in rows:
        assert row["unit"], row["name"]
        assert row["source"], row["name"]
        assert row["status"], row["name"]


def test_convert(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "convert", "310 pg/mL", "-a", "pth", "--to", "pmol/L", "--json")
    assert code == 0
    assert json.loads(out)["converted"]["pmol/L"] == pytest.approx(32.89, abs=0.01)


def test_console_script_exit_code_in_a_real_process() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mgckd", "assess", "--mg", "-1 mg/dL"],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("error: labs.magnesium")


def test_demo_assesses_the_examples_and_validates(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    code, out, _ = run(capsys, "demo")
    assert code == 0
    for example in (REPO / "examples" / "patients").glob("*.json"):
        assert f"mgckd assess {Path('examples/patients') / example.name}" in out
    assert "probable unit error" in out  # the unit_mixup example
    assert re.search(r"pass: [1-9]", out)


def test_demo_without_examples_is_a_user_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run(capsys, "demo", "--examples", str(tmp_path))
    assert code == 2
    assert "no patient JSON files" in err


# --- speciate and calibrate (issue 3) ------------------------------------------------------------

_SAMPLE = (
    "--ca", "9.6 mg/dL", "--mg", "2.2 mg/dL", "--phosphate", "3.4 mg/dL",
    "--albumin", "4.0 g/dL", "--ph", "7.40",
)  # fmt: skip


def test_speciate_one_sample(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "speciate", *_SAMPLE, "--json")
    assert code == 0
    (row,) = json.loads(out)
    assert row["status"] == "converged"
    assert 0.9 < row["ca_ionized_mmol_l"] < 1.4
    assert 0.4 < row["mg_ionized_mmol_l"] < 0.8
    assert row["si_hydroxyapatite"] > 0
    assert "taken from the reference normal plasma" in err  # the defaults are said
    assert 0.0 < row["mg_ionized_sd_mmol_l"] < 0.05  # calibration uncertainty, beside the value
    assert 0.0 < row["ca_ionized_sd_mmol_l"] < 0.1


def test_speciate_without_albumin_terms_has_no_calibration_sd(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, "speciate", *_SAMPLE, "--constants", "phreeqc", "--json")
    assert code == 0
    assert "mg_ionized_sd_mmol_l" not in json.loads(out)[0]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("--ph", "7.9"), "ph 7.9 is outside 6.8-7.8"),
        (("--ca", "-1 mmol/L"), "calcium -1 mmol/L is negative"),
        (("--ca", "2.4 mmol/g"), "does not fit this analyte"),
        (("--albumin", "4.0"), "has no unit"),
    ],
)
def test_speciate_bad_input_is_one_line_exit_2(
    capsys: pytest.CaptureFixture[str], change: tuple[str, str], message: str
) -> None:
    argv = list(_SAMPLE)
    flag = argv.index(change[0])
    argv[flag + 1] = change[1]
    code, _, err = run(capsys, "speciate", *argv)
    assert code == 2
    assert message in err
    assert err.count("\n") == 1


def test_speciate_missing_required_analyte(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(
        capsys, "speciate", "--ca", "2.4 mmol/L", "--mg", "0.9 mmol/L", "--ph", "7.4"
    )
    assert code == 2
    assert "missing required analyte(s): phosphate, albumin" in err


def test_speciate_table_keeps_going_past_a_bad_row(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    table = tmp_path / "plasma.csv"
    table.write_text(
        "patient_id,calcium [mg/dL],magnesium [mg/dL],phosphate [mg/dL],albumin [g/dL],ph [pH]\n"
        "a,9.6,2.2,3.4,4.0,7.40\n"
        "b,9.0,2.9,5.8,3.6,7.90\n"
        "c,9.2,2.7,5.0,,7.35\n"
        "d,9.1,2.5,4.9,3.9,7.36\n",
        encoding="utf-8",
    )
    out_file = tmp_path / "out.csv"
    code, _, err = run(capsys, "speciate", str(table), "--out", str(out_file))
    assert code == 0
    assert "2 of 4 samples not speciated" in err
    assert "row 2 (b): ph 7.9 is outside 6.8-7.8" in err
    assert "row 3 (c): missing albumin" in err
    frame = pd.read_csv(out_file)
    assert list(frame["status"]) == ["converged", "invalid_input", "invalid_input", "converged"]
    assert frame["ca_ionized_mmol_l"].notna().tolist() == [True, False, False, True]


def test_speciate_refuses_a_file_it_cannot_read(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    table = tmp_path / "plasma.csv"
    table.write_text(
        "patient_id,calcium [mg/dL],magnesium [mg/dL],phosphate [mg/dL],albumin [g/dL],ph [pH]\n"
        "a,9.6,2.2,3.4,4.0,7.40\n"
        "b,9.0,two,5.8,3.6,7.40\n",
        encoding="utf-8",
    )
    code, _, err = run(capsys, "speciate", str(table))
    assert code == 2
    assert "row 2" in err


def test_assess_shows_estimated_ionized_mg_and_saturation(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, "assess", *_SAMPLE, "--json")
    assert code == 0
    findings = {f["name"]: f for f in json.loads(out)[0]["findings"]}
    assert findings["mg_ionized_estimated"]["unit"] == "mmol/L"
    assert "0.45-0.60" in findings["mg_ionized_estimated"]["category"]
    assert findings["si_hydroxyapatite"]["category"] == "supersaturated"
    code, out, _ = run(capsys, "assess", "--mg", "2.2 mg/dL", "--json")
    findings = {f["name"]: f for f in json.loads(out)[0]["findings"]}
    assert findings["mg_ionized_estimated"]["value"] is None
    assert "needs calcium, phosphate, albumin" in findings["mg_ionized_estimated"]["note"]


def test_speciate_example_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "speciate", str(REPO / "examples" / "plasma_speciation.csv"), "--json"
    )
    assert code == 0
    rows = json.loads(out)
    assert [r["status"] for r in rows] == ["converged"] * 4
    by_id = {r["patient_id"]: r for r in rows}
    # pH from bicarbonate and pCO2 where not measured; hemodialysis plasma binds more Mg
    assert by_id["hd-predialysis"]["ph"] == pytest.approx(6.105 + math.log10(20 / (0.0307 * 36)))
    assert by_id["hd-predialysis"]["mg_ionized_fraction"] < by_id["normal"]["mg_ionized_fraction"]
