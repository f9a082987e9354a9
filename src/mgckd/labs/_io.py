"""Read patients' labs from files: JSON (mgckd's shape or a FHIR Bundle), CSV and Parquet tables.

Tables come in two layouts, told apart by their columns (see docs/inputs.md):

- wide: one row per patient, one column per analyte with its unit in the header,
  ``magnesium [mg/dL]``;
- long: one row per lab value, with columns ``analyte``, ``value``, ``unit`` (and ``loinc``).

Every error names the file and the row (1-based, not counting the header) or the patient.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd
from pydantic import ValidationError

from mgckd.exceptions import InputFileError, UnitError, UserInputError
from mgckd.labs._fhir import patients_from_bundle, validation_message
from mgckd.labs._record import LabValue, PatientLabs
from mgckd.units import Analyte, analyte, analytes, conversion_factor

ACCEPTED_FORMATS = (
    ".json (one patient, a list of patients, or a FHIR R4 Bundle), "
    ".csv or .parquet (wide or long layout)"
)
DEMOGRAPHICS = ("age_years", "sex", "dialysis", "diabetes")
LONG_COLUMNS = ("patient_id", "analyte", "value", "unit")

_UNIT_IN_HEADER = re.compile(r"^(?P<name>[^\[\]]*?)\s*\[(?P<unit>[^\[\]]*)\]$")

Row = dict[str, Any]


class _LabColumn(NamedTuple):
    """A wide-layout lab column: header, analyte, unit, and LOINC code if the header is one."""

    header: str
    analyte: str
    unit: str
    loinc: str


def read_patients(path: str | Path) -> list[PatientLabs]:
    """Read every patient of a JSON, CSV or Parquet file, in file order.

    Parameters
    ----------
    path : the file; its suffix (``.json``, ``.csv``, ``.parquet``) picks the reader.

    Returns
    -------
    One `PatientLabs` per patient.

    Raises
    ------
    InputFileError
        When the file is missing, not a format mgckd reads, or a patient or row in it is
        invalid. The one-line message names the file and the row or patient.

    Warns
    -----
    SkippedObservationWarning
        For each Observation of a FHIR Bundle left out (see `patients_from_bundle`).
    """
    file = Path(path)
    if not file.is_file():
        raise InputFileError(f"{file}: no such file")
    reader = _READERS.get(file.suffix.lower())
    if reader is None:
        raise InputFileError(f"{file}: not a format mgckd reads; accepted: {ACCEPTED_FORMATS}")
    try:
        return reader(file)
    except UserInputError as exc:
        raise InputFileError(f"{file}: {exc}") from exc


@contextmanager
def _about(where: str) -> Iterator[None]:
    """Re-raise validation and input errors as one-line `UserInputError` prefixed by `where`."""
    try:
        yield
    except ValidationError as exc:
        raise UserInputError(f"{where}: {validation_message(exc)}") from None
    except UserInputError as exc:
        raise UserInputError(f"{where}: {exc}") from None


# JSON


def _read_json(file: Path) -> list[PatientLabs]:
    try:
        data = json.loads(file.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as exc:
        raise UserInputError(
            f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    except UnicodeDecodeError:
        raise UserInputError("not UTF-8 text") from None
    if isinstance(data, dict) and "resourceType" in data:
        if data["resourceType"] != "Bundle":
            raise UserInputError(
                f"a FHIR {data['resourceType']} resource; mgckd reads FHIR Bundles of Observations"
            )
        return patients_from_bundle(data)
    records = data if isinstance(data, list) else [data]
    return [_json_patient(number, record) for number, record in enumerate(records, start=1)]


def _json_patient(number: int, record: Any) -> PatientLabs:
    if not isinstance(record, dict):
        raise UserInputError(f"patient {number}: expected a JSON object, got {record!r:.40}")
    pid = record.get("patient_id")
    with _about(f"patient {number}" + ("" if pid is None else f" ({pid!r})")):
        return PatientLabs.model_validate(record)


# Tables


def _read_csv(file: Path) -> list[PatientLabs]:
    try:
        frame = pd.read_csv(file, dtype=str, encoding="utf-8-sig", skipinitialspace=True)
    except ValueError as exc:  # pandas' ParserError, EmptyDataError; UnicodeDecodeError
        raise UserInputError(f"not a readable CSV table: {' '.join(str(exc).split())}") from None
    return _table_patients(frame)


def _read_parquet(file: Path) -> list[PatientLabs]:
    try:
        frame = pd.read_parquet(file)
    except (ValueError, OSError) as exc:  # pyarrow's ArrowInvalid, ArrowIOError
        raise UserInputError(f"not a readable Parquet file: {' '.join(str(exc).split())}") from None
    return _table_patients(frame)


def _table_patients(frame: pd.DataFrame) -> list[PatientLabs]:
    """Patients of a table, in the wide or the long layout (chosen from the columns)."""
    rows: list[Row] = [
        {str(k).strip(): v for k, v in row.items()} for row in frame.to_dict("records")
    ]
    columns = [str(c).strip() for c in frame.columns]
    if "patient_id" not in columns:
        raise UserInputError(f"no 'patient_id' column; columns: {', '.join(columns)}")
    if {"analyte", "value"} & set(columns):
        missing = [c for c in LONG_COLUMNS if c not in columns]
        if missing:
            raise UserInputError(
                f"long layout needs columns {', '.join(LONG_COLUMNS)}; "
                f"missing: {', '.join(missing)}"
            )
        return _long_patients(rows)
    return _wide_patients(rows, columns)


def _cell(value: Any) -> Any:
    """A table cell, or None when empty (blank, NaN, NA, None)."""
    if isinstance(value, str):
        return value.strip() or None
    return None if value is None or bool(pd.isna(value)) else value


def _patient_id(number: int, row: Row) -> str:
    pid = _cell(row["patient_id"])
    if pid is None:
        raise UserInputError(f"row {number}: no patient_id")
    return str(pid)


def _demographics(row: Row) -> dict[str, Any]:
    return {c: v for c in DEMOGRAPHICS if (v := _cell(row.get(c))) is not None}


def _loinc_in(name: str, a: Analyte) -> str:
    """`name` when it is one of the analyte's LOINC codes (so it is kept), else ''."""
    return name if name in a.loinc_codes else ""


