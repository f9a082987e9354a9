"""The calibration program: problems fit calibration claims only, write and check the registry."""

from __future__ import annotations

import json
import tomllib
from dataclasses import replace
from pathlib import Path

import pytest

from mgckd.calibrate import (
    CHECK_TOLERANCE,
    Free,
    Problem,
    Target,
    check,
    data_file,
    fit,
    problems,
    render,
    write,
)
from mgckd.calibrate import _problem as problem_module
from mgckd.cli import main
from mgckd.exceptions import RegistryError
from mgckd.params import Status, parameters, parse_entry


@pytest.fixture(scope="module")
def chemistry_fit():  # type: ignore[no-untyped-def]
    return fit(problems()["chemistry"])


def _constant(values: object) -> list[float]:
    del values
    return [0.0]


def test_problems_come_after_the_problems_whose_values_they_use() -> None:
    order = list(problems())
    for before, after in (
        ("chemistry", "dialysis"),
        ("physiology", "dialysis"),
        ("dialysis", "cpp"),
        ("cpp", "calcification"),
    ):
        assert order.index(before) < order.index(after)


def test_a_dependency_cycle_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(problem_module, "_AFTER", {**problem_module._AFTER, "chemistry": ("cpp",)})
    with pytest.raises(RegistryError, match="cycle"):
        problems()


def test_a_validation_claim_cannot_be_a_target() -> None:
    with pytest.raises(RegistryError, match="only calibration claims may be fitted to"):
        Problem(
            name="chemistry",
            description="",
            free=(Free("plasma_log_k_caalb", 1.0, 4.0, 2.0),),
            targets=(
                Target("L-sakaguchi-2018-ionized-mg", "hypermagnesemia by total Mg, hemodialysis"),
            ),
            model=_constant,
        )


def test_a_problem_fits_only_its_own_module() -> None:
    with pytest.raises(RegistryError, match="belongs to labs"):
        Problem(
            name="chemistry",
            description="",
            free=(Free("femg_ultrafilterable_fraction", 0.0, 1.0, 0.5),),
            targets=(Target("L-normal-plasma-ionized-calcium"),),
            model=_constant,
        )


def test_chemistry_calibration_meets_every_target(chemistry_fit) -> None:  # type: ignore[no-untyped-def]
    assert chemistry_fit.success
    assert all(t.passed for t in chemistry_fit.targets)
    assert chemistry_fit.calibrated_to == (
        "L-normal-plasma-ionized-calcium",
        "L-normal-plasma-ionized-magnesium",
        "S0-22",
    )


def test_fit_does_not_depend_on_the_start(chemistry_fit) -> None:  # type: ignore[no-untyped-def]
    base = problems()["chemistry"]
    moved = replace(
        base, free=tuple(replace(f, start=f.start + 0.3 * (f.upper - f.start)) for f in base.free)
    )
    again = fit(moved)
    for name, value in chemistry_fit.values.items():
        assert again.values[name] == pytest.approx(value, abs=CHECK_TOLERANCE)


def test_render_writes_fitted_entries_and_keeps_the_rest(chemistry_fit, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    copy = tmp_path / "chemistry.toml"
    copy.write_text(data_file("chemistry").read_text(encoding="utf-8"), encoding="utf-8")
    changed = replace(chemistry_fit, values={k: v + 0.1 for k, v in chemistry_fit.values.items()})
    write(changed, path=copy)
    tables = tomllib.loads(copy.read_text(encoding="utf-8"))
    original = tomllib.loads(data_file("chemistry").read_text(encoding="utf-8"))
    assert set(tables) == set(original)
    for name, value in changed.values.items():
        entry = parse_entry(name, tables[name], module="chemistry")
        assert entry.status is Status.FITTED
        assert entry.value == pytest.approx(value, abs=1e-6)
        assert entry.calibrated_to == changed.calibrated_to
        assert tables[name]["source"] == original[name]["source"]
    untouched = [n for n in original if n not in changed.values]
    assert all(tables[n] == original[n] for n in untouched)


def test_render_refuses_an_unknown_parameter(chemistry_fit) -> None:  # type: ignore[no-untyped-def]
    stranger = replace(chemistry_fit, values={"not_in_the_file": 1.0})
    with pytest.raises(RegistryError, match="not_in_the_file"):
        render("[other]\nvalue = 1\n", stranger)


def test_check_reports_a_value_that_differs(chemistry_fit) -> None:  # type: ignore[no-untyped-def]
    assert check(chemistry_fit) == []
    name = next(iter(chemistry_fit.values))
    off = replace(chemistry_fit, values={name: chemistry_fit.values[name] + 10 * CHECK_TOLERANCE})
    (mismatch,) = check(off)
    assert mismatch.name == name
    assert parameters()[name].status is Status.FITTED


def test_cli_check_passes_on_the_shipped_registry(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["calibrate", "--check", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert {"chemistry", "cpp", "physiology"} <= {row["problem"] for row in report}
    assert all(row["mismatches"] == [] and row["written"] is False for row in report)


def test_cli_unknown_problem_is_a_user_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["calibrate", "--check", "--problem", "nope"]) == 2
    assert "no such calibration problem" in capsys.readouterr().err


def test_cli_check_reports_a_mismatch_as_json(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from mgckd import calibrate  # noqa: PLC0415  (patched for this test)

    fitted = calibrate.fit(calibrate.problems()["chemistry"])
    monkeypatch.setattr(calibrate, "fit", lambda problem: fitted)
    monkeypatch.setattr(
        calibrate, "check", lambda fit: [calibrate.Mismatch("x", 1.0, 2.0, "differs")]
    )
    assert main(["calibrate", "--check", "--json", "--problem", "chemistry"]) == 3
    (row,) = json.loads(capsys.readouterr().out)
    assert row["mismatches"] == [{"name": "x", "shipped": 1.0, "fitted": 2.0, "reason": "differs"}]
