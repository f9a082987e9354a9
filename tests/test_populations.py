"""Virtual populations: marginals, the Gaussian copula sampler, presets, the mapping onto model
parameters and the per-patient merge of arm schedules."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from mgckd.dialysis import Schedule
from mgckd.exceptions import RegistryError, ScenarioError, UserInputError
from mgckd.interventions import Intervention, intervention_schedule
from mgckd.model import (
    Compartment,
    Dose,
    Flux,
    Model,
    Param,
    SetParameter,
    Species,
    compile_model,
    sym,
)
from mgckd.params import parameters
from mgckd.physiology import magnesium_model
from mgckd.populations import (
    Bernoulli,
    Correlation,
    LogNormal,
    PiecewiseUniform,
    Preset,
    TruncatedNormal,
    hemodialysis_batch,
    pre_dialysis_times_h,
    preset,
    sample_population,
    simulate_population,
    usual_binder_mmol_d,
    washout,
)
from mgckd.populations._cohort import steady_observables
from mgckd.populations._models import resolve_model
from mgckd.populations._parameters import (
    decline_look_back_years,
    patient_parameters,
    recent_decline,
)
from mgckd.populations._schedule import personal_schedule

U = np.linspace(0.01, 0.99, 99)


def test_marginals_match_scipy() -> None:
    np.testing.assert_allclose(
        TruncatedNormal(60.0, 12.0, 20.0, 90.0).ppf(U),
        stats.truncnorm((20 - 60) / 12, (90 - 60) / 12, loc=60, scale=12).ppf(U),
        rtol=1e-10,
    )
    np.testing.assert_allclose(
        LogNormal(0.3, 4.0).ppf(U), stats.lognorm(np.log(4.0), scale=0.3).ppf(U), rtol=1e-10
    )
    cv = LogNormal.from_cv(12.0, 0.3)
    draws = cv.ppf(np.random.default_rng(0).uniform(size=200_000))
    assert np.std(draws) / np.mean(draws) == pytest.approx(0.3, rel=0.02)
    assert Bernoulli(0.2).ppf(U).mean() == pytest.approx(0.2, abs=0.011)
    histogram = PiecewiseUniform((0.0, 1.0, 3.0), (0.25, 0.75))
    assert histogram.ppf(np.array([0.25, 1.0])).tolist() == [1.0, 3.0]


@pytest.mark.parametrize(
    "bad",
    [
        lambda: TruncatedNormal(0.0, -1.0),
        lambda: LogNormal(1.0, 0.5),
        lambda: Bernoulli(1.5),
        lambda: PiecewiseUniform((0.0, 1.0), (0.5, 0.5)),
    ],
)
def test_bad_marginals_are_refused(bad: object) -> None:
    with pytest.raises(RegistryError):
        bad()  # type: ignore[operator]


def test_sampling_is_seeded_and_reproducible() -> None:
    first = sample_population("ckd_g1_g5", 500, rng=7).to_frame()
    again = sample_population("ckd_g1_g5", 500, rng=7).to_frame()
    other = sample_population("ckd_g1_g5", 500, rng=8).to_frame()
    assert first.equals(again)
    assert not first["age_years"].equals(other["age_years"])
    assert first["patient_id"].iloc[0] == "p0"


def test_cohort_reproduces_its_documented_distributions() -> None:
    cohort = sample_population("ckd_g1_g5", 40_000, rng=1)
    frame = cohort.characteristics
    registry = parameters()
    shares = frame["ckd_stage"].value_counts(normalize=True)
    expected = registry["ckd_cohort_stage_fractions"].value
    for stage, share in zip(("G1", "G2", "G3a", "G3b", "G4", "G5"), expected, strict=True):
        assert shares[stage] == pytest.approx(share, abs=0.01)
    assert frame["male"].mean() == pytest.approx(
        registry["ckd_cohort_male_fraction"].value, abs=0.01
    )
    assert np.median(frame["diet_mg_mmol_d"]) == pytest.approx(12.0, rel=0.02)
    # latent correlations carry over in sign: more proteinuria and loop diuretics at low eGFR
    rho = stats.spearmanr(frame["egfr_ml_min_1_73m2"], frame["upcr_g_g"])[0]
    assert rho < -0.2
    assert (
        frame.loc[frame["ckd_stage"] == "G5", "loop_diuretic"].mean()
        > frame.loc[frame["ckd_stage"] == "G1", "loop_diuretic"].mean()
    )


def test_hemodialysis_preset_stays_inside_what_dialysis_accepts() -> None:
    cohort = sample_population("jsdt_hd", 2000, rng=2)
    frame = cohort.characteristics
    assert (frame["ckd_stage"] == "G5D").all()
    assert np.isnan(cohort.column("egfr_ml_min_1_73m2")).all()
    registry = parameters()
    for column, range_name, unit in (
        ("residual_gfr_ml_min", "residual_gfr_hemodialysis_range_ml_min", "mL/min"),
        ("fluid_gain_l_d", "interdialytic_fluid_gain_range_l_d", "L/d"),
    ):
        low, high = registry[range_name].quantity.to(unit).magnitude
        assert frame[column].between(low, high).all(), column
    # intakes centre on the dialysis layer's reference patient; residual function falls with
    # vintage and dietary Mg and phosphate go together (latent correlations)
    reference = registry["hemodialysis_reference_diet_mg_mmol_d"].to("mmol/d")
    assert np.median(frame["diet_mg_mmol_d"]) == pytest.approx(reference, rel=0.05)
    unbound = registry["hemodialysis_phosphate_unbound_fraction"].to("1")
    np.testing.assert_allclose(frame["phosphate_unbound_fraction"], unbound)
    assert stats.spearmanr(frame["vintage_years"], frame["residual_gfr_ml_min"])[0] < -0.3
    assert stats.spearmanr(frame["diet_mg_mmol_d"], frame["diet_phosphate_mmol_d"])[0] > 0.3
    assert (frame["dialysate_mg_mmol_l"] == 0.5).all()
    assert 0.7 < frame["phosphate_binder"].mean() < 0.9


def test_a_truncated_log_normal_stays_below_its_limit() -> None:
    capped = LogNormal(1.0, 3.0, high=15.0)
    np.testing.assert_array_less(capped.ppf(U), 15.0 + 1e-12)
    inside = U[U < 0.9]  # below the cap the quantiles are the log-normal's, rescaled
    reference = stats.lognorm(np.log(3.0), scale=1.0)
    np.testing.assert_allclose(
        capped.ppf(inside), reference.ppf(inside * reference.cdf(15.0)), rtol=1e-10
    )


def test_washout_stops_treatments_and_returns_what_binders_bound() -> None:
    cohort = sample_population("jsdt_hd", 300, rng=4)
    stopped = washout(cohort, ["phosphate_binder", "mgo_laxative"])
    users = cohort.characteristics["phosphate_binder"].to_numpy()
    unbound = "phosphate_unbound_fraction"
    freed = stopped.column(unbound) / cohort.column(unbound) - 1.0
    ratio = usual_binder_mmol_d() / parameters()["diet_pi_mmol_d"].to("mmol/d")
    np.testing.assert_allclose(freed[users], ratio)  # none at the cap of 1
    np.testing.assert_allclose(freed[~users], 0.0)
    assert not stopped.characteristics[["phosphate_binder", "mgo_laxative"]].any().any()
    assert stopped.metadata["washout"] == ("phosphate_binder", "mgo_laxative")
    assert washout(cohort, []) is cohort


def test_hemodialysis_patients_map_onto_dialysis() -> None:
    cohort = sample_population("jsdt_hd", 6, rng=3)
    compiled = resolve_model("magnesium")
    hd = hemodialysis_batch(cohort, compiled)
    values = hd.parameters()
    np.testing.assert_allclose(values["dialysate_mg_mmol_l"], 0.5)
    laxative = cohort.characteristics["mgo_laxative"].to_numpy()
    assert (values["supplement_mg_oxide_mmol_h"][laxative] > 0).all()
    assert (values["supplement_mg_oxide_mmol_h"][~laxative] == 0).all()
    with pytest.raises(ScenarioError, match="not on hemodialysis"):
        hemodialysis_batch(sample_population("ckd_g1_g5", 3, rng=0), compiled)


def test_hemodialysis_cohort_from_its_long_run_cycle() -> None:
    """Cross-section at the pre-dialysis sample of the long-run cycle; a stretch from there in
    which one group's dialysate Mg is raised: pre-dialysis Mg rises in that group only."""
    cohort = sample_population("jsdt_hd", 6, rng=3)
    compiled = resolve_model("magnesium")
    labs = steady_observables(cohort, compiled)
    assert (labs["status"] == "success").all()
    assert labs["mg_ionized_pre_mmol_l"].between(0.2, 1.5).all()
    group = np.array([0, 1, 0, 1, 0, 1])
    result = simulate_population(
        cohort,
        compiled,
        duration_h=14 * 24.0,
        save_at_h=None,
        groups=((), ()),
        group_of=group,
        dialysate_mg_mmol_l=(None, 1.0),
    )
    np.testing.assert_allclose(result.time_h, pre_dialysis_times_h(Schedule(), 14 * 24.0))
    mg = result.rule("plasma_mg_total_mmol_l")
    np.testing.assert_allclose(mg[0], labs["plasma_mg_total_mmol_l"], rtol=1e-6)
    change = mg[-1] - mg[0]
    assert (change[group == 1] > 0.1).all()
    np.testing.assert_allclose(change[group == 0], 0.0, atol=1e-4)  # on their own cycle
    with pytest.raises(ScenarioError, match="dialysate_mg_mmol_l: 3 mmol/L is outside"):
        simulate_population(
            cohort,
            compiled,
            duration_h=24.0,
            save_at_h=None,
            dialysate_mg_mmol_l=(3.0,),
        )
    with pytest.raises(ScenarioError, match="not on hemodialysis"):
        simulate_population(
            sample_population("ckd_g1_g5", 2, rng=0),
            compiled,
            duration_h=24.0,
            save_at_h=np.array([0.0, 24.0]),
            dialysate_mg_mmol_l=(1.0,),
        )


