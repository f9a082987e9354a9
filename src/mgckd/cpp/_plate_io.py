"""Reading T50 plates: the long table (CSV/Parquet), the BMG MARS table view, and a layout CSV.

Every reader returns a `PlateReadings`: one shared time axis and one row of readings per well, in
plate order (A01, A02, …, P24). A file that cannot be read as asked is refused with an
`InputFileError` that names the line (or Parquet row), the well and what is accepted. The formats,
and what is not supported, are documented in docs/t50.md#input-formats.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, get_args

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mgckd.exceptions import InputFileError, MissingColumnError

FloatArray = NDArray[np.float64]
PlateFormat = Literal["auto", "long", "mars"]
PLATE_FORMATS: tuple[str, ...] = get_args(PlateFormat)

ROWS = "ABCDEFGHIJKLMNOP"  # 384-well plates: rows A-P, columns 1-24
MAX_COLUMN = 24
OVERFLOW = "overflow"  # what MARS writes for a saturated reading
_WELL = re.compile(r"^([A-Za-z])0*(\d{1,2})$")
_DELIMITERS = (",", ";", "\t")
_MINUTES_PER = {"s": 1.0 / 60.0, "min": 1.0, "h": 60.0}
_TIME_COLUMNS = {"time_min": 1.0, "time_s": 1.0 / 60.0, "time_h": 60.0}
_LONG_REQUIRED = ("well", "signal")
_TIME_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(h|min|s)\b")
_TIME_LABEL = re.compile(r"^(\d+(?:\.\d+)?\s*(?:h|min|s)\s*)+$")
_AXIS_UNIT = re.compile(r"^time\s*(?:\[\s*(h|min|s)\s*\])?$", re.IGNORECASE)


@dataclass(frozen=True)
class PlateReadings:
    """One plate's kinetic readings on a shared time axis.

    Attributes
    ----------
    time_min : shape (n_t,), reading times, min, strictly increasing.
    signal : shape (n_wells, n_t), readings (signal units of the reader, e.g. RNU); NaN where the
        reader reported an overflow.
    wells : well labels in plate order, as ``A01`` … ``P24``.
    content : per well, the sample label the file gives (MARS ``Content``, long ``sample``), or
        ``""``.
    overflow : shape (n_wells, n_t), True where the reading was ``overflow``.
    source : the file name.
    format : ``"long"`` or ``"mars"``.
    metadata : the MARS header pairs (``User``, ``Test name``, ``Date``, ``ID1`` …, ``Read mode``).
    """

    time_min: FloatArray
    signal: FloatArray
    wells: tuple[str, ...]
    content: tuple[str, ...]
    overflow: NDArray[np.bool_]
    source: str
    format: str
    metadata: Mapping[str, str] = field(default_factory=dict)


def well_label(text: str) -> str | None:
    """``"B3"``, ``"b03"`` → ``"B03"``; None when not a well of a 96- or 384-well plate.

    >>> well_label("b3"), well_label("P24"), well_label("Q01"), well_label("A25")
    ('B03', 'P24', None, None)
    """
    match = _WELL.match(text.strip())
    if match is None:
        return None
    row, column = match.group(1).upper(), int(match.group(2))
    if row not in ROWS or not 1 <= column <= MAX_COLUMN:
        return None
    return f"{row}{column:02d}"


def _plate_order(label: str) -> tuple[int, int]:
    return ROWS.index(label[0]), int(label[1:])


def _unknown_well(text: str, where: str) -> InputFileError:
    return InputFileError(
        f"{where}: unknown well label {text!r}; wells are A01-P24 (row letter A-P, column 1-24)"
    )


def read_plate(path: str | Path, *, format: PlateFormat = "auto") -> PlateReadings:
    """Read a T50 plate from a long CSV/Parquet table or a BMG MARS table-view export.

    Parameters
    ----------
    path : the file.
    format : ``"long"``, ``"mars"`` or ``"auto"`` (Parquet is long; a text file whose first line
        names the columns ``well`` and ``signal`` is long; one with a MARS ``Well``/``Well Row``
        title line is MARS).

    Raises
    ------
    InputFileError
        The file is missing or cannot be read as asked; the message names the line (or Parquet
        row), the well and what is accepted.
    """
    file = Path(path)
    if format not in PLATE_FORMATS:
        raise InputFileError(f"format {format!r} is not one of {', '.join(PLATE_FORMATS)}")
    if not file.is_file():
        raise InputFileError(f"{file}: no such file")
    if file.suffix.lower() in (".parquet", ".pq"):
        if format == "mars":
            raise InputFileError(f"{file}: a MARS export is text (CSV/TXT), not Parquet")
        return _read_long_parquet(file)
    text = _read_text(file)
    chosen = _sniff(file, text) if format == "auto" else format
    try:
        return _read_long_text(file, text) if chosen == "long" else _read_mars(file, text)
    except InputFileError as error:
        raise type(error)(f"{file.name}: {error}") from None


def _read_text(file: Path) -> str:
    data = file.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")  # MARS on Windows without UTF-8


def _first_cells(line: str) -> list[str]:
    delimiter = max(_DELIMITERS, key=line.count)
    return [cell.strip().strip('"').strip() for cell in line.split(delimiter)]


def _is_mars_title(cells: Sequence[str]) -> bool:
    first = [c.lower() for c in cells[:3]]
    return first[:1] == ["well"] or first[:2] == ["well row", "well col"]


def _sniff(file: Path, text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip(" ,;\t")]
    if lines:
        header = {c.lower() for c in _first_cells(lines[0])}
        if set(_LONG_REQUIRED) <= header:
            return "long"
        if lines[0].lstrip().startswith("User:") or any(
            _is_mars_title(_first_cells(line)) for line in lines[:200]
        ):
            return "mars"
    raise InputFileError(
        f"{file.name}: not a format mgckd reads as a T50 plate: neither a long table (columns "
        "well, time_min, signal) nor a BMG MARS table view (a 'Well' or 'Well Row,Well Col' title "
        "line with 'Content' and a 'Time' line); see docs/t50.md#input-formats or give --format"
    )


# --- numbers ------------------------------------------------------------------------------------


def _numbers(cells: pd.Series, *, decimal_comma: bool) -> tuple[FloatArray, NDArray[np.bool_]]:
    """Cells as floats (NaN where not a number) and the mask of ``overflow`` cells."""
    text = cells.astype(str).str.strip()
    if decimal_comma:
        text = text.str.replace(",", ".", regex=False)
    overflow = text.str.lower().eq(OVERFLOW).to_numpy()
    numeric = pd.to_numeric(text.where(~overflow, "nan"), errors="coerce").to_numpy(np.float64)
    return numeric, overflow


# --- the long table -----------------------------------------------------------------------------


def _read_long_text(file: Path, text: str) -> PlateReadings:
    rows = [
        (number, cells)
        for number, cells in _csv_lines(text, _delimiter_of(text))
        if any(c.strip() for c in cells)
    ]
    if not rows:
        raise InputFileError("the table is empty")
    header = [c.strip().lower() for c in rows[0][1]]
    body = rows[1:]
    columns: dict[str, list[str]] = {}
    for index, name in enumerate(header):
        if name in columns:
            raise InputFileError(f"line {rows[0][0]}: column {name!r} appears twice")
        columns[name] = [cells[index] if index < len(cells) else "" for _, cells in body]
    lines = np.array([number for number, _ in body], dtype=np.int64)
    delimiter = _delimiter_of(text)
    return _long_readings(
        file,
        pd.DataFrame(columns, dtype=object),
        lines,
        where="line",
        decimal_comma=delimiter != ",",
    )


def _read_long_parquet(file: Path) -> PlateReadings:
    try:
        frame = pd.read_parquet(file)
    except (ValueError, OSError) as error:  # pyarrow's ArrowInvalid, ArrowIOError
        raise InputFileError(
            f"{file.name}: not a readable Parquet file: {' '.join(str(error).split())}"
        ) from None
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    try:
        return _long_readings(
            file,
            frame.astype(object),
            np.arange(1, len(frame) + 1, dtype=np.int64),
            where="row",
            decimal_comma=False,
        )
    except InputFileError as error:
        raise type(error)(f"{file.name}: {error}") from None


def _delimiter_of(text: str) -> str:
    first = next((line for line in text.splitlines() if line.strip()), "")
    return max(_DELIMITERS, key=first.count)


def _csv_lines(text: str, delimiter: str) -> list[tuple[int, list[str]]]:
    """(line number, cells) of every record; the line number is where the record starts."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    records = []
    start = 1
    for cells in reader:
        records.append((start, cells))
        start = reader.line_num + 1
    return records