# Wide layout


def _wide_patients(rows: list[Row], columns: list[str]) -> list[PatientLabs]:
    labs = [_lab_column(c) for c in columns if c not in ("patient_id", *DEMOGRAPHICS)]
    _one_column_per_analyte(labs)
    first_row: dict[str, int] = {}
    patients = []
    for number, row in enumerate(rows, start=1):
        pid = _patient_id(number, row)
        if pid in first_row:
            raise UserInputError(
                f"rows {first_row[pid]} and {number} both have patient_id {pid!r}; "
                "the wide layout has one row per patient"
            )
        first_row[pid] = number
        patients.append(_wide_patient(number, pid, row, labs))
    return patients


def _lab_column(header: str) -> _LabColumn:
    """Read ``magnesium [mg/dL]`` as the analyte and its unit; the unit must fit the analyte."""
    match = _UNIT_IN_HEADER.match(header)
    name = match["name"] if match else header
    try:
        a = analyte(name)
    except UserInputError:
        raise UserInputError(
            f"column {header!r} is neither a demographic ({', '.join(DEMOGRAPHICS)}) nor an "
            f"analyte with its unit, e.g. 'magnesium [mg/dL]'; analytes: {', '.join(analytes())}"
        ) from None
    if match is None or not match["unit"].strip():
        raise UnitError(
            f"column {header!r} has no unit in its header; write e.g. '{name} [{a.units[0]}]' "
            f"(accepted units: {', '.join(a.units)})"
        )
    unit = match["unit"].strip()
    with _about(f"column {header!r}"):
        conversion_factor(a.name, unit, a.internal_unit)
    return _LabColumn(header, a.name, unit, _loinc_in(name, a))


