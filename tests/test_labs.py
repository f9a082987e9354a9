"""Lab record, plausibility, derived values and Mg categories."""

from __future__ import annotations

import numpy as np
import pydantic
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mgckd.labs import (
    PatientLabs,
    albumin_adjusted_anion_gap,
    anion_gap,
    assess,
    corrected_calcium,
    egfr_ckd_epi_2021,
    fractional_excretion_mg,
    hemodialysis_band,
    hypomagnesemia,
    ionized_category,
    kdigo_albuminuria_category,
    kdigo_gfr_category,
    reference_range_category,
)
from mgckd.units import convert

MG_DL_TO_UMOL_L = 88.4017  # creatinine, 1 mg/dL in umol/L at 113.12 g/mol


@pytest.mark.parametrize(
    ("creatinine_mg_dl", "age", "female", "expected"),
    [
        # Worked examples: 70-year-old, creatinine 0.8 mg/dL (kidney.org calculator; medcalc-bench
        # 95.206 / 79.215, as run in the ecosystem notes).
        (0.8, 70, False, 95.2),
        (0.8, 70, True, 79.2),
    ],
)
def test_egfr_matches_published_worked_examples(
    creatinine_mg_dl: float, age: float, female: bool, expected: float
) -> None:
    egfr = egfr_ckd_epi_2021(creatinine_mg_dl * MG_DL_TO_UMOL_L, age, female)
    assert float(egfr) == pytest.approx(expected, abs=0.05)


def test_egfr_against_the_equation_written_out() -> None:
    # 50-year-old woman, creatinine 2.0 mg/dL: above the knot (0.7), so only the -1.200 branch.
    expected = 142 * (2.0 / 0.7) ** -1.200 * 0.9938**50 * 1.012
    assert float(egfr_ckd_epi_2021(2.0 * MG_DL_TO_UMOL_L, 50, True)) == pytest.approx(
        expected, rel=1e-4
    )


def test_egfr_not_computed_for_children() -> None:
    assert np.isnan(egfr_ckd_epi_2021(50.0, 12, False))


@given(
    creatinine=st.floats(min_value=20, max_value=2000),
    factor=st.floats(min_value=1.001, max_value=5),
    age=st.floats(min_value=18, max_value=100),
    female=st.booleans(),
)
def test_egfr_falls_as_creatinine_rises(
    creatinine: float, factor: float, age: float, female: bool
) -> None:
    assert egfr_ckd_epi_2021(creatinine * factor, age, female) < egfr_ckd_epi_2021(
        creatinine, age, female
    )


@given(age=st.floats(min_value=18, max_value=99), years=st.floats(min_value=0.5, max_value=20))
def test_egfr_falls_with_age(age: float, years: float) -> None:
    assert egfr_ckd_epi_2021(100.0, age + years, False) < egfr_ckd_epi_2021(100.0, age, False)


def test_kdigo_categories_at_their_boundaries() -> None:
    egfr = [90, 89.9, 60, 59.9, 45, 44.9, 30, 29.9, 15, 14.9, np.nan]
    expected = ["G1", "G2", "G2", "G3a", "G3a", "G3b", "G3b", "G4", "G4", "G5", ""]
    assert list(kdigo_gfr_category(egfr)) == expected
    assert list(kdigo_albuminuria_category([29.9, 30, 300, 300.1, np.nan])) == [
        "A1",
        "A2",
        "A2",
        "A3",
        "",
    ]


def test_corrected_calcium_and_anion_gap_by_hand() -> None:
    assert float(corrected_calcium(2.10, 30.0)) == pytest.approx(2.10 + 0.02 * 10)
    assert float(anion_gap(140, 100, 24)) == pytest.approx(16)
    assert float(anion_gap(140, 100, 24, 4.0)) == pytest.approx(20)
    assert float(albumin_adjusted_anion_gap(12, 20.0)) == pytest.approx(17)


def test_femg_by_hand() -> None:
    # U_Mg 3 mmol/L, P_Mg 0.6 mmol/L, U_Cr 6000 umol/L, P_Cr 200 umol/L.
    expected = 100 * (3 * 200) / (0.7 * 0.6 * 6000)
    assert float(fractional_excretion_mg(3.0, 0.6, 6000.0, 200.0)) == pytest.approx(expected)