def test_unknown_preset_and_bad_sizes_are_user_errors() -> None:
    with pytest.raises(UserInputError, match="ckd_g1_g5"):
        sample_population("nope", 10, rng=0)
    with pytest.raises(UserInputError, match="n:"):
        sample_population("ckd_g1_g5", 0, rng=0)


def test_a_correlation_matrix_that_is_not_positive_definite_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base = preset("ckd_g1_g5")
    broken = Preset(
        "broken",
        "",
        "none",
        "ckd",
        base.marginals,
        (
            Correlation("age_years", "egfr_ml_min_1_73m2", "ckd_cohort_correlation_age_egfr"),
            Correlation("age_years", "upcr_g_g", "ckd_cohort_correlation_age_egfr"),
            Correlation("egfr_ml_min_1_73m2", "upcr_g_g", "ckd_cohort_correlation_male_weight"),
        ),
    )
    monkeypatch.setattr(Correlation, "value", property(lambda self: -0.9))
    with pytest.raises(RegistryError, match="positive definite"):
        sample_population(broken, 10, rng=0)


def test_patient_parameters_follow_the_characteristics() -> None:
    compiled = compile_model(magnesium_model())
    cohort = sample_population("ckd_g1_g5", 300, rng=3)
    values = patient_parameters(cohort, compiled)
    to_ml_min = 1000.0 / 60.0
    np.testing.assert_allclose(
        values["gfr_start_l_h"] * to_ml_min, cohort.column("egfr_ml_min_1_73m2"), rtol=1e-12
    )
    assert np.all(values["gfr_floor_l_h"] <= values["gfr_start_l_h"])
    on_loop = cohort.column("loop_diuretic") == 1
    assert np.all(values["loop_diuretic_inhibition"][on_loop] > 0)
    assert np.all(values["loop_diuretic_inhibition"][~on_loop] == 0)
    more_protein = cohort.column("upcr_g_g") > np.median(cohort.column("upcr_g_g"))
    assert (
        values["tubular_injury"][more_protein].mean()
        > values["tubular_injury"][~more_protein].mean()
    )
    assert np.all(values["tubular_injury"] < 1)


