"""The cohort the outcome layer applies effect sizes to: one array per field, one entry per patient.

A cohort is plain data — measured labs, a virtual cohort, or a summary (baseline or time-averaged
value) of simulated trajectories. Values are in mgckd's internal units; column names say which.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from mgckd.exceptions import (
    ImplausibleValueError,
    InputFileError,
    MissingColumnError,
    UserInputError,
)
from mgckd.labs import Dialysis, PatientLabs, lab_column, limits, unit_mixup_hint
from mgckd.units import analyte, convert

COHORT_COLUMNS = (
    "patient_id",
    "dialysis",
    "diabetes",
    "egfr_ml_min_1_73m2",
    "mg_mmol_l",
    "phosphate_mmol_l",
    "t50_min",
)
"""Columns `Cohort.from_frame` reads (docs/outcomes.md#cohorts); others are ignored."""
LAB_FIELDS = {"mg_mmol_l": "magnesium", "phosphate_mmol_l": "phosphate"}
"""Cohort fields that are lab analytes (checked against the labs layer's plausibility limits)."""
_DIALYSIS = tuple(d.value for d in Dialysis)
_YES = ("yes", "true", "1", "1.0", "y")
_NO = ("no", "false", "0", "0.0", "n")
_UNKNOWN = ("", "nan", "none", "na", "<na>")


def _floats(values: ArrayLike | None, name: str, n: int) -> NDArray[np.float64] | None:
    if values is None:
        return None
    try:
        array = np.asarray(values, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise UserInputError(f"{name}: values must be numbers (empty for not measured)") from None
    if array.size != n:
        raise UserInputError(f"{name} has {array.size} values for {n} patients")
    return array


def _diabetes(values: ArrayLike | None, ids: tuple[str, ...]) -> NDArray[np.float64]:
    """1 (yes), 0 (no) or NaN (unknown) per patient."""
    n = len(ids)
    if values is None:
        return np.full(n, np.nan)
    array = np.asarray(values).reshape(-1)
    if array.size != n:
        raise UserInputError(f"diabetes has {array.size} values for {n} patients")
    if array.dtype.kind in "biuf":
        out = array.astype(np.float64)
        bad = ~np.isnan(out) & ~np.isin(out, (0.0, 1.0))
    else:
        words = pd.Series(array, dtype=object).fillna("").astype(str).str.strip().str.lower()
        yes, no = words.isin(_YES).to_numpy(), words.isin(_NO).to_numpy()
        out = np.where(yes, 1.0, np.where(no, 0.0, np.nan))
        bad = ~(yes | no | words.isin(_UNKNOWN).to_numpy())
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise UserInputError(
            f"patient {ids[i]!r}: diabetes {str(array[i])!r} is not yes/no, true/false, 1/0 "
            "or empty"
        )
    return out


@dataclass(frozen=True, slots=True)
class Cohort:
    """Patients, one entry per patient in every array.

    Attributes
    ----------
    dialysis : ``none``, ``hemodialysis`` or ``peritoneal_dialysis`` (`mgckd.labs.Dialysis`).
    patient_id : identifiers (default ``patient-1``, ``patient-2``, ...); unique.
    diabetes : 1 yes, 0 no, NaN unknown (input: booleans, yes/no, true/false, 1/0, empty).
    egfr_ml_min_1_73m2 : eGFR [mL/min/1.73 m²], NaN where unknown.
    mg_mmol_l : serum total Mg [mmol/L] (pre-dialysis in hemodialysis), NaN where not measured.
    phosphate_mmol_l : serum phosphate [mmol/L].
    t50_min : serum calcification propensity T50 [min].

    A field left None is absent (an effect that needs it refuses with the field's name). Lab
    values outside the labs layer's hard plausibility limits are refused, naming the patient.

    Examples
    --------
    >>> cohort = Cohort(dialysis=["hemodialysis"] * 2, mg_mmol_l=[0.9, 1.2])
    >>> cohort.patient_id, cohort.n
    (('patient-1', 'patient-2'), 2)
    """

    dialysis: NDArray[np.str_]
    patient_id: tuple[str, ...] = ()
    diabetes: NDArray[np.float64] | None = None
    egfr_ml_min_1_73m2: NDArray[np.float64] | None = None
    mg_mmol_l: NDArray[np.float64] | None = None
    phosphate_mmol_l: NDArray[np.float64] | None = None
    t50_min: NDArray[np.float64] | None = None

    def __post_init__(self) -> None:
        dialysis = np.asarray(self.dialysis, dtype=str).reshape(-1)
        n = dialysis.size
        if n == 0:
            raise UserInputError("the cohort has no patients")
        ids = tuple(str(i) for i in self.patient_id) or tuple(
            f"patient-{i}" for i in range(1, n + 1)
        )
        if len(ids) != n:
            raise UserInputError(f"patient_id has {len(ids)} values for {n} patients")
        if len(set(ids)) != n:
            repeated = sorted({i for i in ids if ids.count(i) > 1})[0]
            raise UserInputError(f"patient_id {repeated!r} appears more than once")
        unknown = ~np.isin(dialysis, _DIALYSIS)
        if unknown.any():
            i = int(np.flatnonzero(unknown)[0])
            raise UserInputError(
                f"patient {ids[i]!r}: dialysis {str(dialysis[i])!r} is not one of "
                f"{', '.join(_DIALYSIS)}"
            )
        object.__setattr__(self, "dialysis", dialysis)
        object.__setattr__(self, "patient_id", ids)
        object.__setattr__(self, "diabetes", _diabetes(self.diabetes, ids))
        for name in ("egfr_ml_min_1_73m2", "mg_mmol_l", "phosphate_mmol_l", "t50_min"):
            object.__setattr__(self, name, _floats(getattr(self, name), name, n))
        self._check_values()

    def _check_values(self) -> None:
        for name, low, what in (
            ("egfr_ml_min_1_73m2", 0.0, "an eGFR cannot be negative"),
            ("t50_min", np.finfo(np.float64).tiny, "a T50 is a positive time"),
        ):
            values = getattr(self, name)
            if values is not None:
                self._refuse(name, values, ~(values >= low) & ~np.isnan(values), what)
        for name, lab in LAB_FIELDS.items():
            values = getattr(self, name)
            if values is None:
                continue
            bounds = limits(lab)
            self._refuse(
                name,
                values,
                ~np.isnan(values) & ((values < bounds.hard[0]) | (values > bounds.hard[1])),
                f"outside the plausible range {bounds.hard[0]:g}-{bounds.hard[1]:g} {bounds.unit}",
                lab=lab,
            )

    def _refuse(
        self,
        name: str,
        values: NDArray[np.float64],
        bad: NDArray[np.bool_],
        why: str,
        *,
        lab: str | None = None,
    ) -> None:
        if not bad.any():
            return
        i = int(np.flatnonzero(bad)[0])
        hint = unit_mixup_hint(lab, float(values[i]), analyte(lab).internal_unit) if lab else None
        more = f" ({int(bad.sum())} patients in all)" if bad.sum() > 1 else ""
        raise ImplausibleValueError(
            f"patient {self.patient_id[i]!r}: {name} {values[i]:g} is {why}{more}"
            + (f"; {hint}" if hint else "")
        )

    @property
    def n(self) -> int:
        """Number of patients."""
        return int(self.dialysis.size)

    def take(self, index: ArrayLike) -> Cohort:
        """The patients at `index` (integer positions or a boolean mask), fields kept.

        Examples
        --------
        >>> Cohort(dialysis=["none", "hemodialysis"]).take([1]).patient_id
        ('patient-2',)
        """
        rows = np.arange(self.n)[np.asarray(index)]
        kept: dict[str, Any] = {
            f.name: None if getattr(self, f.name) is None else getattr(self, f.name)[rows]
            for f in fields(self)
            if f.name != "patient_id"
        }
        ids = np.asarray(self.patient_id, dtype=object)[rows]
        return Cohort(patient_id=tuple(ids), **kept)

    def column(self, name: str) -> NDArray[np.float64] | None:
        """A numeric field by name (None when the cohort lacks it)."""
        values: NDArray[np.float64] | None = getattr(self, name)
        return values

    def unit_mixups(self, name: str) -> tuple[int, str]:
        """How many values of lab field `name` lie outside the labs layer's soft range yet read
        as ordinary values in another unit (e.g. Mg in mg/dL given as mmol/L), and a sentence
        about the first ('' when none)."""
        values = self.column(name)
        lab = LAB_FIELDS.get(name)
        if values is None or lab is None:
            return 0, ""
        soft = limits(lab).soft
        unit = analyte(lab).internal_unit
        outside = ~np.isnan(values) & ((values < soft[0]) | (values > soft[1]))
        ordinary = np.zeros(values.shape, dtype=bool)
        for other in analyte(lab).units:
            if other != unit:
                reread = convert(values, other, unit, analyte=lab)
                ordinary |= (reread >= soft[0]) & (reread <= soft[1])
        suspect = np.flatnonzero(outside & ordinary)
        if not suspect.size:
            return 0, ""
        i = int(suspect[0])
        hint = unit_mixup_hint(lab, float(values[i]), unit)
        return int(suspect.size), (
            f"patient {self.patient_id[i]!r}: {name} {values[i]:g} is outside the usual range "
            f"{soft[0]:g}-{soft[1]:g} {unit}; {hint}"
        )

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> Cohort:
        """A cohort from a table with the `COHORT_COLUMNS` (``dialysis`` required).

        Raises
        ------
        MissingColumnError
            Without a ``dialysis`` column.
        UserInputError, ImplausibleValueError
            Naming the patient, the column and the value.
        """
        if "dialysis" not in frame.columns:
            raise MissingColumnError(
                f"no 'dialysis' column (none, hemodialysis or peritoneal_dialysis); cohort "
                f"columns: {', '.join(COHORT_COLUMNS)}; present: "
                f"{', '.join(map(str, frame.columns))}"
            )
        arguments: dict[str, Any] = {
            "dialysis": frame["dialysis"].fillna("").astype(str).str.strip().to_numpy(),
        }
        if "patient_id" in frame.columns:
            arguments["patient_id"] = tuple(frame["patient_id"].astype(str).str.strip())
        if "diabetes" in frame.columns:
            arguments["diabetes"] = frame["diabetes"].to_numpy(dtype=object)
        for name in COHORT_COLUMNS[3:]:
            if name in frame.columns:
                arguments[name] = _numeric(frame, name)
        return cls(**arguments)

    @classmethod
    def from_patients(
        cls, patients: Sequence[PatientLabs], *, egfr_ml_min_1_73m2: ArrayLike | None = None
    ) -> Cohort:
        """A cohort from lab records (`mgckd.labs.PatientLabs`), with their eGFR if computed."""
        return cls(
            dialysis=np.array([p.dialysis.value for p in patients]),
            patient_id=tuple(p.patient_id for p in patients),
            diabetes=np.array(
                [np.nan if p.diabetes is None else float(p.diabetes) for p in patients]
            ),
            egfr_ml_min_1_73m2=None
            if egfr_ml_min_1_73m2 is None
            else np.asarray(egfr_ml_min_1_73m2, dtype=np.float64),
            mg_mmol_l=lab_column(patients, "magnesium"),
            phosphate_mmol_l=lab_column(patients, "phosphate"),
        )

    def to_frame(self) -> pd.DataFrame:
        """The cohort as a table in the `COHORT_COLUMNS` (absent fields left out)."""
        columns: dict[str, Any] = {"patient_id": list(self.patient_id), "dialysis": self.dialysis}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in COHORT_COLUMNS[2:] and value is not None:
                columns[f.name] = value
        return pd.DataFrame(columns)


def _numeric(frame: pd.DataFrame, name: str) -> NDArray[np.float64]:
    values = pd.to_numeric(frame[name], errors="coerce")
    bad = values.isna() & frame[name].notna() & (frame[name].astype(str).str.strip() != "")
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0]) + 1
        raise InputFileError(
            f"row {row}, column {name!r}: {frame[name].iloc[row - 1]!r} is not a number"
        )
    return values.to_numpy(dtype=np.float64)


def read_cohort(path: str | Path) -> Cohort:
    """Read a cohort table (.csv, UTF-8, or .parquet) with the `COHORT_COLUMNS`.

    Errors name the file and the row or patient.
    """
    file = Path(path)
    if not file.is_file():
        raise InputFileError(f"{file}: no such file")
    suffix = file.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise InputFileError(f"{file}: a cohort is a .csv or .parquet table")
    try:
        if suffix == ".csv":
            text_columns = {"patient_id": str, "dialysis": str, "diabetes": str}
            frame = pd.read_csv(
                file, dtype=text_columns, encoding="utf-8-sig", keep_default_na=True
            )
        else:
            frame = pd.read_parquet(file)
    except (OSError, ValueError, UnicodeDecodeError) as error:
        raise InputFileError(f"{file}: cannot be read ({' '.join(str(error).split())})") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    try:
        return Cohort.from_frame(frame)
    except UserInputError as error:
        raise type(error)(f"{file}: {error}") from None
