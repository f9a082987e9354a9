"""Interventions as schedules, scenario files, and the ``mgckd simulate`` command."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mgckd.cli import main
from mgckd.exceptions import ScenarioError
from mgckd.interventions import Drug, Intervention, intervention_schedule
from mgckd.model import Dose, SetParameter
from mgckd.simulate import parse_scenario, simulate

EXAMPLE = Path(__file__).parents[1] / "examples" / "scenarios" / "ckd_mgo.yaml"


def test_mg_content_of_salts_follows_molar_masses() -> None:
    assert Intervention(
        drug=Drug.MAGNESIUM_OXIDE, dose_mg=403.04
    ).mg_per_dose_mmol() == pytest.approx(10.0)
    assert Intervention(
        drug=Drug.MAGNESIUM_HYDROXIDE, dose_mg=583.19
    ).mg_per_dose_mmol() == pytest.approx(10.0)
    assert Intervention(
        drug=Drug.MAGNESIUM_CARBONATE, dose_mg=843.13
    ).mg_per_dose_mmol() == pytest.approx(10.0)


def test_daily_average_rates_add_up_and_stop() -> None:
    events = intervention_schedule(
        [
            Intervention(
                drug="magnesium_oxide", dose_mg=403.04, doses_per_day=2, start_day=1, stop_day=3
            ),
            Intervention(drug="magnesium_oxide", dose_mg=403.04, start_day=2),
            Intervention(drug="magnesium_hydroxide", dose_mg=583.19, start_day=2),
        ],
        duration_h=240.0,
    )
    rates = [
        (e.at_h, float(e.values[0]))
        for e in events
        if isinstance(e, SetParameter) and e.parameter == "supplement_mg_oxide_mmol_h"
    ]
    hydroxide = [
        (e.at_h, float(e.values[0]))
        for e in events
        if isinstance(e, SetParameter) and e.parameter == "supplement_mg_hydroxide_mmol_h"
    ]
    assert hydroxide == [(48.0, pytest.approx(10.0 / 24))]
    assert rates == [
        (24.0, pytest.approx(20.0 / 24)),
        (48.0, pytest.approx(30.0 / 24)),
        (72.0, pytest.approx(10.0 / 24)),
    ]


def test_doses_become_boluses_into_the_gut() -> None:
    (dose,) = intervention_schedule(
        [Intervention(drug="magnesium_oxide", dose_mg=403.04, doses_per_day=3, delivery="doses")],
        duration_h=48.0,
    )
    assert isinstance(dose, Dose)
    assert dose.count == 6
    assert dose.every_h == pytest.approx(8.0)


def test_diuretics_switch_a_renal_parameter_on_and_off() -> None:
    events = intervention_schedule(
        [Intervention(drug="loop_diuretic", start_day=1, stop_day=2)], duration_h=100.0
    )
    assert [(e.parameter, float(e.values[0])) for e in events] == [
        ("loop_diuretic_inhibition", pytest.approx(0.2)),
        ("loop_diuretic_inhibition", 0.0),
    ]


def test_binders_add_binding_capacity_by_their_relative_coefficient() -> None:
    calcium = Intervention(drug="calcium_carbonate", dose_mg=1000).per_dose()
    sevelamer = Intervention(drug="sevelamer", dose_mg=1000).per_dose()
    assert sevelamer["binder_pi_capacity_mmol_h"] == pytest.approx(
        0.75 * calcium["binder_pi_capacity_mmol_h"]
    )
    assert calcium["supplement_ca_mmol_h"] == pytest.approx(1000 / 100.086, rel=1e-4)
    assert "supplement_ca_mmol_h" not in sevelamer


def test_calcium_acetate_magnesium_carbonate_carries_both_metals() -> None:
    dose = Intervention(drug="calcium_acetate_magnesium_carbonate", dose_mg=435).per_dose()
    assert dose["supplement_ca_mmol_h"] == pytest.approx(435 / 158.166, rel=1e-4)
    assert dose["supplement_mg_carbonate_mmol_h"] == pytest.approx(235 / 95.21, rel=1e-3)


def test_calcitriol_and_cinacalcet_schedules() -> None:
    events = intervention_schedule(
        [
            Intervention(drug="calcitriol", dose_ug=0.25, start_day=1),
            Intervention(drug="cinacalcet", start_day=2, stop_day=3),
        ],
        duration_h=240.0,
    )
    by_parameter = {(e.parameter, e.at_h): float(e.values[0]) for e in events}  # type: ignore[union-attr]
    assert by_parameter[("calcitriol_dose_pmol_h", 24.0)] == pytest.approx(
        0.25e6 / 416.65 * 0.7 / 24, rel=1e-4
    )
    assert by_parameter[("calcimimetic_ca_equivalent_mmol_l", 48.0)] == 0.5
    assert by_parameter[("calcimimetic_ca_equivalent_mmol_l", 72.0)] == 0.0


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"drug": "sevelamer"}, "sevelamer needs dose_mg"),
        ({"drug": "calcitriol"}, "calcitriol needs dose_ug"),
        ({"drug": "cinacalcet", "dose_mg": 30}, "cinacalcet takes no dose_mg"),
        ({"drug": "sevelamer", "dose_mg": 800, "delivery": "doses"}, "delivery 'doses'"),
    ],
)
def test_doses_that_do_not_fit_the_drug_are_refused(
    fields: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        Intervention.model_validate(fields)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"duration_days": -1}, "duration_days"),
        (
            {"duration_days": 10, "patients": [{"gfr_course": {"start_ml_min": -5}}]},
            "patients.0.gfr_course.start_ml_min",
        ),
        ({"duration_days": 10, "patients": [{"tubular_injury": 1.5}]}, "patients.0.tubular_injury"),
        ({"duration_days": 10, "interventions": [{"drug": "aspirin"}]}, "interventions.0.drug"),
        ({"duration_days": 10, "interventions": [{"drug": "magnesium_oxide"}]}, "interventions.0"),
        ({"duration_days": 10, "typo": 1}, "typo"),
    ],
)
def test_bad_scenario_names_the_field(data: dict[str, object], field: str) -> None:
    with pytest.raises(ScenarioError, match=rf"{field}\b"):
        parse_scenario(data)


def test_example_scenario_runs_and_mgo_raises_plasma_mg() -> None:
    ready = parse_scenario({"duration_days": 60, "patients": [{}, {}], "interventions": []})
    base = simulate(ready.model, ready.scenario, save_at=ready.save_at_h)
    treated = parse_scenario(
        {
            "duration_days": 60,
            "patients": [{}, {"tubular_injury": 0.3}],
            "interventions": [{"drug": "magnesium_oxide", "dose_mg": 330, "doses_per_day": 2}],
        }
    )
    result = simulate(treated.model, treated.scenario, save_at=treated.save_at_h)
    mg = result.rule("plasma_mg_total_mmol_l")
    assert mg[-1, 0] > base.rule("plasma_mg_total_mmol_l")[-1, 0]
    assert mg[-1, 1] < mg[-1, 0]


def test_cli_simulate_writes_trajectories(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "out.csv"
    assert main(["simulate", str(EXAMPLE), "--out", str(target), "--json"]) == 0
    assert '"patient_id": "ckd_tubular_injury"' in capsys.readouterr().out
    frame = np.genfromtxt(target, delimiter=",", names=True, dtype=None, encoding="utf-8")
    assert "plasma_mg_total_mmol_l" in frame.dtype.names


def test_cli_simulate_bad_file_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "duration_days: 10\npatients:\n  - gfr_course: {start_ml_min: -5}\n", encoding="utf-8"
    )
    assert main(["simulate", str(bad)]) == 2
    error = capsys.readouterr().err
    assert "patients.0.gfr_course.start_ml_min" in error
    assert error.count("\n") == 1