def test_a_model_without_the_parameters_is_refused_by_name() -> None:
    toy = Model(
        name="toy",
        compartments=(Compartment("plasma", "volume_l"),),
        species=(Species("mg_plasma", "plasma", 1.0, element="Mg"),),
        parameters=(Param("volume_l", "L", value=14.0), Param("k_per_h", "1/h", value=0.1)),
        fluxes=(
            Flux.transfer(
                "loss", sym("k_per_h") * sym("mg_plasma"), source="mg_plasma", target=None
            ),
        ),
    )
    with pytest.raises(ScenarioError, match="gfr_start_l_h"):
        patient_parameters(sample_population("ckd_g1_g5", 5, rng=0), compile_model(toy))


def test_steady_observables_give_serum_mg_per_patient() -> None:
    cohort = sample_population("ckd_g1_g5", 200, rng=4)
    state = steady_observables(cohort, compile_model(magnesium_model()))
    assert (state["status"] == "success").all()
    assert np.all((state["plasma_mg_total_mmol_l"] > 0.2) & (state["plasma_mg_total_mmol_l"] < 4))


def test_arm_schedules_merge_per_patient() -> None:
    compiled = compile_model(magnesium_model())
    duration = 1000.0
    mgo = Intervention(drug="magnesium_oxide", dose_mg=330, doses_per_day=2, start_day=10)
    loop = Intervention(drug="loop_diuretic", start_day=5)
    bolus = Intervention(drug="magnesium_oxide", dose_mg=330, delivery="doses", start_day=1)
    groups = [
        intervention_schedule([], duration_h=duration),
        intervention_schedule([mgo, loop], duration_h=duration),
        intervention_schedule([bolus], duration_h=duration),
    ]
    group_of = np.array([0, 1, 1, 2])
    baseline = {
        "supplement_mg_oxide_mmol_h": np.array([0.5, 0.5, 0.0, 0.0]),
        "loop_diuretic_inhibition": np.array([0.2, 0.2, 0.0, 0.0]),
    }
    merged = personal_schedule(compiled, groups, group_of, baseline)
    sets = {e.parameter: e for e in merged if isinstance(e, SetParameter)}
    rate = mgo.mg_per_dose_mmol() * 2 / 24
    np.testing.assert_allclose(
        sets["supplement_mg_oxide_mmol_h"].values, [0.5, 0.5 + rate, rate, 0.0]
    )
    on = parameters()["loop_diuretic_tal_inhibition"].value
    np.testing.assert_allclose(sets["loop_diuretic_inhibition"].values, [0.2, on, on, 0.0])
    (dose,) = (e for e in merged if isinstance(e, Dose))
    np.testing.assert_allclose(dose.amounts, [0, 0, 0, bolus.dissolved_mg_per_dose_mmol()])


