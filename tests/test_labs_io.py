"""Reading patients' labs from JSON, CSV and Parquet files (mgckd.labs._io)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from mgckd.exceptions import InputFileError
from mgckd.labs import Dialysis, PatientLabs, Sex, read_patients

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
WIDE = EXAMPLES / "cohort_wide.csv"
LONG = EXAMPLES / "cohort_long.csv"


def _one_line_error(path: Path) -> str:
    """Read `path`, expecting an InputFileError; return its message after basic checks."""
    with pytest.raises(InputFileError) as caught:
        read_patients(path)
    message = str(caught.value)
    assert "\n" not in message
    assert "pydantic.dev" not in message
    assert path.name in message
    return message


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# Example files


@pytest.mark.parametrize(
    ("name", "patient_id"),
    [
        ("ckd_g3b_hypomagnesemia.json", "ckd-g3b-hypomg"),
        ("hemodialysis_mild_hypermagnesemia.json", "hd-mild-hypermg"),
        ("unit_mixup.json", "unit-mixup"),
        ("normal_adult.json", "normal-adult"),
    ],
)
def test_example_patient_reads(name: str, patient_id: str) -> None:
    (patient,) = read_patients(EXAMPLES / "patients" / name)
    assert patient.patient_id == patient_id
    assert "magnesium" in patient.labs


def test_ckd_g3b_example_has_what_femg_needs() -> None:
    (p,) = read_patients(EXAMPLES / "patients" / "ckd_g3b_hypomagnesemia.json")
    assert p.diabetes is True
    assert p.dialysis is Dialysis.NONE
    assert p.internal("magnesium") == pytest.approx(1.6 / 2.4305, rel=1e-3)
    assert {"urine_magnesium", "urine_creatinine", "urine_acr"} <= set(p.labs)
    assert p.labs["urine_magnesium"].loinc == "19124-7"


def test_hemodialysis_example() -> None:
    (p,) = read_patients(EXAMPLES / "patients" / "hemodialysis_mild_hypermagnesemia.json")
    assert p.dialysis is Dialysis.HEMODIALYSIS
    assert p.labs["magnesium"].value == 2.8
    assert p.internal("magnesium_ionized") == pytest.approx(0.56)
    assert p.internal("bicarbonate") == pytest.approx(21.0)  # mEq/L, valence 1


def test_unit_mixup_example_is_flagged_not_refused() -> None:
    (p,) = read_patients(EXAMPLES / "patients" / "unit_mixup.json")
    assert p.internal("magnesium") == pytest.approx(2.1)
    assert any("probable unit error" in w for w in p.warnings)


def test_normal_adult_example() -> None:
    (p,) = read_patients(EXAMPLES / "patients" / "normal_adult.json")
    assert (p.age_years, p.sex) == (70, Sex.MALE)
    assert p.internal("creatinine") == pytest.approx(0.8 * 88.4, rel=1e-3)
    assert p.warnings == ()


def test_json_list_of_patients(tmp_path: Path) -> None:
    records = [
        {"patient_id": "a", "labs": {"mg": "0.8 mmol/L"}},
        {"patient_id": "b", "labs": {"2160-0": {"value": 1.1, "unit": "mg/dL"}}},
    ]
    path = _write(tmp_path / "two.json", json.dumps(records))
    patients = read_patients(str(path))
    assert [p.patient_id for p in patients] == ["a", "b"]
    assert patients[1].labs["creatinine"].loinc == "2160-0"


# Tables: wide and long agree


def test_wide_and_long_examples_give_the_same_patients() -> None:
    wide, long = read_patients(WIDE), read_patients(LONG)
    assert len(wide) == 8
    assert wide == long


def test_wide_example_converts_each_column_unit() -> None:
    patients = {p.patient_id: p for p in read_patients(WIDE)}
    c03 = patients["C03"]
    assert c03.internal("magnesium") == pytest.approx(1.5 / 2.4305, rel=1e-3)  # mg/dL
    assert c03.internal("creatinine") == pytest.approx(150.0)  # umol/L
    assert c03.internal("urine_creatinine") == pytest.approx(6000.0)  # mmol/L -> umol/L
    assert c03.internal("urine_acr") == pytest.approx(48 * 8.84, rel=1e-3)  # mg/mmol -> mg/g
    assert c03.internal("magnesium_ionized") is None  # empty cell: not measured
    assert patients["C04"].internal("ph") == pytest.approx(7.33)
    assert patients["C07"].dialysis is Dialysis.PERITONEAL
    assert patients["C02"].diabetes is True


@pytest.mark.parametrize("source", [WIDE, LONG])
def test_parquet_reads_like_csv(tmp_path: Path, source: Path) -> None:
    path = tmp_path / f"{source.stem}.parquet"
    pd.read_csv(source).to_parquet(path)  # typed columns: floats with NaN, booleans
    assert read_patients(path) == read_patients(source)


def test_long_demographics_may_be_given_once(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "long.csv",
        "patient_id,age_years,sex,analyte,value,unit\n"
        "p1,70,male,creatinine,0.8,mg/dL\n"
        "p1,,,magnesium,0.85,mmol/L\n"
        "p1,,,,,\n",
    )
    (p,) = read_patients(path)
    assert (p.age_years, p.sex) == (70, Sex.MALE)
    assert set(p.labs) == {"creatinine", "magnesium"}


def test_patient_ids_stay_text(tmp_path: Path) -> None:
    path = _write(tmp_path / "ids.csv", "patient_id,magnesium [mmol/L]\n007,0.8\n")
    (p,) = read_patients(path)
    assert p.patient_id == "007"


def test_wide_header_may_be_a_loinc_code(tmp_path: Path) -> None:
    path = _write(tmp_path / "loinc.csv", "patient_id,73573-8 [mmol/L]\np1,0.55\n")
    (p,) = read_patients(path)
    assert p.labs["magnesium_ionized"].loinc == "73573-8"


def test_long_ph_needs_no_unit(tmp_path: Path) -> None:
    path = _write(tmp_path / "ph.csv", "patient_id,analyte,value,unit\np1,ph,7.31,\n")
    (p,) = read_patients(path)
    assert p.labs["ph"].unit == "pH"


# Bad files


def test_missing_file(tmp_path: Path) -> None:
    assert "no such file" in _one_line_error(tmp_path / "absent.csv")


def test_unknown_format(tmp_path: Path) -> None:
    message = _one_line_error(_write(tmp_path / "labs.xlsx", "x"))
    assert ".json" in message
    assert ".csv" in message
    assert ".parquet" in message


def test_wide_column_without_unit(tmp_path: Path) -> None:
    path = _write(tmp_path / "wide.csv", "patient_id,magnesium\np1,2.1\n")
    message = _one_line_error(path)
    assert "'magnesium'" in message
    assert "no unit" in message


def test_wide_unknown_column(tmp_path: Path) -> None:
    path = _write(tmp_path / "wide.csv", "patient_id,weight [kg]\np1,70\n")
    assert "'weight [kg]'" in _one_line_error(path)


def test_wide_unit_that_does_not_fit(tmp_path: Path) -> None:
    path = _write(tmp_path / "wide.csv", "patient_id,albumin [mmol/L]\np1,40\n")
    message = _one_line_error(path)
    assert "'albumin [mmol/L]'" in message
    assert "accepted units" in message


def test_wide_two_columns_of_one_analyte(tmp_path: Path) -> None:
    path = _write(tmp_path / "wide.csv", "patient_id,mg [mg/dL],magnesium [mmol/L]\np1,2.0,\n")
    assert "one column per analyte" in _one_line_error(path)


def test_wide_row_error_names_row_patient_and_column(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "wide.csv",
        "patient_id,sex,magnesium [mg/dL]\np1,female,2.0\np2,male,250\n",
    )
    message = _one_line_error(path)
    assert "row 2 (patient 'p2')" in message
    assert "'magnesium [mg/dL]'" in message
    assert "outside the plausible range" in message


def test_wide_bad_demographic(tmp_path: Path) -> None:
    path = _write(tmp_path / "wide.csv", "patient_id,sex,magnesium [mg/dL]\np1,x,2.0\n")
    message = _one_line_error(path)
    assert "row 1 (patient 'p1')" in message
    assert "sex" in message


def test_wide_not_a_number(tmp_path: Path) -> None:
    path = _write(tmp_path / "wide.csv", "patient_id,magnesium [mg/dL]\np1,low\n")
    assert "valid number" in _one_line_error(path)


def test_wide_duplicate_patient(tmp_path: Path) -> None:
    path = _write(tmp_path / "wide.csv", "patient_id,magnesium [mg/dL]\np1,2.0\np1,2.1\n")
    assert "rows 1 and 2" in _one_line_error(path)


def test_missing_patient_id_column(tmp_path: Path) -> None:
    path = _write(tmp_path / "wide.csv", "id,magnesium [mg/dL]\np1,2.0\n")
    assert "patient_id" in _one_line_error(path)


def test_missing_patient_id_cell(tmp_path: Path) -> None:
    path = _write(tmp_path / "wide.csv", "patient_id,magnesium [mg/dL]\np1,2.0\n,2.1\n")
    assert "row 2: no patient_id" in _one_line_error(path)


def test_long_conflicting_demographics(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "long.csv",
        "patient_id,sex,analyte,value,unit\n"
        "p1,female,magnesium,0.8,mmol/L\n"
        "p1,male,creatinine,80,umol/L\n",
    )
    message = _one_line_error(path)
    assert "patient 'p1'" in message
    assert "sex" in message
    assert "row 1" in message
    assert "row 2" in message


def test_long_analyte_twice(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "long.csv",
        "patient_id,analyte,value,unit\np1,magnesium,0.8,mmol/L\np1,mg,2.0,mg/dL\n",
    )
    assert "rows 1 and 2" in _one_line_error(path)


def test_long_value_without_unit(tmp_path: Path) -> None:
    path = _write(tmp_path / "long.csv", "patient_id,analyte,value,unit\np1,magnesium,0.8,\n")
    message = _one_line_error(path)
    assert "row 1 (patient 'p1')" in message
    assert "no unit" in message


def test_long_unknown_analyte(tmp_path: Path) -> None:
    path = _write(tmp_path / "long.csv", "patient_id,analyte,value,unit\np1,glucose,5,mmol/L\n")
    assert "unknown analyte 'glucose'" in _one_line_error(path)


def test_long_layout_needs_its_columns(tmp_path: Path) -> None:
    path = _write(tmp_path / "long.csv", "patient_id,analyte,value\np1,magnesium,0.8\n")
    assert "missing: unit" in _one_line_error(path)


def test_empty_csv(tmp_path: Path) -> None:
    assert "CSV" in _one_line_error(_write(tmp_path / "empty.csv", ""))


def test_corrupt_parquet(tmp_path: Path) -> None:
    assert "Parquet" in _one_line_error(_write(tmp_path / "bad.parquet", "not parquet"))


def test_json_syntax_error(tmp_path: Path) -> None:
    assert "line 1" in _one_line_error(_write(tmp_path / "bad.json", '{"patient_id": }'))


def test_json_patient_error_names_patient(tmp_path: Path) -> None:
    records = [
        {"patient_id": "ok", "labs": {"mg": "0.8 mmol/L"}},
        {"patient_id": "bad", "age_years": 200, "labs": {"mg": "0.8"}},
    ]
    message = _one_line_error(_write(tmp_path / "p.json", json.dumps(records)))
    assert "patient 2 ('bad')" in message
    assert "age_years" in message


def test_json_entry_that_is_not_an_object(tmp_path: Path) -> None:
    assert "patient 1" in _one_line_error(_write(tmp_path / "p.json", "[1]"))


def test_json_fhir_resource_that_is_not_a_bundle(tmp_path: Path) -> None:
    path = _write(tmp_path / "obs.json", '{"resourceType": "Observation"}')
    assert "Bundles" in _one_line_error(path)


def test_result_is_patientlabs() -> None:
    assert all(isinstance(p, PatientLabs) for p in read_patients(LONG))
