"""Reading patients' labs from FHIR R4 Bundles (mgckd.labs._fhir)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mgckd.exceptions import InputFileError, UserInputError
from mgckd.labs import (
    PatientLabs,
    Sex,
    SkippedObservationWarning,
    patients_from_bundle,
    read_patients,
)

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "fhir_bundle.json"
PATIENT_URL = "urn:uuid:0f8b1c52-6d3e-4a7b-9c21-5e4d3a2b1c00"


def _patient(**fields: Any) -> dict[str, Any]:
    resource = {"resourceType": "Patient", "id": "p1", "gender": "female"} | fields
    return {"fullUrl": PATIENT_URL, "resource": resource}


def _observation(
    loinc: str = "2601-3",
    value: float = 0.8,
    ucum: str = "mmol/L",
    *,
    obs_id: str = "o1",
    when: str = "2024-05-02T08:00:00Z",
    subject: str = PATIENT_URL,
    **fields: Any,
) -> dict[str, Any]:
    resource = {
        "resourceType": "Observation",
        "id": obs_id,
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": loinc}]},
        "subject": {"reference": subject},
        "effectiveDateTime": when,
        "valueQuantity": {"value": value, "system": "http://unitsofmeasure.org", "code": ucum},
    } | fields
    return {"resource": resource}


def _bundle(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "collection", "entry": list(entries)}


def _one(*entries: dict[str, Any]) -> PatientLabs:
    (patient,) = patients_from_bundle(_bundle(*entries))
    return patient


# The example bundle


def test_example_bundle_reads_without_warnings() -> None:
    patients = read_patients(EXAMPLE)  # warnings are errors under pytest
    assert [p.patient_id for p in patients] == ["pat-001", "pat-002"]
    assert [p.sex for p in patients] == [Sex.FEMALE, Sex.MALE]
    assert [p.age_years for p in patients] == [65, 74]


def test_example_meq_magnesium_applies_valence_two() -> None:
    anna = patients_from_bundle(json.loads(EXAMPLE.read_text(encoding="utf-8")))[0]
    magnesium = anna.labs["magnesium"]
    assert (magnesium.value, magnesium.unit) == (1.6, "mEq/L")
    assert magnesium.value_internal == pytest.approx(0.8)
    assert magnesium.loinc == "2601-3"


def test_example_keeps_each_observation_loinc() -> None:
    ben = read_patients(EXAMPLE)[1]
    assert ben.labs["creatinine"].loinc == "14682-9"
    assert ben.labs["ph"].loinc == "2746-6"
    assert ben.internal("ph") == pytest.approx(7.36)


# Units


@pytest.mark.parametrize(
    ("loinc", "value", "ucum", "internal"),
    [
        ("2601-3", 1.6, "meq/L", 0.8),  # Mg2+: 2 meq per mmol
        ("2000-8", 5.0, "meq/L", 2.5),  # Ca2+
        ("2951-2", 140.0, "meq/L", 140.0),  # Na+
        ("19123-9", 2.43, "mg/dL", 1.0),
        ("1751-7", 4.0, "g/dL", 40.0),
        ("2731-8", 300.0, "ng/L", 31.8),
        ("9318-7", 3.0, "mg/mmol", 26.5),
        ("11558-4", 7.4, "[pH]", 7.4),
    ],
)
def test_ucum_codes_map_to_mgckd_units(
    loinc: str, value: float, ucum: str, internal: float
) -> None:
    lab = next(iter(_one(_patient(), _observation(loinc, value, ucum)).labs.values()))
    assert lab.value_internal == pytest.approx(internal, rel=2e-3)


def test_unit_must_be_ucum() -> None:
    observation = _observation()
    observation["resource"]["valueQuantity"]["system"] = "http://example.org/units"
    with pytest.raises(UserInputError, match="not UCUM"):
        patients_from_bundle(_bundle(_patient(), observation))


def test_meq_spelled_like_display_text_is_refused_with_a_hint() -> None:
    with pytest.raises(UserInputError, match="case-sensitive: 'meq/L'"):
        patients_from_bundle(_bundle(_patient(), _observation(value=1.6, ucum="mEq/L")))


def test_unknown_ucum_code() -> None:
    with pytest.raises(UserInputError, match="UCUM code 'mg' is not one mgckd reads"):
        patients_from_bundle(_bundle(_patient(), _observation(ucum="mg")))


# Demographics


@pytest.mark.parametrize(("when", "age"), [("2024-05-01", 63), ("2024-05-02T23:00:00+05:00", 64)])
def test_age_in_whole_years_at_the_observation(when: str, age: int) -> None:
    patient = _one(_patient(birthDate="1960-05-02"), _observation(when=when))
    assert patient.age_years == age


def test_age_is_taken_at_the_latest_observation() -> None:
    patient = _one(
        _patient(birthDate="1960-05-02"),
        _observation(when="2023-01-01"),
        _observation("2160-0", 1.0, "mg/dL", obs_id="o2", when="2025-06-01"),
    )
    assert patient.age_years == 65


@pytest.mark.parametrize("birth", [None, "1960", "1960-05"])
def test_age_unknown_without_a_full_birth_date(birth: str | None) -> None:
    fields = {} if birth is None else {"birthDate": birth}
    assert _one(_patient(**fields), _observation()).age_years is None


def test_age_unknown_without_an_effective_date() -> None:
    observation = _observation()
    del observation["resource"]["effectiveDateTime"]
    assert _one(_patient(birthDate="1960-05-02"), observation).age_years is None


def test_subject_by_patient_id_reference() -> None:
    patient = _one(_patient(gender="male"), _observation(subject="Patient/p1"))
    assert (patient.patient_id, patient.sex) == ("p1", Sex.MALE)


def test_subject_without_patient_resource() -> None:
    patient = _one(_observation(subject="Patient/elsewhere"))
    assert (patient.patient_id, patient.sex, patient.age_years) == ("elsewhere", None, None)


def test_gender_other_than_male_or_female_gives_no_sex() -> None:
    assert _one(_patient(gender="unknown"), _observation()).sex is None


def test_observations_grouped_by_patient() -> None:
    other = {"fullUrl": "urn:uuid:other", "resource": {"resourceType": "Patient", "id": "p2"}}
    patients = patients_from_bundle(
        _bundle(
            _patient(),
            other,
            _observation(obs_id="o1"),
            _observation(obs_id="o2", subject="urn:uuid:other", value=0.9),
        )
    )
    assert [(p.patient_id, p.internal("magnesium")) for p in patients] == [
        ("p1", 0.8),
        ("p2", 0.9),
    ]


# Skipped with a warning


@pytest.mark.parametrize("status", ["cancelled", "entered-in-error"])
def test_voided_observation_is_skipped(status: str) -> None:
    with pytest.warns(SkippedObservationWarning, match=f"o1: status '{status}'"):
        patient = _one(_patient(), _observation(status=status))
    assert patient.labs == {}


@pytest.mark.parametrize("status", ["preliminary", "amended", "corrected"])
def test_usable_statuses(status: str) -> None:
    assert _one(_patient(), _observation(status=status)).internal("magnesium") == 0.8


@pytest.mark.parametrize("status", ["registered", "unknown", "done"])
def test_other_status_is_an_error(status: str) -> None:
    with pytest.raises(UserInputError, match=f"status '{status}' is not a result"):
        patients_from_bundle(_bundle(_patient(), _observation(status=status)))


def test_unknown_loinc_is_skipped() -> None:
    egfr = _observation("98979-8", 62, "mL/min/{1.73_m2}", obs_id="egfr")
    with pytest.warns(SkippedObservationWarning, match="LOINC 98979-8 is not an analyte"):
        patient = _one(_patient(), egfr, _observation())
    assert set(patient.labs) == {"magnesium"}


def test_observation_without_loinc_is_skipped() -> None:
    local = _observation(code={"coding": [{"system": "http://lab.example/codes", "code": "MG"}]})
    with pytest.warns(SkippedObservationWarning, match="no LOINC coding"):
        assert _one(_patient(), local).labs == {}


def test_analyte_name_in_the_loinc_system_is_not_a_loinc_code() -> None:
    with pytest.warns(SkippedObservationWarning, match="LOINC magnesium is not an analyte"):
        assert _one(_patient(), _observation("magnesium")).labs == {}


def test_censored_value_is_skipped() -> None:
    censored = _observation("2598-1", 0.5, "mmol/L")
    censored["resource"]["valueQuantity"]["comparator"] = "<"
    with pytest.warns(
        SkippedObservationWarning, match=r"urine_magnesium <0\.5 mmol/L is a censored"
    ):
        assert _one(_patient(), censored).labs == {}


def test_observation_without_value_is_skipped() -> None:
    absent = _observation()
    del absent["resource"]["valueQuantity"]
    with pytest.warns(SkippedObservationWarning, match="magnesium has no valueQuantity"):
        assert _one(_patient(), absent).labs == {}


def test_duplicate_analyte_keeps_the_latest() -> None:
    early = _observation("19123-9", 1.6, "mg/dL", obs_id="early", when="2024-01-01")
    late = _observation("2601-3", 0.9, "mmol/L", obs_id="late", when="2024-03-01")
    with pytest.warns(SkippedObservationWarning, match="Observation early: .* again in .*late"):
        patient = _one(_patient(), late, early)
    assert patient.internal("magnesium") == 0.9
    assert patient.labs["magnesium"].loinc == "2601-3"


def test_duplicate_analyte_undated_counts_as_earliest() -> None:
    undated = _observation(value=0.7, obs_id="undated")
    del undated["resource"]["effectiveDateTime"]
    with pytest.warns(SkippedObservationWarning, match="undated"):
        patient = _one(_patient(), _observation(value=0.9), undated)
    assert patient.internal("magnesium") == 0.9


# Errors


def test_invalid_bundle_is_one_line() -> None:
    observation = _observation()
    del observation["resource"]["status"]
    with pytest.raises(UserInputError, match="not a valid FHIR R4 Bundle") as caught:
        patients_from_bundle(_bundle(_patient(), observation))
    assert "entry.1.resource.status" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_unknown_resource_type() -> None:
    with pytest.raises(UserInputError, match="entry 1: resourceType 'Labresult'"):
        patients_from_bundle(_bundle({"resource": {"resourceType": "Labresult"}}))


def test_implausible_value_names_the_observation() -> None:
    with pytest.raises(UserInputError, match="Observation o1: magnesium 21 mmol/L is outside"):
        patients_from_bundle(_bundle(_patient(), _observation(value=21.0)))


def test_observation_without_subject() -> None:
    observation = _observation()
    del observation["resource"]["subject"]
    with pytest.raises(UserInputError, match=r"no subject\.reference"):
        patients_from_bundle(_bundle(_patient(), observation))


def test_impossible_age_names_the_patient() -> None:
    with pytest.raises(UserInputError, match="patient 'p1': age_years"):
        patients_from_bundle(_bundle(_patient(birthDate="2030-01-01"), _observation()))


def test_read_patients_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(_bundle(_patient(), _observation(status="registered"))))
    with pytest.raises(InputFileError) as caught:
        read_patients(path)
    message = str(caught.value)
    assert message.startswith(str(path))
    assert "Observation o1: status 'registered'" in message
    assert "\n" not in message


def test_read_patients_passes_warnings_on(tmp_path: Path) -> None:
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(_bundle(_patient(), _observation(status="cancelled"))))
    with pytest.warns(SkippedObservationWarning):
        (patient,) = read_patients(path)
    assert patient.patient_id == "p1"
