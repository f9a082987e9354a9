"""Read patients' labs from a FHIR R4 Bundle of laboratory Observations (LOINC codes, UCUM units).

The FHIR models of ``fhir.resources`` (R4B, which R4 lab JSON validates against) check the
structure; this module adds the checks they skip: the Observation status, the LOINC code
system, the UCUM unit system and code, and censored values. Observations that cannot be used
are left out with a `SkippedObservationWarning`; Observations that are wrong raise.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError

from mgckd.exceptions import SkippedObservationWarning, UserInputError
from mgckd.labs._record import LabValue, PatientLabs
from mgckd.units import analyte

LOINC_SYSTEM = "http://loinc.org"
UCUM_SYSTEM = "http://unitsofmeasure.org"

UCUM_UNITS: Mapping[str, str] = {
    "meq/L": "mEq/L",
    "mg/dL": "mg/dL",
    "mmol/L": "mmol/L",
    "umol/L": "umol/L",
    "g/dL": "g/dL",
    "g/L": "g/L",
    "pg/mL": "pg/mL",
    "ng/L": "ng/L",
    "pmol/L": "pmol/L",
    "mg/g": "mg/g",
    "mg/mmol": "mg/mmol",
    "[pH]": "pH",
}
"""UCUM code -> the unit mgckd reads. UCUM's ``meq`` is a milliequivalent (UCUM defines
``eq`` as 1 mol, so generic UCUM libraries convert meq/L to mmol/L 1:1); mgckd's ``mEq/L``
applies the analyte's valence: 1.6 meq/L of Mg2+ is 0.8 mmol/L."""

_USED_STATUSES = ("final", "amended", "corrected", "preliminary")
_VOID_STATUSES = ("cancelled", "entered-in-error")


@dataclass(frozen=True, slots=True)
class _Reading:
    """One usable Observation: whose it is, the lab value, and when it was taken."""

    label: str
    subject: str
    lab: LabValue
    moment: datetime | None
    day: date | None


def patients_from_bundle(bundle: Mapping[str, Any]) -> list[PatientLabs]:
    """The patients of a FHIR R4 Bundle, with the labs of their Observations.

    Observations are grouped by ``subject.reference``. A Patient resource of the Bundle
    (matched by ``fullUrl`` or ``Patient/<id>``) gives ``patient_id`` (its ``id``), ``sex``
    (``gender`` male or female) and ``age_years`` (whole years from ``birthDate`` to the
    latest ``effectiveDateTime`` of the patient's labs; None when either is missing or
    partial). Dialysis and diabetes are not read from FHIR and keep their defaults.

    Parameters
    ----------
    bundle : the Bundle as parsed JSON (``"resourceType": "Bundle"``).

    Returns
    -------
    One `PatientLabs` per Patient resource (in Bundle order), then one per other subject.

    Raises
    ------
    UserInputError
        When the Bundle is not valid FHIR, or an Observation has a status other than
        final, amended, corrected, preliminary, cancelled or entered-in-error, no subject,
        a unit system other than UCUM, a UCUM code mgckd does not read, or an implausible
        value. The message names the Observation or patient.

    Warns
    -----
    SkippedObservationWarning
        For each Observation left out: status cancelled or entered-in-error, no LOINC
        code of an analyte mgckd reads, no ``valueQuantity``, a ``comparator`` (a censored
        value such as "<0.5"), or an earlier result of an analyte the patient has again.
    """
    entries = [e for e in _validated(bundle).entry or () if e.resource is not None]
    patients = _patients_by_reference(entries)
    grouped: dict[str, list[_Reading]] = {pid: [] for pid, _ in patients.values()}
    resources = dict(patients.values())
    for entry in entries:
        if entry.resource.get_resource_type() == "Observation":
            reading = _reading(entry)
            if reading is not None:
                pid, _ = patients.get(reading.subject, (_id_of(reading.subject), None))
                grouped.setdefault(pid, []).append(reading)
    return [_patient(pid, resources.get(pid), readings) for pid, readings in grouped.items()]


def validation_message(exc: ValidationError) -> str:
    """The errors of a pydantic `ValidationError` on one line, ``loc: msg; loc: msg``."""
    parts = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"])
        message = " ".join(str(error["msg"]).removeprefix("Value error, ").split())
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)


def _validated(bundle: Mapping[str, Any]) -> Any:
    """The Bundle as ``fhir.resources`` R4B models; unknown resource types are named first."""
    entries = bundle.get("entry")
    for number, entry in enumerate(entries if isinstance(entries, list) else [], start=1):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(resource, dict):
            kind = resource.get("resourceType")
            try:
                get_fhir_model_class(str(kind))
            except ValueError:
                raise UserInputError(
                    f"Bundle entry {number}: resourceType {kind!r} is not a FHIR R4 resource"
                ) from None
    try:
        return Bundle.model_validate(bundle)
    except ValidationError as exc:
        raise UserInputError(f"not a valid FHIR R4 Bundle: {validation_message(exc)}") from None


def _patients_by_reference(entries: Iterable[Any]) -> dict[str, tuple[str, Any]]:
    """Each reference a Patient of the Bundle answers to -> (patient_id, Patient)."""
    found: dict[str, tuple[str, Any]] = {}
    for number, entry in enumerate(entries, start=1):
        patient = entry.resource
        if patient.get_resource_type() != "Patient":
            continue
        pid = patient.id or entry.fullUrl or f"entry-{number}"
        for reference in (entry.fullUrl, patient.id and f"Patient/{patient.id}"):
            if reference:
                found[reference] = (pid, patient)
    return found


def _id_of(reference: str) -> str:
    return reference.removeprefix("Patient/")