def test_a_long_run_cycle_that_does_not_converge_marks_the_patient_failed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("mgckd.dialysis._periodic.MAX_ITERATIONS", 1)
    cohort = sample_population("jsdt_hd", 2, rng=3)
    compiled = resolve_model("magnesium")
    result = simulate_population(cohort, compiled, duration_h=48.0, save_at_h=None)
    assert not result.succeeded.any()
    assert np.isnan(result.rule("plasma_mg_total_mmol_l")).all()
    labs = steady_observables(cohort, compiled)
    assert (labs["status"] == "steady_state_failed").all()
    assert labs["plasma_mg_total_mmol_l"].isna().all()


def test_the_recent_decline_ends_at_each_patients_egfr() -> None:
    cohort = sample_population("ckd_g1_g5", 300, rng=5)
    years = decline_look_back_years()
    course = recent_decline(cohort, years)
    to_ml_min = 1000.0 / 60.0
    start, floor = course["gfr_start_l_h"] * to_ml_min, course["gfr_floor_l_h"] * to_ml_min
    hours = years * 365.25 * 24.0
    now = floor + (start - floor) * np.exp(-course["gfr_decline_per_h"] * hours)
    np.testing.assert_allclose(now, cohort.column("egfr_ml_min_1_73m2"), rtol=1e-10)
    assert start.max() <= 120.0
    assert np.all(start >= 15.0 - 1e-9)  # every patient starts where a steady state exists
