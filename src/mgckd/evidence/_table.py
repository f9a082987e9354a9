"""Read a user's registry table: find the Mg and phosphate columns, take their units, convert.

Units are never guessed: a lab column carries its unit in the header (``mg [mg/dL]``, as in
docs/inputs.md) or the caller names it (``mg_unit=``); both at once must agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mgckd.exceptions import (
    ImplausibleValueError,
    InputFileError,
    MissingColumnError,
    UnitError,
    UserInputError,
)
from mgckd.labs import limits
from mgckd.units import analyte, convert

_UNIT_IN_HEADER = re.compile(r"^(?P<name>[^\[\]]*?)\s*\[(?P<unit>[^\[\]]*)\]$")
MG_COLUMN = "mg_mmol_l"
"""Column `prepare_registry` adds: serum total Mg in mmol/L."""
PHOSPHATE_COLUMN = "phosphate_mmol_l"
"""Column `prepare_registry` adds: serum phosphate in mmol/L."""


@dataclass(frozen=True, slots=True)
class LabColumn:
    """Where an analyte was found in a table and in which unit it was read."""

    analyte: str
    header: str
    unit: str
    soft_outside: int


def _split(header: str) -> tuple[str, str | None]:
    match = _UNIT_IN_HEADER.match(str(header).strip())
    if match is None:
        return str(header).strip(), None
    return match["name"].strip(), match["unit"].strip() or None


def _is(name: str, wanted: str) -> bool:
    try:
        return analyte(name).name == wanted
    except UserInputError:
        return False


def _find(frame: pd.DataFrame, wanted: str, option: str | None, flag: str) -> tuple[str, str]:
    found = [c for c in frame.columns if _is(_split(c)[0], wanted)]
    if not found:
        a = analyte(wanted)
        raise MissingColumnError(
            f"no {wanted} column: name one e.g. '{a.aliases[0] if a.aliases else wanted} "
            f"[{a.units[0]}]' (accepted names: {', '.join((a.name, *a.aliases))}); "
            f"columns present: {', '.join(map(str, frame.columns))}"
        )
    if len(found) > 1:
        raise UserInputError(f"columns {found!r} are all {wanted}; keep one")
    header = str(found[0])
    in_header = _split(header)[1]
    if in_header is None and option is None:
        raise UnitError(
            f"column {header!r} has no unit: write it in the header, e.g. "
            f"'{_split(header)[0]} [mg/dL]', or pass {flag}"
        )
    if in_header is not None and option is not None and in_header != option:
        raise UnitError(f"column {header!r} says {in_header} but {flag} says {option}")
    unit = in_header if in_header is not None else str(option)
    return header, unit


def _convert_column(frame: pd.DataFrame, header: str, unit: str, name: str) -> LabColumn:
    raw = pd.to_numeric(frame[header], errors="coerce")
    bad = raw.isna() & frame[header].notna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0]) + 1
        raise InputFileError(
            f"row {row}, column {header!r}: {frame[header].iloc[row - 1]!r} is not a number"
        )
    values = convert(
        raw.to_numpy(dtype=np.float64), unit, analyte(name).internal_unit, analyte=name
    )
    bounds = limits(name)
    finite = np.isfinite(values)
    hard = finite & ((values < bounds.hard[0]) | (values > bounds.hard[1]))
    if hard.any():
        row = int(np.flatnonzero(hard)[0]) + 1
        raise ImplausibleValueError(
            f"row {row}, column {header!r}: {raw.iloc[row - 1]:g} {unit} is outside the plausible "
            f"range {bounds.hard[0]:g}-{bounds.hard[1]:g} {bounds.unit}"
            + (f" ({int(hard.sum())} rows in all); is the unit right?" if hard.sum() > 1 else "")
        )
    soft = finite & ((values < bounds.soft[0]) | (values > bounds.soft[1]))
    frame[MG_COLUMN if name == "magnesium" else PHOSPHATE_COLUMN] = values
    return LabColumn(analyte=name, header=header, unit=unit, soft_outside=int(soft.sum()))


def prepare_registry(
    table: pd.DataFrame, *, mg_unit: str | None = None, phosphate_unit: str | None = None
) -> tuple[pd.DataFrame, tuple[LabColumn, LabColumn]]:
    """Find and convert the Mg and phosphate columns of a registry table.

    Parameters
    ----------
    table : one row per patient; a serum Mg column (``mg``, ``magnesium`` or another alias) and
        a phosphate column (``phosphate``, ``p``, ``pi``, ``phosphorus``), each with its unit in
        the header (``mg [mg/dL]``) unless given below.
    mg_unit, phosphate_unit : the unit of a column whose header has none.

    Returns
    -------
    A copy of the table with `MG_COLUMN` and `PHOSPHATE_COLUMN` (mmol/L) added, and where each
    was found (with the count of values outside the soft plausibility range).

    Raises
    ------
    MissingColumnError, UnitError, ImplausibleValueError, InputFileError
        A missing column, a unit missing or conflicting or not fitting the analyte, a value
        outside the hard plausibility limits (naming the row), a cell that is not a number.
    """
    frame = table.copy()
    found = []
    for name, option, flag in (
        ("magnesium", mg_unit, "--mg-unit"),
        ("phosphate", phosphate_unit, "--phosphate-unit"),
    ):
        header, unit = _find(frame, name, option, flag)
        found.append(_convert_column(frame, header, unit, name))
    return frame, (found[0], found[1])


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV (UTF-8) or Parquet table; `InputFileError` names the file when it cannot."""
    file = Path(path)
    if not file.is_file():
        raise InputFileError(f"{file}: no such file")
    suffix = file.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise InputFileError(f"{file}: not a table mgckd reads; accepted: .csv, .parquet")
    try:
        if suffix == ".csv":
            return pd.read_csv(file, encoding="utf-8-sig")
        return pd.read_parquet(file)
    except (OSError, ValueError, UnicodeDecodeError) as error:
        raise InputFileError(f"{file}: cannot be read ({error})") from None