def _long_readings(
    file: Path, frame: pd.DataFrame, lines: NDArray[np.int64], *, where: str, decimal_comma: bool
) -> PlateReadings:
    time_columns = [c for c in _TIME_COLUMNS if c in frame.columns]
    missing = [c for c in _LONG_REQUIRED if c not in frame.columns]
    if missing or len(time_columns) != 1:
        need = [*missing] + ([] if len(time_columns) == 1 else ["one of time_min, time_s, time_h"])
        raise MissingColumnError(
            f"the long table needs columns well, time_min (or time_s, time_h) and signal "
            f"(optional: sample); missing or ambiguous: {', '.join(need)}; columns: "
            f"{', '.join(map(str, frame.columns))}"
        )
    if frame.empty:
        raise InputFileError("the table has a header but no readings")
    labels = frame["well"].astype(str).str.strip()
    wells = labels.map(well_label)
    bad = wells.isna().to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise _unknown_well(labels.iloc[i], f"{where} {lines[i]}")
    wells_array = wells.to_numpy(dtype=object)
    time_column = time_columns[0]
    times, time_overflow = _numbers(frame[time_column], decimal_comma=decimal_comma)
    bad = ~np.isfinite(times) | time_overflow
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputFileError(
            f"{where} {lines[i]}, well {wells_array[i]}: {time_column} "
            f"{frame[time_column].iloc[i]!r} is not a number"
        )
    times = times * _TIME_COLUMNS[time_column]
    signal, overflow = _numbers(frame["signal"], decimal_comma=decimal_comma)
    bad = ~np.isfinite(signal) & ~overflow
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputFileError(
            f"{where} {lines[i]}, well {wells_array[i]}: reading {frame['signal'].iloc[i]!r} is "
            f"not a number (accepted: a number, or '{OVERFLOW}')"
        )
    content = (
        frame["sample"].astype(str).str.strip().replace({"nan": "", "None": ""}).to_numpy(object)
        if "sample" in frame.columns
        else np.full(len(frame), "", dtype=object)
    )
    return _on_grid(
        file=file,
        wells=wells_array,
        times=times,
        signal=signal,
        overflow=overflow,
        content=content,
        lines=lines,
        where=where,
    )


