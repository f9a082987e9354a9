"""The command line, run in-process through `mgckd.cli.main` and once as a real subprocess."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

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
