"""Reading T50 plates: long CSV/Parquet, BMG MARS table view, layouts; every malformed file is
refused with a message naming its line (or row) and well."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mgckd.cpp import analyze_plate, read_layout, read_plate, synthetic_plate, well_label
from mgckd.exceptions import InputFileError, MissingColumnError, UserInputError

DATA = Path(__file__).resolve().parent / "data"
ROWCOL = DATA / "t50_mars_rowcol.csv"
SEMICOLON = DATA / "t50_mars_semicolon.txt"


def long_frame(seed: int = 0) -> pd.DataFrame:
    plate, _ = synthetic_plate(n_samples=4, replicates=2, rng=np.random.default_rng(seed))
    frame = pd.DataFrame(
        {
            "well": np.repeat(plate.wells, plate.time_min.size),
            "time_min": np.tile(plate.time_min, len(plate.wells)),
            "signal": plate.signal.ravel(),
            "sample": np.repeat(plate.content, plate.time_min.size),
        }
    )
    return frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)  # any row order


def test_well_labels() -> None:
    assert [well_label(x) for x in ("a1", "A01", " p24 ", "H012")] == ["A01", "A01", "P24", "H12"]
    assert [well_label(x) for x in ("Q1", "A0", "A25", "AA1", "1A", "")] == [None] * 6


def test_long_csv_round_trip(tmp_path: Path) -> None:
    frame = long_frame()
    path = tmp_path / "plate.csv"
    frame.to_csv(path, index=False)
    plate = read_plate(path)
    expected, _ = synthetic_plate(n_samples=4, replicates=2, rng=np.random.default_rng(0))
    assert plate.format == "long"
    assert plate.wells == expected.wells
    assert plate.content == expected.content
    np.testing.assert_allclose(plate.time_min, expected.time_min)
    np.testing.assert_allclose(plate.signal, expected.signal, rtol=1e-12)


def test_long_parquet_and_time_in_seconds(tmp_path: Path) -> None:
    frame = long_frame().rename(columns={"time_min": "time_s"})
    frame["time_s"] *= 60.0
    path = tmp_path / "plate.parquet"
    frame.to_parquet(path)
    plate = read_plate(path)
    assert plate.time_min[-1] == pytest.approx(600.0)
    assert plate.signal.shape == (8, 121)


def test_long_semicolon_decimal_comma_and_overflow(tmp_path: Path) -> None:
    path = tmp_path / "plate.csv"
    rows = ["Well;Time_min;Signal"]
    rows += [f"A1;{t};{1000 + t:.1f}".replace(".", ",") for t in range(0, 600, 5)]
    rows[-1] = "A1;595;overflow"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    plate = read_plate(path, format="long")
    assert plate.signal[0, 1] == 1005.0
    assert plate.overflow[0, -1]
    assert np.isnan(plate.signal[0, -1])


def _write_long(tmp_path: Path, frame: pd.DataFrame) -> Path:
    path = tmp_path / "bad.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.assign(signal=f["signal"].astype(object)).pipe(
            lambda g: g.assign(signal=["abc" if i == 15 else v for i, v in enumerate(g["signal"])])
        ), r"bad\.csv: line 17, well \w\d\d: reading 'abc' is not a number"),
        (lambda f: f.assign(well=["B3" if i != 15 else "Z9" for i in range(len(f))]),
         r"line 17: unknown well label 'Z9'"),
        (lambda f: pd.concat([f, f.iloc[[3]]]),
         r"duplicate time: well \w\d\d has two readings at [\d.]+ min \(lines 5, 970\)"),
        (lambda f: f.drop(index=[10]),
         r"well \w\d\d has no reading at [\d.]+ min \(other wells have one\)"),
        (lambda f: f.drop(columns=["time_min"]), r"missing or ambiguous: one of time_min"),
        (lambda f: f.assign(time_min=["x" if i == 0 else v for i, v in enumerate(f["time_min"])]),
         r"line 2, well \w\d\d: time_min 'x' is not a number"),
        (lambda f: f.assign(sample=["other" if i == 20 else v for i, v in enumerate(f["sample"])]),
         r"line 22, well \w\d\d: sample 'other' differs"),
    ],
)  # fmt: skip
def test_malformed_long_files_name_the_line_and_well(
    tmp_path: Path, change: object, message: str
) -> None:
    frame = change(long_frame())  # type: ignore[operator]
    with pytest.raises(InputFileError, match=message):
        read_plate(_write_long(tmp_path, frame))


def test_missing_column_is_its_own_error(tmp_path: Path) -> None:
    with pytest.raises(MissingColumnError, match="missing or ambiguous: signal"):
        read_plate(_write_long(tmp_path, long_frame().drop(columns=["signal"])), format="long")


def test_mars_table_view_with_well_row_and_column() -> None:
    plate = read_plate(ROWCOL)
    assert plate.format == "mars"
    assert plate.wells == ("A01", "A02", "A03", "B01", "B02", "C01")
    assert plate.content[:4] == ("Sample X1", "Sample X1", "Sample X1", "Sample X2")
    np.testing.assert_array_equal(plate.time_min, np.arange(0.0, 601.0, 30.0))
    assert plate.signal[0, 10] == 8000.0  # A1 at 5 h: the half-way of a T50 = 300 curve
    assert plate.overflow.sum() == 1
    assert plate.overflow[4, -1]
    assert plate.metadata["Read mode"] == "Nephelometry"
    assert plate.metadata["Test name"] == "T50 small"
    assert plate.metadata["Path"].endswith("NEPHELOstar\\User\\Data\\")


def test_mars_semicolon_seconds_decimal_comma_bom_crlf() -> None:
    plate = read_plate(SEMICOLON)
    assert plate.wells == ("A01", "A02", "H12")  # plate order, not file order
    np.testing.assert_array_equal(plate.time_min, np.arange(0.0, 601.0, 30.0))
    assert plate.signal[0, 0] == pytest.approx(1800.3)
    assert plate.metadata["Test ID"] == "4609"


def test_mars_files_give_the_t50s_they_were_made_with() -> None:
    wells = analyze_plate(read_plate(ROWCOL)).wells.set_index("well")
    np.testing.assert_allclose(
        wells.loc[["A01", "A02", "A03", "B01", "B02"], "t50_min"],
        [300.0, 305.0, 295.0, 420.0, 425.0],
        atol=0.05,
    )
    assert "overflow" in wells.loc["B02", "flags"]
    wells = analyze_plate(read_plate(SEMICOLON)).wells.set_index("well")
    np.testing.assert_allclose(wells["t50_min"], [250.0, 255.0, 510.0], atol=0.05)


MARS_TITLE = "Well,Content,Raw Data (Nephelometry),Raw Data (Nephelometry),Raw Data (Nephelometry)"


def _mars(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "mars.csv"
    header = ["User: USER,Path: C:\\BMG\\NEPHELOstar\\User\\Data,Test run no.: 1", "Nephelometry"]
    path.write_text("\n".join([*header, *lines]) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ((MARS_TITLE, ",Time,0 min,5 min,10 min", "A01,X,1,2,3", "B03,X,1,2x,3"),
         r"mars\.csv: line 6, well B03, time 5 min: reading '2x' is not a number"),
        ((MARS_TITLE, ",Time,0 min,5 min,10 min", "A01,X,1,2,3", "Q03,X,1,2,3"),
         r"line 6: unknown well label 'Q03'"),
        ((MARS_TITLE, ",Time,0 min,5 min,5 min", "A01,X,1,2,3"),
         r"line 4: duplicate time 5 min in columns 4, 5"),
        ((MARS_TITLE, ",Time,0 min,5 min,10 min", "A01,X,1,2,3", "A01,X,1,2,3"),
         r"well A01 appears twice \(lines 5 and 6\)"),
        ((MARS_TITLE, ",Time,0 min,5 min,10 min", "A01,X,1,2"),
         r"line 5, well A01: 2 readings, the Time line has 3"),
        ((MARS_TITLE, "A01,X,1,2,3"), r"line 4: no Time line .* endpoint read"),
        ((MARS_TITLE, ",Wavelength [nm],260,261,262", "A01,X,1,2,3"), r"spectral scan"),
        ((MARS_TITLE, ",Time,0,5,10", "A01,X,1,2,3"),
         r"line 4, column 3: time '0' is a bare number under a 'Time' label without a unit"),
        ((MARS_TITLE, ",Time,0 min,soon,10 min", "A01,X,1,2,3"),
         r"line 4, column 4: time 'soon' is not a time"),
        (("Well,Content,Raw Data (A),Raw Data (B)", ",Time,0 min,5 min", "A01,X,1,2"),
         r"line 3: the table holds several reads \(Raw Data \(A\); Raw Data \(B\)\)"),
        ((MARS_TITLE,), r"line 3: the file ends before the Time line"),
    ],
)  # fmt: skip
def test_malformed_mars_files_name_the_line_and_well(
    tmp_path: Path, lines: tuple[str, ...], message: str
) -> None:
    with pytest.raises(InputFileError, match=message):
        read_plate(_mars(tmp_path, *lines), format="mars")


def test_mars_time_labels_in_a_bracketed_unit(tmp_path: Path) -> None:
    path = _mars(tmp_path, MARS_TITLE, ",Time [h],0,0.5,1", "A01,X,1,2,3")
    np.testing.assert_array_equal(read_plate(path).time_min, [0.0, 30.0, 60.0])
    path = _mars(tmp_path, MARS_TITLE, ",Time,0 h ,1 h 1 min 30 s,2 h", "A01,X,1,2,3")
    np.testing.assert_array_equal(read_plate(path).time_min, [0.0, 61.5, 120.0])


def test_unknown_format_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello\nworld\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="not a format mgckd reads as a T50 plate"):
        read_plate(path)
    with pytest.raises(InputFileError, match="no such file"):
        read_plate(tmp_path / "absent.csv")
    with pytest.raises(InputFileError, match="format 'xlsx' is not one of"):
        read_plate(ROWCOL, format="xlsx")  # type: ignore[arg-type]


def test_layout(tmp_path: Path) -> None:
    path = tmp_path / "layout.csv"
    path.write_text("well,sample,note\nA1,s1,x\nA02,s1,\nB1,,empty\n", encoding="utf-8")
    assert read_layout(path) == {"A01": "s1", "A02": "s1", "B01": ""}
    path.write_text("well,sample\nA1,s1\nA01,s2\n", encoding="utf-8")
    with pytest.raises(InputFileError, match=r"well A01 is listed twice \(lines 2 and 3\)"):
        read_layout(path)
    path.write_text("well,sample\nA1,s1\nZZ,s2\n", encoding="utf-8")
    with pytest.raises(UserInputError, match=r"line 3: unknown well label 'ZZ'"):
        read_layout(path)
    path.write_text("position,sample\nA1,s1\n", encoding="utf-8")
    with pytest.raises(MissingColumnError, match="missing: well"):
        read_layout(path)