def _skip(message: str) -> None:
    warnings.warn(message, SkippedObservationWarning, stacklevel=2)


def _reading(entry: Any) -> _Reading | None:
    observation = entry.resource
    label = f"Observation {observation.id or entry.fullUrl or '(no id)'}"
    code = _usable_loinc(observation, label)
    if code is None:
        return None
    name = analyte(code).name
    if observation.subject is None or not observation.subject.reference:
        raise UserInputError(f"{label} ({name}) has no subject.reference: whose lab is it?")
    quantity = observation.valueQuantity
    try:
        lab = LabValue(
            analyte=name, value=float(quantity.value), unit=_unit(quantity, label), loinc=code
        )
    except ValidationError as exc:
        raise UserInputError(f"{label}: {validation_message(exc)}") from None
    effective = observation.effectiveDateTime
    return _Reading(label, observation.subject.reference, lab, _moment(effective), _day(effective))


def _usable_loinc(observation: Any, label: str) -> str | None:
    """The Observation's LOINC code when it can be used; None (with a warning) when not."""
    status = str(observation.status)
    if status in _VOID_STATUSES:
        _skip(f"{label}: status {status!r}; skipped")
        return None
    if status not in _USED_STATUSES:
        raise UserInputError(
            f"{label}: status {status!r} is not a result; accepted: {', '.join(_USED_STATUSES)}"
        )
    code = _loinc(observation, label)
    if code is None:
        return None
    name = analyte(code).name
    quantity = observation.valueQuantity
    if quantity is None or quantity.value is None:
        _skip(f"{label}: {name} has no valueQuantity (numeric result); skipped")
        return None
    if quantity.comparator is not None:
        _skip(
            f"{label}: {name} {quantity.comparator}{quantity.value} {quantity.code or ''} is a "
            "censored value, not a measurement mgckd can use; skipped"
        )
        return None
    return code


def _loinc(observation: Any, label: str) -> str | None:
    """The first LOINC code of ``code.coding`` that is an analyte mgckd reads."""
    codes = [c.code for c in observation.code.coding or () if c.system == LOINC_SYSTEM and c.code]
    for code in codes:
        if _is_analyte_loinc(code):
            return str(code)
    if codes:
        _skip(f"{label}: LOINC {', '.join(codes)} is not an analyte mgckd reads; skipped")
    else:
        _skip(f"{label}: no LOINC coding (system {LOINC_SYSTEM}); skipped")
    return None


def _is_analyte_loinc(code: str) -> bool:
    try:
        return code in analyte(code).loinc_codes
    except UserInputError:
        return False


def _unit(quantity: Any, label: str) -> str:
    """The mgckd unit of a UCUM-coded ``valueQuantity``."""
    if quantity.system != UCUM_SYSTEM:
        raise UserInputError(
            f"{label}: valueQuantity.system {quantity.system!r} is not UCUM ({UCUM_SYSTEM})"
        )
    code = str(quantity.code)
    if code in UCUM_UNITS:
        return UCUM_UNITS[code]
    near = [ucum for ucum in UCUM_UNITS if ucum.lower() == code.lower()]
    hint = f" (UCUM codes are case-sensitive: {near[0]!r})" if near else ""
    raise UserInputError(
        f"{label}: UCUM code {code!r} is not one mgckd reads{hint}; "
        f"accepted: {', '.join(UCUM_UNITS)}"
    )


def _moment(effective: Any) -> datetime | None:
    """An aware datetime for ordering; partial dates (YYYY, YYYY-MM) count from their start."""
    if isinstance(effective, datetime):
        return effective if effective.tzinfo else effective.replace(tzinfo=UTC)
    if isinstance(effective, date):
        return datetime(effective.year, effective.month, effective.day, tzinfo=UTC)
    if isinstance(effective, str):
        start = date.fromisoformat(f"{effective}-01-01"[:10])
        return datetime(start.year, start.month, start.day, tzinfo=UTC)
    return None


def _day(value: Any) -> date | None:
    """The calendar date of a full FHIR date or dateTime; None for partial dates."""
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else None


def _patient(pid: str, patient: Any, readings: list[_Reading]) -> PatientLabs:
    kept = _latest_per_analyte(pid, readings)
    days = [r.day for r in kept if r.day is not None]
    birth = _day(patient.birthDate) if patient is not None else None
    gender = patient.gender if patient is not None else None
    try:
        return PatientLabs(
            patient_id=pid,
            sex=gender if gender in ("female", "male") else None,
            age_years=_age_years(birth, max(days)) if birth and days else None,
            labs={r.lab.analyte: r.lab for r in kept},
        )
    except ValidationError as exc:
        raise UserInputError(f"patient {pid!r}: {validation_message(exc)}") from None


def _latest_per_analyte(pid: str, readings: list[_Reading]) -> list[_Reading]:
    """One reading per analyte, in Bundle order: the latest; undated ones count as earliest."""
    kept: dict[str, _Reading] = {}
    for reading in readings:
        name = reading.lab.analyte
        older, newer = sorted((kept.get(name, reading), reading), key=_sort_key)  # ties: later wins
        if older is not newer:
            _skip(
                f"{older.label}: patient {pid!r} has {name} again in {newer.label} "
                f"({_when(newer)}, after {_when(older)}); kept the latest"
            )
        kept[name] = newer
    return list(kept.values())


def _sort_key(reading: _Reading) -> datetime:
    return reading.moment or datetime.min.replace(tzinfo=UTC)


def _when(reading: _Reading) -> str:
    return "undated" if reading.moment is None else reading.moment.isoformat()


def _age_years(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
