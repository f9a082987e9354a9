"""Every effect applied to one cohort (`apply_effects`), and cohorts made from simulations
(`sample_times`, `cohort_from_simulation`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from mgckd.dialysis import Schedule, sessions
from mgckd.exceptions import UserInputError
from mgckd.outcomes import (
    LABEL,
    Cohort,
    apply_effects,
    cohort_from_simulation,
    effect_size,
    published_context,
    risk,
    sample_times,
)
from mgckd.simulate import parse_scenario, simulate

J_CURVE = "sakaguchi-2014-cv-death-mg-categories"
HIGH_PHOSPHATE = "sakaguchi-2014-cv-death-mg-bands-high-phosphate"
PREVEND = "eelderink-2020-cv-death-t50"
CRIC_DEATH = "bundy-2019-death-t50"
EVOLVE = "pasch-2017-death-t50"


def _by_effect(report: Any) -> Any:
    return report.effects.set_index("effect_id")


def test_each_effect_is_applied_inside_its_population_and_refused_outside() -> None:
    cohort = Cohort(
        dialysis=["hemodialysis", "none"],
        patient_id=("hd", "ckd"),
        mg_mmol_l=[0.9, 0.9],
        t50_min=[250.0, 250.0],
        egfr_ml_min_1_73m2=[np.nan, 30.0],
    )
    report = apply_effects(cohort, rng=3)
    effects = _by_effect(report)
    assert effects.loc[J_CURVE, ["status", "n_applied", "n_outside_population"]].tolist() == [
        "applied",
        1,
        1,
    ]
    assert effects.loc[EVOLVE, "status"] == "blocked"
    rows = report.patients.set_index(["effect_id", "patient_id"])
    assert rows.loc[(J_CURVE, "hd"), "status"] == "estimated"
    refused = rows.loc[(J_CURVE, "ckd")]
    assert refused["status"] == "outside_population"
    assert refused["reason"] == "dialysis none (needs hemodialysis)"
    assert np.isnan(refused["relative_risk"])
    assert refused["category"] == ""
    assert rows.loc[(PREVEND, "ckd"), "status"] == "estimated"
    assert rows.loc[(PREVEND, "hd"), "status"] == "outside_population"
    assert (
        report.label
        == LABEL
        == ("association, not causation; a research estimate, not a treatment instruction")
    )


def test_outside_the_population_on_request_is_applied_and_flagged() -> None:
    cohort = Cohort(dialysis=["none"], mg_mmol_l=[0.9])
    report = apply_effects(cohort, rng=3, allow_outside_population=True)
    row = report.patients.set_index("effect_id").loc[J_CURVE]
    assert row["status"] == "estimated"
    assert bool(row["outside_population"])
    assert "applied to them on request (flagged)" in _by_effect(report).loc[J_CURVE, "reason"]


def test_an_effect_whose_exposure_the_cohort_lacks_is_not_applicable() -> None:
    report = apply_effects(Cohort(dialysis=["hemodialysis"], mg_mmol_l=[1.2]), rng=3)
    row = _by_effect(report).loc[HIGH_PHOSPHATE]
    assert row["status"] == "not_applicable"
    assert row["reason"] == "needs phosphate_mmol_l, which the cohort lacks"
    assert HIGH_PHOSPHATE not in set(report.patients["effect_id"])


def test_an_effects_intervals_do_not_depend_on_who_else_is_in_the_cohort() -> None:
    alone = apply_effects(Cohort(dialysis=["hemodialysis"], mg_mmol_l=[0.9]), rng=5)
    mixed = apply_effects(
        Cohort(dialysis=["none", "hemodialysis"], mg_mmol_l=[0.9, 0.9], t50_min=[300.0, 300.0]),
        rng=5,
    )
    columns = ["relative_risk_low", "relative_risk_high", "absolute_risk_low"]
    first = alone.patients.query("effect_id == @J_CURVE")[columns].to_numpy()
    second = mixed.patients.query("effect_id == @J_CURVE and status == 'estimated'")
    assert np.array_equal(first, second[columns].to_numpy())


def test_the_patients_keep_the_cohort_order_within_each_effect() -> None:
    cohort = Cohort(dialysis=["none", "hemodialysis", "none"], mg_mmol_l=[0.9, 1.0, 0.8])
    rows = apply_effects(cohort, rng=1).patients.query("effect_id == @J_CURVE")
    assert rows["patient_id"].tolist() == ["patient-1", "patient-2", "patient-3"]


def test_a_seed_must_be_a_whole_number() -> None:
    with pytest.raises(UserInputError, match="must be a seed"):
        apply_effects(Cohort(dialysis=["none"]), rng=1.5)  # type: ignore[arg-type]


def test_cric_applies_between_its_egfr_bounds_with_the_published_hr_per_sd() -> None:
    effect = effect_size(CRIC_DEATH)
    cohort = Cohort(
        dialysis=["none"] * 3, t50_min=[313.0 - 79.0] * 3, egfr_ml_min_1_73m2=[15.0, 45.0, 75.0]
    )
    context = published_context(cohort, effect)
    assert context["population_mismatch"].tolist() == [
        "eGFR < 20 (needs eGFR >= 20 and eGFR < 70)",
        "",
        "eGFR >= 70 (needs eGFR >= 20 and eGFR < 70)",
    ]
    inside = risk(cohort.take([1]), effect, rng=1).to_frame().iloc[0]
    assert inside["relative_risk"] == pytest.approx(1.16)
    assert (inside["ratio_ci_low"], inside["ratio_ci_high"]) == pytest.approx((1.09, 1.24))


def test_cohort_take_keeps_every_field() -> None:
    cohort = Cohort(dialysis=["none", "none"], mg_mmol_l=[0.7, 0.9], diabetes=[True, False])
    taken = cohort.take(np.array([False, True]))
    assert taken.patient_id == ("patient-2",)
    assert taken.mg_mmol_l is not None
    assert taken.mg_mmol_l.tolist() == [0.9]
    assert taken.diabetes is not None
    assert taken.diabetes.tolist() == [0.0]
    assert taken.phosphate_mmol_l is None


# --- sampling simulated trajectories -------------------------------------------------------------


def test_without_dialysis_the_samples_are_the_first_and_last_save() -> None:
    start, end = sample_times([0.0, 12.0, 36.0])
    assert (start.name, start.time_h, end.name, end.time_h) == ("start", 0.0, "end", 36.0)


def test_on_hemodialysis_labs_are_read_before_the_mid_week_session() -> None:
    schedule = Schedule()  # Mon/Wed/Fri; time 0 is Monday's session
    held = sessions(schedule, duration_h=21 * 24.0, missed=[8])  # misses week 3's Wednesday
    start, end = sample_times(np.arange(0.0, 21 * 24.0 + 1, 6.0), schedule=schedule, held=held)
    assert start.time_h == 48.0  # the first Wednesday, before its session
    assert end.time_h == 7 * 24.0 + 48.0  # week 3's Wednesday was missed: week 2's
    assert "session 5" in end.description


def test_a_save_grid_too_coarse_for_pre_dialysis_labs_is_refused() -> None:
    schedule = Schedule()
    held = sessions(schedule, duration_h=14 * 24.0)
    with pytest.raises(UserInputError, match="save_every_days: no save between the end"):
        sample_times([0.0, 24.0, 7 * 24.0, 14 * 24.0], schedule=schedule, held=held)
    with pytest.raises(UserInputError, match="no held session is session 2"):
        sample_times([0.0, 24.0], schedule=schedule, held=sessions(schedule, duration_h=24.0))


@pytest.fixture(scope="module")
def simulated() -> Any:
    ready = parse_scenario(
        {
            "duration_days": 20,
            "save_every_days": 10,
            "patients": [{"id": "a"}, {"id": "b", "gfr_course": {"start_ml_min": 30}}],
        }
    )
    return ready, simulate(ready.model, ready.scenario, save_at=ready.save_at_h)


def test_a_simulated_cohort_reads_mg_phosphate_gfr_and_t50_at_the_sample(simulated: Any) -> None:
    ready, result = simulated
    _, end = sample_times(ready.save_at_h)
    made = cohort_from_simulation(
        result, end, dialysis="none", base="ckd", patient_ids=ready.patient_ids, diabetes=True
    )
    cohort = made.cohort
    assert cohort.patient_id == ("a", "b")
    assert made.left_out == ()
    assert cohort.mg_mmol_l is not None
    assert cohort.mg_mmol_l.tolist() == result.rule("plasma_mg_total_mmol_l")[-1].tolist()
    assert cohort.phosphate_mmol_l is not None
    assert cohort.phosphate_mmol_l.tolist() == result.rule("plasma_pi_mmol_l")[-1].tolist()
    assert cohort.egfr_ml_min_1_73m2 is not None
    assert cohort.egfr_ml_min_1_73m2[1] == pytest.approx(result.rule("gfr_ml_min")[-1, 1])
    assert cohort.t50_min is not None
    assert np.all((cohort.t50_min > 100) & (cohort.t50_min < 600))
    assert cohort.diabetes is not None
    assert cohort.diabetes.tolist() == [1.0, 1.0]
    assert "fetuin_a_g_l" in made.assumed


def test_a_sample_time_without_a_save_is_refused(simulated: Any) -> None:
    ready, result = simulated
    start, _ = sample_times(ready.save_at_h)
    moved = type(start)(start.name, 5.0, start.description)
    with pytest.raises(UserInputError, match="no save at 5 h"):
        cohort_from_simulation(result, moved, dialysis="none", base="ckd", t50=False)