def _one_column_per_analyte(labs: list[_LabColumn]) -> None:
    seen: dict[str, str] = {}
    for lab in labs:
        if lab.analyte in seen:
            raise UserInputError(
                f"columns {seen[lab.analyte]!r} and {lab.header!r} are both {lab.analyte}; "
                "give one column per analyte"
            )
        seen[lab.analyte] = lab.header


def _wide_patient(number: int, pid: str, row: Row, labs: list[_LabColumn]) -> PatientLabs:
    values: dict[str, LabValue] = {}
    for lab in labs:
        value = _cell(row[lab.header])
        if value is not None:
            with _about(f"row {number} (patient {pid!r}), column {lab.header!r}"):
                values[lab.analyte] = LabValue(
                    analyte=lab.analyte, value=value, unit=lab.unit, loinc=lab.loinc
                )
    with _about(f"row {number} (patient {pid!r})"):
        return PatientLabs(patient_id=pid, **_demographics(row), labs=values)


# Long layout


def _long_patients(rows: list[Row]) -> list[PatientLabs]:
    by_patient: dict[str, list[tuple[int, Row]]] = {}
    for number, row in enumerate(rows, start=1):
        by_patient.setdefault(_patient_id(number, row), []).append((number, row))
    return [_long_patient(pid, numbered) for pid, numbered in by_patient.items()]


def _long_patient(pid: str, numbered: list[tuple[int, Row]]) -> PatientLabs:
    values: dict[str, LabValue] = {}
    first_row: dict[str, int] = {}
    for number, row in numbered:
        with _about(f"row {number} (patient {pid!r})"):
            lab = _long_lab(row)
        if lab is None:
            continue
        if lab.analyte in values:
            raise UserInputError(
                f"rows {first_row[lab.analyte]} and {number}: patient {pid!r} has "
                f"{lab.analyte} twice"
            )
        values[lab.analyte], first_row[lab.analyte] = lab, number
    demographics = {c: v for c in DEMOGRAPHICS if (v := _agreed(pid, c, numbered)) is not None}
    with _about(f"patient {pid!r} (row {numbered[0][0]})"):
        return PatientLabs(patient_id=pid, **demographics, labs=values)


def _long_lab(row: Row) -> LabValue | None:
    """The lab value of a long-layout row; None when the value cell is empty."""
    value = _cell(row["value"])
    if value is None:
        return None
    name = _cell(row["analyte"])
    if name is None:
        raise UserInputError(f"value {value!r} has no analyte")
    a = analyte(str(name))
    unit = _cell(row["unit"])
    if unit is None and a.internal_unit != "pH":
        raise UnitError(f"{a.name} {value} has no unit; accepted units: {', '.join(a.units)}")
    loinc = _cell(row.get("loinc")) or _loinc_in(str(name), a)
    return LabValue(analyte=a.name, value=value, unit=unit or "pH", loinc=str(loinc))


def _agreed(pid: str, column: str, numbered: list[tuple[int, Row]]) -> Any:
    """The one value a demographic column has over a patient's rows (None if never given)."""
    given = [(n, v) for n, row in numbered if (v := _cell(row.get(column))) is not None]
    for number, value in given[1:]:
        if str(value).casefold() != str(given[0][1]).casefold():
            raise UserInputError(
                f"patient {pid!r}: {column} is {given[0][1]!r} in row {given[0][0]} "
                f"but {value!r} in row {number}"
            )
    return given[0][1] if given else None


_READERS: Mapping[str, Callable[[Path], list[PatientLabs]]] = {
    ".json": _read_json,
    ".csv": _read_csv,
    ".parquet": _read_parquet,
}
