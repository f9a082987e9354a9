"""The outcome layer: effect-size records, cohort, categories, population refusal, Monte Carlo."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mgckd.evidence import load_mg_outcome_studies
from mgckd.exceptions import (
    ImplausibleValueError,
    InputFileError,
    MissingColumnError,
    OutsidePopulationError,
    RegistryError,
    UserInputError,
)
from mgckd.labs import hemodialysis_band, hypomagnesemia
from mgckd.outcomes import (
    ASSOCIATION,
    CategoricalExposure,
    Cohort,
    _effects,
    absolute_risk,
    assign_categories,
    effect_size,
    effect_sizes,
    effects_frame,
    published_context,
    read_cohort,
    risk,
)
from mgckd.units import convert
from mgckd.validate import claims

J_CURVE = "sakaguchi-2014-cv-death-mg-categories"
HIGH_PHOSPHATE = "sakaguchi-2014-cv-death-mg-bands-high-phosphate"
HIP = "sakaguchi-2018-hip-fracture-mg-quartiles"
ESKD_DN = "sakaguchi-2012-eskd-hypomg-diabetic"
PREVEND = "eelderink-2020-cv-death-t50"
Z95 = 1.959963984540054


def mmol(mg_dl: float | list[float]) -> Any:
    return convert(np.asarray(mg_dl, dtype=np.float64), "mg/dL", "mmol/L", analyte="magnesium")


def phosphate_mmol(mg_dl: float | list[float]) -> Any:
    return convert(np.asarray(mg_dl, dtype=np.float64), "mg/dL", "mmol/L", analyte="phosphate")


def hd(n: int, **fields: Any) -> Cohort:
    return Cohort(dialysis=np.array(["hemodialysis"] * n), **fields)


# --- the records ---------------------------------------------------------------------------------


def test_records_load_with_unique_ids_and_known_claims() -> None:
    records = effect_sizes()
    assert len({e.id for e in records}) == len(records) == 10
    known = {c.id for c in claims()}
    for effect in records:
        assert set(effect.claims) <= known, effect.id
        assert effect.source.citation
        assert effect.population.description


def test_table_2_ratios_come_from_the_evidence_layer_not_a_copy() -> None:
    studies = load_mg_outcome_studies().set_index("id")
    exposure = effect_size(J_CURVE).exposure
    assert isinstance(exposure, CategoricalExposure)
    linked = [c.ratio for c in exposure.categories if c.ratio is not None]
    assert len(linked) == 3
    for ratio in linked:
        assert ratio.evidence_id is not None
        row = studies.loc[ratio.evidence_id]
        assert (ratio.estimate, *ratio.ci) == (row["estimate"], row["ci_low"], row["ci_high"])
        assert ratio.status == "seed_ocr"
    assert effect_size(J_CURVE).population.n == 142069  # read from the evidence rows


def test_log_se_is_derived_from_the_published_ci() -> None:
    exposure = effect_size(HIGH_PHOSPHATE).exposure
    assert isinstance(exposure, CategoricalExposure)
    ratio = exposure.categories[1].ratio
    assert ratio is not None
    assert ratio.log_se == pytest.approx((math.log(0.99) - math.log(0.66)) / (2 * Z95))
    assert ratio.log_se == pytest.approx(0.103, abs=5e-4)  # research notes, derived


def test_effects_frame_lists_every_contrast_with_population_and_source() -> None:
    frame = effects_frame()
    assert set(frame["effect_id"]) == {e.id for e in effect_sizes()}
    row = frame[(frame["effect_id"] == ESKD_DN)].iloc[0]
    assert (row["estimate"], row["ci_low"], row["ci_high"]) == (2.12, 1.28, 3.51)
    assert "PMID 22498805" in row["source"]
    assert not frame.loc[frame["effect_id"] == "pasch-2017-death-t50", "applicable"].iloc[0]


def test_a_malformed_record_is_a_registry_error_naming_it() -> None:
    entry = {"id": "broken", "outcome": "cv_death", "measure": "RR"}
    with pytest.raises(RegistryError, match=r"effect 'broken'.*measure"):
        _effects._parse(entry)


def test_a_record_with_unknown_cutpoints_must_say_why() -> None:
    raw = {
        "id": "no-cuts",
        "title": "t",
        "outcome": "eskd",
        "measure": "HR",
        "horizon": {"text": "t"},
        "claims": [],
        "status": "confirmed",
        "source": {"short": "s", "citation": "c", "table": "t"},
        "population": {
            "description": "d",
            "dialysis": ["none"],
            "country": "c",
            "follow_up": "f",
        },
        "adjustment": "a",
        "exposure": {
            "analyte": "magnesium",
            "unit": "mg/dL",
            "cutpoints": None,
            "categories": [
                {"label": "low", "ratio": {"estimate": 2.0, "ci": [1.0, 4.0]}},
                {"label": "high", "reference": True},
            ],
        },
    }
    with pytest.raises(RegistryError, match="cutpoints unknown: say why in 'blocked'"):
        _effects._parse(raw)


# --- categories ----------------------------------------------------------------------------------


def test_s0_19_bands_equal_the_labs_layers_bands() -> None:
    mg = mmol(np.round(np.arange(1.5, 4.01, 0.1), 1).tolist())
    exposure = effect_size(HIGH_PHOSPHATE).exposure
    assert isinstance(exposure, CategoricalExposure)
    index = assign_categories(mg, exposure)
    ours = np.array([c.label.removesuffix(" mg/dL") for c in exposure.categories])[index]
    assert ours.tolist() == hemodialysis_band(mg).tolist()


def test_s0_5_low_group_includes_1_8_mg_dl_unlike_the_labs_flag() -> None:
    exposure = effect_size(ESKD_DN).exposure
    assert isinstance(exposure, CategoricalExposure)
    values = mmol([1.7, 1.8, 1.9])
    assert assign_categories(values, exposure).tolist() == [0, 0, 1]  # <= 1.8 mg/dL is low
    assert hypomagnesemia(values).tolist() == ["yes", "no", "no"]  # S0-1: < 1.8 mg/dL


def test_hip_fracture_quartiles_read_at_0_1_mg_dl_resolution() -> None:
    exposure = effect_size(HIP).exposure
    assert isinstance(exposure, CategoricalExposure)
    index = assign_categories(mmol([2.3, 2.4, 2.6, 2.7, 2.8, 2.9, 3.5]), exposure)
    assert index.tolist() == [0, 1, 1, 2, 2, 3, 3]


def test_missing_exposure_is_no_estimate_with_its_reason() -> None:
    frame = published_context(hd(2, mg_mmol_l=[0.9, np.nan]), effect_size(J_CURVE))
    assert frame["status"].tolist() == ["estimated", "no_estimate"]
    assert frame["reason"].iloc[1] == "mg_mmol_l not measured"
    assert math.isnan(frame["ratio"].iloc[1])


def test_phosphate_stratum_confines_the_s0_19_ratios() -> None:
    cohort = hd(
        3, mg_mmol_l=mmol([2.8, 2.8, 2.8]), phosphate_mmol_l=phosphate_mmol([5.9, 6.0, 8.0])
    )
    frame = published_context(cohort, effect_size(HIGH_PHOSPHATE))
    assert frame["status"].tolist() == ["no_estimate", "estimated", "estimated"]
    assert "outside the stratum phosphate >= 6.0 mg/dL" in frame["reason"].iloc[0]
    assert frame["ratio"].iloc[1:].tolist() == [0.81, 0.81]


def test_categories_without_published_ratio_give_no_estimate_and_crude_risk() -> None:
    frame = published_context(hd(1, mg_mmol_l=mmol([2.5])), effect_size(HIP))
    row = frame.iloc[0]
    assert row["status"] == "no_estimate"
    assert "UNCONFIRMED" in row["reason"]
    assert row["crude_risk"] == 0.0208


# --- Monte Carlo ---------------------------------------------------------------------------------


def test_monte_carlo_interval_reproduces_the_published_ci() -> None:
    result = risk(hd(1, mg_mmol_l=[0.9]), J_CURVE, rng=5, draws=40_000)
    row = result.to_frame().iloc[0]
    assert row["relative_risk"] == 1.24
    assert row["relative_risk_low"] == pytest.approx(1.08, rel=0.01)
    assert row["relative_risk_high"] == pytest.approx(1.42, rel=0.01)


def test_reference_patients_have_ratio_one_and_the_baseline_risk() -> None:
    result = risk(hd(1, mg_mmol_l=[1.2]), J_CURVE, rng=1)
    row = result.to_frame().iloc[0]
    assert (row["status"], row["relative_risk"], row["relative_risk_low"]) == ("reference", 1, 1)
    assert row["absolute_risk"] == pytest.approx(4751 / 142069)
    assert row["absolute_risk_low"] < row["absolute_risk"] < row["absolute_risk_high"]
    assert "assumption" in result.absolute_risk_basis


def test_absolute_risk_uses_odds_for_or_and_survival_for_hr() -> None:
    assert absolute_risk(0.2, 2.0, "OR") == pytest.approx(0.5 / 1.5)
    assert absolute_risk(0.2, 2.0, "HR") == pytest.approx(1 - 0.8**2)
    hip = risk(hd(1, mg_mmol_l=mmol([2.0])), HIP, rng=1).to_frame().iloc[0]
    assert hip["absolute_risk"] == pytest.approx(1 - (1 - 0.0149) ** 1.23)


def test_same_seed_same_result_and_the_seed_is_recorded() -> None:
    cohort = hd(2, mg_mmol_l=[0.9, 1.3])
    first = risk(cohort, J_CURVE, rng=11, draws=500)
    again = risk(cohort, J_CURVE, rng=11, draws=500)
    other = risk(cohort, J_CURVE, rng=12, draws=500)
    assert first.to_frame().equals(again.to_frame())
    assert not first.to_frame().equals(other.to_frame())
    assert first.metadata["seed"] == 11


def test_a_generator_is_accepted_and_its_state_recorded() -> None:
    generator = np.random.default_rng(3)
    state = generator.bit_generator.state
    result = risk(hd(1, mg_mmol_l=[0.9]), J_CURVE, rng=generator, draws=100)
    assert result.metadata["seed"] is None
    assert result.metadata["rng_state"] == state


def test_per_unit_ratio_scales_with_the_exposure_and_keeps_its_interval_ordered() -> None:
    cohort = Cohort(dialysis=np.array(["none"] * 3), t50_min=[329, 269, 389])
    frame = risk(cohort, PREVEND, rng=1, draws=20_000).to_frame()
    assert frame["relative_risk"].tolist() == pytest.approx([1.0, 1.22, 1 / 1.22])
    assert (frame["relative_risk_low"] <= frame["relative_risk"]).all()
    assert (frame["relative_risk"] <= frame["relative_risk_high"]).all()
    assert frame["ratio_ci_low"].iloc[1:].tolist() == pytest.approx([1.04, 1 / 1.36])
    assert frame["absolute_risk"].isna().all()  # no baseline published


def test_every_output_is_labelled_with_the_caveat_and_population() -> None:
    result = risk(hd(2, mg_mmol_l=[0.9, 1.0]), J_CURVE, rng=1)
    frame, summary = result.to_frame(), result.summary()
    assert (frame["caveat"] == ASSOCIATION).all()
    assert frame["population"].str.contains("JSDT").all()
    assert summary.attrs["caveat"] == ASSOCIATION
    assert "142,069" in summary.attrs["population"]
    assert summary["n_patients"].sum() == 2
    assert set(summary["status"]) == {"estimated", "no_estimate"}
    data = result.to_dict()
    json.dumps(data, allow_nan=False)
    assert data["caveat"] == ASSOCIATION
    assert data["effect"]["claims"] == ["S0-18", "S1-16"]


# --- refusals ------------------------------------------------------------------------------------


def test_a_patient_outside_the_population_is_refused_by_name() -> None:
    cohort = Cohort(dialysis=np.array(["hemodialysis", "none"]), mg_mmol_l=[0.9, 0.9])
    with pytest.raises(OutsidePopulationError) as error:
        risk(cohort, J_CURVE, rng=1)
    message = str(error.value)
    assert "patient 'patient-2'" in message
    assert "hemodialysis patients, JSDT" in message
    assert J_CURVE in message
    assert "dialysis none (needs hemodialysis)" in message


def test_outside_the_population_on_request_is_flagged() -> None:
    cohort = Cohort(dialysis=np.array(["hemodialysis", "none"]), mg_mmol_l=[0.9, 0.9])
    result = risk(cohort, J_CURVE, rng=1, allow_outside_population=True)
    assert result.to_frame()["outside_population"].tolist() == [False, True]
    assert result.metadata["n_outside_population"] == 1
    assert result.summary()["n_outside_population"].sum() == 1


def test_unknown_diabetes_or_egfr_cannot_confirm_the_population() -> None:
    cohort = Cohort(
        dialysis=np.array(["none"] * 3),
        diabetes=[True, None, "no"],
        egfr_ml_min_1_73m2=[40, 40, np.nan],
        mg_mmol_l=[0.7, 0.7, 0.7],
    )
    frame = published_context(cohort, effect_size(ESKD_DN))
    assert frame["outside_population"].tolist() == [False, True, True]
    assert "diabetes unknown" in frame["population_mismatch"].iloc[1]
    assert "no diabetes" in frame["population_mismatch"].iloc[2]
    assert "eGFR unknown" in frame["population_mismatch"].iloc[2]


def test_unknown_and_blocked_effects_are_user_errors() -> None:
    cohort = hd(1, mg_mmol_l=[0.9])
    with pytest.raises(UserInputError, match="unknown effect 'nope'; known effects: sakaguchi"):
        risk(cohort, "nope", rng=1)
    with pytest.raises(UserInputError, match=r"cannot be applied: .*medians are UNCONFIRMED"):
        risk(cohort, "sakaguchi-2015-eskd-low-mg-high-phosphate", rng=1)


def test_a_missing_column_is_named() -> None:
    with pytest.raises(MissingColumnError, match="needs the cohort column 'phosphate_mmol_l'"):
        risk(hd(1, mg_mmol_l=[0.9]), HIGH_PHOSPHATE, rng=1)


def test_mg_in_mg_dl_given_as_mmol_l_is_caught_by_the_labs_plausibility_limits() -> None:
    with pytest.raises(ImplausibleValueError, match=r"probable unit error: read as 2\.6 mg/dL"):
        risk(hd(2, mg_mmol_l=[1.0, 2.6]), J_CURVE, rng=1)
    with pytest.raises(ImplausibleValueError, match="patient 'patient-1': mg_mmol_l 26 is outside"):
        hd(1, mg_mmol_l=[26.0])


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"draws": 0}, "draws 0 must be a positive whole number"),
        ({"level": 1.0}, "level 1.0 must lie between 0 and 1"),
        ({"rng": "seed"}, "must be a seed"),
    ],
)
def test_bad_options_are_user_errors(fields: dict[str, Any], message: str) -> None:
    arguments: dict[str, Any] = {"rng": 1, **fields}
    with pytest.raises(UserInputError, match=message):
        risk(hd(1, mg_mmol_l=[0.9]), J_CURVE, **arguments)


# --- the cohort ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"dialysis": np.array(["dialysis"])}, "dialysis 'dialysis' is not one of none, hemo"),
        ({"dialysis": np.array(["none", "none"]), "patient_id": ("a", "a")}, "'a' appears more"),
        ({"dialysis": np.array(["none"]), "diabetes": ["maybe"]}, "diabetes 'maybe' is not"),
        ({"dialysis": np.array(["none"]), "t50_min": [-5.0]}, "a T50 is a positive time"),
        ({"dialysis": np.array(["none"]), "mg_mmol_l": [0.9, 1.0]}, "2 values for 1 patients"),
        ({"dialysis": np.array([], dtype=str)}, "no patients"),
    ],
)
def test_cohort_validation_names_the_problem(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(UserInputError, match=message):
        Cohort(**fields)


def test_read_cohort_keeps_ids_as_text_and_reads_yes_no(tmp_path: Path) -> None:
    path = tmp_path / "cohort.csv"
    path.write_text("patient_id,dialysis,diabetes,mg_mmol_l\n007,hemodialysis,yes,0.9\n")
    cohort = read_cohort(path)
    assert cohort.patient_id == ("007",)
    assert cohort.diabetes is not None
    assert cohort.diabetes.tolist() == [1.0]
    cohort.to_frame().to_parquet(tmp_path / "cohort.parquet")
    again = read_cohort(tmp_path / "cohort.parquet")
    assert again.to_frame().equals(cohort.to_frame())


def test_read_cohort_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="no such file"):
        read_cohort(tmp_path / "none.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("patient_id,mg_mmol_l\np1,0.9\n")
    with pytest.raises(MissingColumnError, match=r"bad.csv: no 'dialysis' column"):
        read_cohort(bad)
    words = tmp_path / "words.csv"
    words.write_text("patient_id,dialysis,mg_mmol_l\np1,none,low\n")
    with pytest.raises(InputFileError, match=r"row 1, column 'mg_mmol_l': 'low' is not a number"):
        read_cohort(words)