def _on_grid(
    *,
    file: Path,
    wells: NDArray[np.object_],
    times: FloatArray,
    signal: FloatArray,
    overflow: NDArray[np.bool_],
    content: NDArray[np.object_],
    lines: NDArray[np.int64],
    where: str,
) -> PlateReadings:
    """Long rows onto a (well × time) grid; every well must have a reading at every time."""
    table = pd.DataFrame({"well": wells, "time": times, "line": lines, "content": content})
    duplicated = table.duplicated(["well", "time"], keep=False).to_numpy()
    if duplicated.any():
        first = table[duplicated].iloc[0]
        same = table[
            duplicated & (table["well"] == first["well"]) & (table["time"] == first["time"])
        ]
        raise InputFileError(
            f"duplicate time: well {first['well']} has two readings at {first['time']:g} min "
            f"({where}s {', '.join(str(n) for n in same['line'])})"
        )
    samples = table.groupby("well", sort=False)["content"].nunique()
    if (samples > 1).any():
        well = str(samples[samples > 1].index[0])
        rows = table[table["well"] == well]
        other = rows[rows["content"] != rows["content"].iloc[0]].iloc[0]
        raise InputFileError(
            f"{where} {other['line']}, well {well}: sample {other['content']!r} differs from "
            f"{rows['content'].iloc[0]!r} on its earlier {where}s"
        )
    axis = np.unique(times)
    order = sorted(set(wells.tolist()), key=_plate_order)
    well_index = pd.Index(order).get_indexer(wells)
    time_index = np.searchsorted(axis, times)
    grid = np.full((len(order), axis.size), np.nan)
    seen = np.zeros(grid.shape, dtype=bool)
    flagged = np.zeros(grid.shape, dtype=bool)
    grid[well_index, time_index] = signal
    seen[well_index, time_index] = True
    flagged[well_index, time_index] = overflow
    if not seen.all():
        w, t = np.argwhere(~seen)[0]
        raise InputFileError(
            f"well {order[w]} has no reading at {axis[t]:g} min (other wells have one); every "
            "well needs a reading at every time of the plate"
        )
    first_content = table.drop_duplicates("well").set_index("well")["content"]
    return PlateReadings(
        time_min=axis,
        signal=grid,
        wells=tuple(order),
        content=tuple(str(first_content[w]) for w in order),
        overflow=flagged,
        source=file.name,
        format="long",
    )


