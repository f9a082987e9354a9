"""The calcification model: plasma courses, the progression law, switches, the decomposition."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mgckd.calcification import (
    PARTS,
    CalcificationParameters,
    Pathways,
    course_from_frame,
    course_from_simulation,
    decompose_mg_effect,
    plasma_course,
    sakaguchi_2019_arms,
    simulate_cac,
)
from mgckd.calcification._laws import transformed_score
from mgckd.calibrate import check, fit, problems
from mgckd.cli import main
from mgckd.exceptions import UserInputError
from mgckd.params import parameters
from mgckd.physiology import magnesium_model
from mgckd.simulate import Scenario, simulate

REPO = Path(__file__).resolve().parents[1]
TWO_YEARS_H = 2 * 8766.0


@pytest.fixture(scope="module")
def params() -> CalcificationParameters:
    return CalcificationParameters.from_registry()


def _course(mg: list[float], **columns: object) -> object:
    return plasma_course([0.0, TWO_YEARS_H], {"magnesium_mmol_l": [mg], **columns})


def test_constant_plasma_follows_the_closed_form(params: CalcificationParameters) -> None:
    course = plasma_course([0.0, TWO_YEARS_H], {"magnesium_mmol_l": [[0.82, 0.95]]})
    result = simulate_cac(course, baseline_agatston=[100.0, 400.0])
    drive = result.drive[0]
    assert np.allclose(result.drive[1], drive)  # constant plasma, constant drive
    g = params.score_exponent
    rise = (1 - g) * params.progression_rate_per_h * (drive - params.drive_threshold)
    expected = (np.array([100.0, 400.0]) ** (1 - g) + rise * TWO_YEARS_H) ** (1 / (1 - g))
    np.testing.assert_allclose(result.final_agatston, expected, rtol=1e-12)


def test_the_transformed_score_is_reflected_at_zero(params: CalcificationParameters) -> None:
    time_h = np.linspace(0.0, 4 * 8766.0, 9)
    low, high = params.drive_threshold - 0.5, params.drive_threshold + 0.5
    drive = np.where(time_h < 2 * 8766.0, low, high)[:, None]
    score = transformed_score(time_h, drive, np.array([1.0]), params)[:, 0]
    assert (score >= 0).all()
    first_zero = int(np.flatnonzero(score == 0)[0])
    assert first_zero < 4  # dissolves while the drive is below the threshold ...
    assert score[-1] > 0  # ... and grows again from zero once it is above


def test_progression_is_faster_where_calcification_exists() -> None:
    course = plasma_course([0.0, TWO_YEARS_H], {"magnesium_mmol_l": 0.82})
    baselines = [10.0, 100.0, 1000.0]
    results = [simulate_cac(course, baseline_agatston=b) for b in baselines]
    absolute = [float(r.final_agatston[0] - r.baseline_agatston[0]) for r in results]
    relative = [float(r.percent_change[0]) for r in results]
    assert absolute == sorted(absolute)
    assert relative == sorted(relative, reverse=True)


def test_a_batch_equals_its_patients_one_by_one() -> None:
    time_h = np.linspace(0.0, TWO_YEARS_H, 5)
    mg = np.linspace(0.7, 1.1, 5)[:, None] * np.array([[1.0, 0.9, 1.2]])
    phosphate = np.array([[1.0, 1.4, 1.9]])
    batch = simulate_cac(
        plasma_course(time_h, {"magnesium_mmol_l": mg, "phosphate_mmol_l": phosphate}),
        baseline_agatston=[0.0, 50.0, 300.0],
    )
    for i, baseline in enumerate([0.0, 50.0, 300.0]):
        one = simulate_cac(
            plasma_course(
                time_h,
                {"magnesium_mmol_l": mg[:, [i]], "phosphate_mmol_l": phosphate[:, [i]]},
            ),
            baseline_agatston=baseline,
        )
        np.testing.assert_allclose(one.agatston[:, 0], batch.agatston[:, i], rtol=1e-12)
    assert np.isnan(batch.percent_change[0])  # undefined from a zero baseline
    assert batch.final_agatston[0] > 0  # but calcification appears


def test_mg_slows_each_pathway_and_its_removal_restores_the_control() -> None:
    control = _course([0.82, 0.82])
    treated = _course([0.82, 0.95])
    assert simulate_cac(treated).passive_drive[0, 1] < simulate_cac(treated).passive_drive[0, 0]
    assert simulate_cac(treated).active_drive[0, 1] < simulate_cac(treated).active_drive[0, 0]
    removed = simulate_cac(
        treated, pathways=Pathways(mg_passive=False, mg_active=False), mg_reference=control
    )
    np.testing.assert_allclose(removed.agatston, simulate_cac(control).agatston, rtol=1e-12)
    for pathways in (Pathways(mg_passive=False), Pathways(mg_active=False)):
        partly = simulate_cac(treated, pathways=pathways, mg_reference=control)
        assert partly.final_agatston[1] > simulate_cac(treated).final_agatston[1]


def test_pathways_switch_off_separately() -> None:
    course = _course([0.9])
    passive = simulate_cac(course, pathways=Pathways(active=False))
    active = simulate_cac(course, pathways=Pathways(passive=False))
    both = simulate_cac(course)
    assert (passive.active_drive == 0).all()
    assert (active.passive_drive == 0).all()
    np.testing.assert_allclose(passive.drive + active.drive, both.drive, rtol=1e-12)


def test_trpm7_block_removes_mg_protection_of_the_cells(params: CalcificationParameters) -> None:
    blocked = replace(params, trpm7_activity=0.0)
    course = _course([0.8, 1.2])
    vsmc = simulate_cac(course, params=blocked).vsmc_activity[0]
    assert vsmc[0] == pytest.approx(vsmc[1])
    assert (vsmc > simulate_cac(course).vsmc_activity[0]).all()


def test_mistakes_are_user_errors_naming_the_field() -> None:
    with pytest.raises(UserInputError, match="needs total Mg"):
        plasma_course([0.0, 1.0], {"phosphate_mmol_l": 1.0})
    with pytest.raises(UserInputError, match="'serum_mg' is not an analyte"):
        plasma_course([0.0, 1.0], {"serum_mg": 1.0})
    with pytest.raises(UserInputError, match="strictly increasing"):
        plasma_course([1.0, 1.0], {"magnesium_mmol_l": 1.0})
    with pytest.raises(UserInputError, match=r"patient 'patient_2' at 1 h: magnesium_mmol_l -1"):
        plasma_course([0.0, 1.0], {"magnesium_mmol_l": [[0.9, 0.9], [0.9, -1.0]]})
    course = _course([0.9])
    with pytest.raises(UserInputError, match="baseline_agatston -5"):
        simulate_cac(course, baseline_agatston=-5.0)
    with pytest.raises(UserInputError, match="needs mg_reference"):
        simulate_cac(course, pathways=Pathways(mg_active=False))
    with pytest.raises(UserInputError, match="same times and number of patients"):
        decompose_mg_effect(course, _course([0.9, 0.9]))


def test_a_table_round_trips_and_refuses_uneven_times() -> None:
    course = plasma_course(
        [0.0, 100.0, 200.0], {"magnesium_mmol_l": [[0.8, 1.0]], "albumin_g_l": [38, 40, 42]}
    )
    frame = course.to_frame().sample(frac=1.0, random_state=1)  # any row order
    again = course_from_frame(frame)
    assert again.patient_ids == course.patient_ids
    assert again.assumed == ()
    for name, values in course.values.items():
        np.testing.assert_array_equal(again.values[name], values)
    with pytest.raises(UserInputError, match="same times"):
        course_from_frame(frame.iloc[1:])
    with pytest.raises(UserInputError, match="time_h"):
        course_from_frame(pd.DataFrame({"patient": [0], "plasma_mg_total_mmol_l": [0.9]}))


def test_a_course_comes_from_a_simulation() -> None:
    model = magnesium_model()
    result = simulate(
        model,
        Scenario(duration_h=240.0, n_patients=2, parameters={"tubular_injury": [0.0, 0.3]}),
        save_at=np.array([0.0, 120.0, 240.0]),
    )
    course = course_from_simulation(result, patient_ids=["a", "b"])
    assert course.patient_ids == ("a", "b")
    assert course.n_times == 3
    np.testing.assert_array_equal(
        course.values["magnesium_mmol_l"], result.rule("plasma_mg_total_mmol_l")
    )
    assert "magnesium_mmol_l" not in course.assumed
    assert "phosphate_mmol_l" in course.assumed
    assert simulate_cac(course).final_agatston[1] > simulate_cac(course).final_agatston[0]


def test_the_decomposition_sums_to_the_whole() -> None:
    arms = sakaguchi_2019_arms()
    result = arms.decomposition()
    frame = result.to_frame().iloc[0]
    assert frame["benefit_points"] == pytest.approx(39.5 - 11.3, abs=1e-4)  # the calibration
    assert sum(frame[f"{p}_points"] for p in PARTS) == pytest.approx(
        frame["benefit_points"], rel=0.01
    )
    assert abs(result.residual[0]) < 1e-9
    assert all(frame[f"{p}_points"] > 0 for p in ("passive", "active", "gut_binding"))
    assert frame["other_points"] == 0.0


def test_what_else_differs_goes_to_other_and_the_sum_still_holds() -> None:
    time_h = np.linspace(0.0, TWO_YEARS_H, 4)
    control = plasma_course(time_h, {"magnesium_mmol_l": 0.82, "phosphate_mmol_l": 1.5})
    treated = plasma_course(time_h, {"magnesium_mmol_l": [0.85, 0.9, 0.95, 1.0]})
    without = treated.with_values(phosphate_mmol_l=1.4)  # binding lowers phosphate further
    result = decompose_mg_effect(treated, control, treated_without_gut_binding=without)
    assert result.parts["other"][0] > 0  # phosphate 1.5 -> 1.4 not due to gut binding
    assert result.parts["gut_binding"][0] > 0
    assert abs(result.residual[0]) < 1e-9 * abs(result.total[0])
    alone = decompose_mg_effect(treated, control)
    assert alone.parts["gut_binding"][0] == 0.0
    assert not alone.gut_counterfactual


def test_the_calibration_reproduces_the_shipped_constants() -> None:
    fitted = fit(problems()["calcification"])
    assert all(t.passed for t in fitted.targets)
    assert check(fitted) == []


def test_the_decomposition_example_draws_its_figure(tmp_path: Path) -> None:
    script = REPO / "examples" / "calcification_decomposition.py"
    run = subprocess.run(
        [sys.executable, "-W", "error", str(script), str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "sum of the parts" in run.stdout
    assert (tmp_path / "calcification_decomposition.png").stat().st_size > 0


def _scenario(tmp_path: Path, interventions: str) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(
        "duration_days: 60\nsave_every_days: 10\npatients:\n  - id: a\n"
        "  - id: b\n    gfr_course: {start_ml_min: 30, rate_per_year: 0}\n" + interventions,
        encoding="utf-8",
    )
    return path


def test_cli_simulate_reports_calcification_and_mg_effect(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mgo = "interventions:\n  - {drug: magnesium_oxide, dose_mg: 330, doses_per_day: 2}\n"
    target = tmp_path / "out.csv"
    argv = ["simulate", str(_scenario(tmp_path, mgo)), "--calcification", "--json"]
    assert main([*argv, "--cac-baseline", "200", "--out", str(target)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [r["patient_id"] for r in report["patients"]] == ["a", "b"]
    assert [r["baseline_agatston"] for r in report["calcification"]] == [200.0, 200.0]
    for row in report["mg_effect"]:
        parts = sum(row[f"{p}_points"] for p in PARTS)
        assert parts == pytest.approx(row["benefit_points"], rel=1e-9)
        assert row["benefit_points"] > 0  # MgO raised Mg: less calcification
    assert "cac_agatston" in pd.read_csv(target).columns
    assert main(["simulate", str(_scenario(tmp_path, "")), "--calcification", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["mg_effect"] is None


def test_cli_simulate_refuses_an_unknown_reference_plasma(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _scenario(tmp_path, "")
    assert main(["simulate", str(path), "--calcification", "--plasma-reference", "x"]) == 2
    error = capsys.readouterr().err
    assert "--plasma-reference 'x' is not one of normal, ckd, hemodialysis" in error


@pytest.mark.slow
def test_the_sensitivity_example_refits_to_the_shipped_constants_as_shipped() -> None:
    script = REPO / "examples" / "calcification_sensitivity.py"
    done = subprocess.run(
        [sys.executable, "-W", "error", str(script)],
        capture_output=True,
        text=True,
        check=True,
    )
    rows = done.stdout.splitlines()
    shipped = parameters()
    k = shipped["cac_progression_rate"].to("1/year")
    d0 = shipped["cac_drive_threshold"].to("1")
    assert rows[2].startswith(f"| as shipped | {k:.2f} | {d0:.3f} |")
    assert len(rows) == 2 + 10