def test_mg_categories_at_the_seed_cut_points() -> None:
    mg_dl = np.array([1.79, 1.8, 2.69, 2.7, 3.0, 3.1])
    mmol = convert(mg_dl, "mg/dL", "mmol/L", analyte="magnesium")
    assert list(hypomagnesemia(mmol)) == ["yes", "no", "no", "no", "no", "no"]
    assert list(hemodialysis_band(mmol)) == [
        "<2.7",
        "<2.7",
        "<2.7",
        "2.7 to <3.1",
        "2.7 to <3.1",
        ">=3.1",
    ]
    assert list(reference_range_category([0.69, 0.7, 1.1, 1.11])) == [
        "below",
        "within",
        "within",
        "above",
    ]
    assert list(ionized_category([0.44, 0.45, 0.60, 0.61])) == [
        "below",
        "within",
        "within",
        "above",
    ]


def test_record_converts_once_and_fills_loinc() -> None:
    p = PatientLabs(labs={"2601-3": {"value": 1.0, "unit": "mEq/L"}})
    assert p.labs["magnesium"].value_internal == pytest.approx(0.5)
    assert p.labs["magnesium"].loinc == "2601-3"
    q = PatientLabs(labs={"magnesium": "2.43 mg/dL"})
    assert q.labs["magnesium"].value_internal == pytest.approx(0.99979, rel=1e-5)
    assert q.labs["magnesium"].loinc == "19123-9"


def test_unit_mixup_is_flagged_with_the_likely_unit() -> None:
    p = PatientLabs(labs={"magnesium": "2.1 mmol/L"})
    (warning,) = p.warnings
    assert "magnesium 2.1 mmol/L is implausible" in warning
    assert "probable unit error: read as 2.1 mg/dL" in warning


def test_ordinary_values_raise_no_warning() -> None:
    assert PatientLabs(labs={"magnesium": "2.1 mg/dL", "creatinine": "1.1 mg/dL"}).warnings == ()


@pytest.mark.parametrize(
    ("labs", "message"),
    [
        ({"magnesium": "-0.8 mmol/L"}, "is negative"),
        ({"magnesium": 2.1}, "has no unit"),
        ({"magnesium": "2.1"}, "has no unit"),
        ({"creatinine": "1.2 umol/L"}, "read as 1.2 mg/dL"),
        ({"magnesium": "nan mmol/L"}, "not a number"),
        ({"mg": "2 mg/dL", "magnesium": "2 mg/dL"}, "given twice"),
        ({"magnesium": {"value": 2.0, "unit": "mg/dL", "loinc": "2345-7"}}, "LOINC '2345-7'"),
    ],
)
def test_bad_input_is_refused_with_a_reason(labs: dict[str, object], message: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=message):
        PatientLabs(labs=labs)


def test_assessment_of_a_hemodialysis_patient() -> None:
    p = PatientLabs(
        dialysis="hemodialysis",
        age_years=60,
        sex="f",
        labs={"mg": "2.8 mg/dL", "creatinine": "9 mg/dL", "ca": "9.0 mg/dL", "albumin": "3.5 g/dL"},
    )
    (result,) = assess(p)
    assert result.finding("mg_hemodialysis_band").value == "2.7 to <3.1"
    assert result.finding("egfr_ckd_epi_2021").value is None
    assert "dialysis" in result.finding("egfr_ckd_epi_2021").note
    assert result.finding("calcium_albumin_corrected").value == pytest.approx(
        2.2456 + 0.1, abs=1e-3
    )


def test_batch_assessment_equals_one_by_one() -> None:
    patients = [
        PatientLabs(
            patient_id=f"p{i}",
            age_years=40 + 5 * i,
            sex="male" if i % 2 else "female",
            labs={"creatinine": f"{0.7 + 0.4 * i} mg/dL", "mg": f"{1.5 + 0.2 * i} mg/dL"},
        )
        for i in range(6)
    ]
    together = assess(patients)
    alone = [assess(p)[0] for p in patients]
    assert together == alone


def test_femg_interpretation_only_in_hypomagnesemia() -> None:
    base = {
        "creatinine": "1.0 mg/dL",
        "urine_creatinine": "100 mg/dL",
        "urine_magnesium": "8 mg/dL",
    }
    low = assess(PatientLabs(labs={**base, "mg": "1.5 mg/dL"}))[0].finding(
        "fractional_excretion_mg"
    )
    normal = assess(PatientLabs(labs={**base, "mg": "2.2 mg/dL"}))[0].finding(
        "fractional_excretion_mg"
    )
    assert low.category == "suggests renal Mg wasting"
    assert normal.category == ""