# --- BMG MARS table view ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Title:
    """The MARS table-view title line, located."""

    line: int  # 1-based line number
    index: int  # position in the record list
    delimiter: str
    well_columns: int  # 1 (``Well``) or 2 (``Well Row``, ``Well Col``)
    content: bool  # a ``Content`` column follows the well columns
    value_columns: list[int]  # the positions of the readings used


def _read_mars(file: Path, text: str) -> PlateReadings:
    delimiter = _mars_delimiter(text)
    records = _csv_lines(text, delimiter)
    cleaned = [(n, [c.strip() for c in cells]) for n, cells in records]
    nonempty = [(n, cells) for n, cells in cleaned if any(cells)]
    title = _mars_title(nonempty, delimiter)
    metadata = _mars_metadata(nonempty[: title.index])
    axis_line, axis_cells = _next_line(nonempty, title.index, "the Time line")
    times = _mars_times(axis_line, axis_cells, title)
    wells: list[str] = []
    content: list[str] = []
    readings: list[list[str]] = []
    lines: list[int] = []
    seen: dict[str, int] = {}
    decimal_comma = delimiter != ","
    first_value = title.value_columns[0]
    for number, cells in nonempty[title.index + 2 :]:
        well = _mars_well(number, cells, title.well_columns)
        if well in seen:
            raise InputFileError(f"well {well} appears twice (lines {seen[well]} and {number})")
        seen[well] = number
        extra = [c for c in cells[title.value_columns[-1] + 1 :] if c]
        if len(cells) <= title.value_columns[-1] or extra:
            given = sum(1 for c in cells[first_value:] if c)
            raise InputFileError(
                f"line {number}, well {well}: {given} readings, the Time line has {len(times)}"
            )
        wells.append(well)
        content.append(cells[title.well_columns] if title.content else "")
        readings.append([cells[i] for i in title.value_columns])
        lines.append(number)
    if not wells:
        raise InputFileError(f"line {title.line}: the table has no well lines")
    flat = pd.Series(np.array(readings, dtype=object).ravel())
    values, overflow = _numbers(flat, decimal_comma=decimal_comma)
    shape = (len(wells), len(times))
    values, overflow = values.reshape(shape), overflow.reshape(shape)
    bad = ~np.isfinite(values) & ~overflow
    if bad.any():
        w, t = np.argwhere(bad)[0]
        raise InputFileError(
            f"line {lines[w]}, well {wells[w]}, time {times[t]:g} min: reading "
            f"{readings[w][t]!r} is not a number (accepted: a number, or '{OVERFLOW}')"
        )
    by_row = sorted(range(len(wells)), key=lambda i: _plate_order(wells[i]))
    time_order = np.argsort(times, kind="stable")
    return PlateReadings(
        time_min=times[time_order],
        signal=values[by_row][:, time_order],
        wells=tuple(wells[i] for i in by_row),
        content=tuple(content[i] for i in by_row),
        overflow=overflow[by_row][:, time_order],
        source=file.name,
        format="mars",
        metadata=metadata,
    )


def _mars_delimiter(text: str) -> str:
    for line in text.splitlines():
        cells = _first_cells(line)
        if _is_mars_title(cells):
            return max(_DELIMITERS, key=line.count)
    raise InputFileError(
        "no MARS table-view title line: a line starting 'Well,Content,…' or "
        "'Well Row,Well Col,Content,…' (export the table view, not the plate view)"
    )


def _mars_title(nonempty: list[tuple[int, list[str]]], delimiter: str) -> _Title:
    for index, (number, cells) in enumerate(nonempty):
        if not _is_mars_title(cells):
            continue
        lowered = [c.lower() for c in cells]
        well_columns = 2 if lowered[:2] == ["well row", "well col"] else 1
        has_content = len(cells) > well_columns and lowered[well_columns] == "content"
        first_value = well_columns + int(has_content)
        titles: list[str] = []
        for cell in cells[first_value:]:
            titles.append(cell or (titles[-1] if titles else ""))
        while titles and not cells[first_value + len(titles) - 1]:
            titles.pop()  # trailing empty cells: no column
        return _Title(
            line=number,
            index=index,
            delimiter=delimiter,
            well_columns=well_columns,
            content=has_content,
            value_columns=_chosen_columns(number, titles, first_value),
        )
    raise InputFileError("no MARS table-view title line")  # _mars_delimiter found one


def _chosen_columns(line: int, titles: list[str], first_value: int) -> list[int]:
    """The value columns of the one read in the table: ``Raw Data (…)`` when present."""
    distinct = list(dict.fromkeys(titles))
    raw = [t for t in distinct if t.lower().startswith("raw data")]
    if len(raw) > 1 or (not raw and len(distinct) > 1):
        raise InputFileError(
            f"line {line}: the table holds several reads ({'; '.join(distinct)}); export one "
            "kinetic read (its Raw Data) per file"
        )
    if not distinct:
        raise InputFileError(f"line {line}: the title line names no value columns")
    chosen = raw[0] if raw else distinct[0]
    return [first_value + i for i, t in enumerate(titles) if t == chosen]


def _mars_metadata(header: list[tuple[int, list[str]]]) -> dict[str, str]:
    """``Key: value`` cells before the table, and the read-mode line (one cell, no colon)."""
    metadata: dict[str, str] = {}
    for _, cells in header:
        filled = [c for c in cells if c]
        if len(filled) == 1 and ":" not in filled[0]:
            metadata.setdefault("Read mode", filled[0])
            continue
        for cell in filled:
            key, colon, value = cell.partition(":")
            if colon:
                metadata[key.strip()] = value.strip()
    return metadata


def _next_line(
    nonempty: list[tuple[int, list[str]]], index: int, what: str
) -> tuple[int, list[str]]:
    if index + 1 >= len(nonempty):
        raise InputFileError(f"line {nonempty[index][0]}: the file ends before {what}")
    return nonempty[index + 1]


def _mars_times(number: int, cells: list[str], title: _Title) -> FloatArray:
    """The Time line: each value column's time in minutes."""
    label_at = title.value_columns[0] - 1
    label = cells[label_at] if label_at < len(cells) else ""
    unit_match = _AXIS_UNIT.match(label)
    if unit_match is None:
        if label.lower().startswith("wavelength"):
            raise InputFileError(
                f"line {number}: a spectral scan ({label!r}), not a kinetic T50 read"
            )
        if well_label(cells[0]) is not None or (title.well_columns == 2 and cells[0]):
            raise InputFileError(
                f"line {number}: no Time line under the title line: an endpoint read, not a "
                "kinetic T50 read"
            )
        raise InputFileError(
            f"line {number}: expected the Time line ('Time', 'Time [s]', 'Time [min]' or "
            f"'Time [h]' under Content), found {label!r}"
        )
    unit = unit_match.group(1)
    times = np.array(
        [
            _mars_time(cells[i] if i < len(cells) else "", unit, number, i + 1)
            for i in title.value_columns
        ]
    )
    sorted_times = np.sort(times)
    repeated = sorted_times[1:][np.diff(sorted_times) == 0]
    if repeated.size:
        columns = [
            i + 1 for i, t in zip(title.value_columns, times, strict=True) if t == repeated[0]
        ]
        raise InputFileError(
            f"line {number}: duplicate time {repeated[0]:g} min in columns "
            f"{', '.join(map(str, columns))}"
        )
    return times


def _mars_time(cell: str, unit: str | None, line: int, column: int) -> float:
    """``"1 h 15 min"``, ``"30 s"``, or a bare number in the axis label's unit → minutes."""
    text = cell.strip()
    if _TIME_LABEL.match(text):
        return sum(float(v) * _MINUTES_PER[u] for v, u in _TIME_PART.findall(text))
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is not None and unit is not None:
        return value * _MINUTES_PER[unit]
    why = (
        "a bare number under a 'Time' label without a unit"
        if value is not None
        else "not a time such as '1 h 15 min', '35 min' or '90 s'"
    )
    raise InputFileError(f"line {line}, column {column}: time {cell!r} is {why}")


def _mars_well(number: int, cells: list[str], well_columns: int) -> str:
    text = "".join(cells[:well_columns])
    label = well_label(text)
    if label is None:
        raise _unknown_well(text, f"line {number}")
    return label


# --- layout -------------------------------------------------------------------------------------


def read_layout(path: str | Path) -> dict[str, str]:
    """A plate layout CSV: which sample each well holds (wells of one sample are replicates).

    Columns ``well`` and ``sample`` (others are ignored); one line per well. A well with an empty
    sample is left out of the sample summary.

    Raises
    ------
    InputFileError
        Missing file or column, an unknown well label or a well listed twice (naming the lines).
    """
    file = Path(path)
    if not file.is_file():
        raise InputFileError(f"{file}: no such file")
    text = _read_text(file)
    rows = [(n, c) for n, c in _csv_lines(text, _delimiter_of(text)) if any(x.strip() for x in c)]
    if not rows:
        raise InputFileError(f"{file.name}: the layout is empty")
    header = [c.strip().lower() for c in rows[0][1]]
    missing = [c for c in ("well", "sample") if c not in header]
    if missing:
        raise MissingColumnError(
            f"{file.name}: the layout needs columns well and sample; missing: "
            f"{', '.join(missing)}; columns: {', '.join(header)}"
        )
    at_well, at_sample = header.index("well"), header.index("sample")
    layout: dict[str, str] = {}
    lines: dict[str, int] = {}
    for number, cells in rows[1:]:
        text = _cell(cells, at_well)
        label = well_label(text)
        if label is None:
            raise _unknown_well(text, f"{file.name}, line {number}")
        if label in layout:
            raise InputFileError(
                f"{file.name}: well {label} is listed twice (lines {lines[label]} and {number})"
            )
        layout[label] = _cell(cells, at_sample)
        lines[label] = number
    return layout


def _cell(cells: list[str], index: int) -> str:
    return cells[index].strip() if index < len(cells) else ""
