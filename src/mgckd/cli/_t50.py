"""``mgckd t50``: the serum calcification-propensity (T50) test.

This module creates the ``t50`` sub-app and its ``analyze`` command. Other ``t50`` commands live
in their own modules, which import `t50_app` and register on it (``@t50_app.command(...)``), and
are added to the import list of ``mgckd/cli/__init__.py``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import numpy as np
import typer
from rich.table import Table

from mgckd._atomic import write_text_atomic
from mgckd.cli._app import app
from mgckd.cli._console import err, out, print_json
from mgckd.cli._meta import save_figure
from mgckd.exceptions import UserInputError

if TYPE_CHECKING:
    from mgckd.cpp import Model, PlateFormat, T50Analysis

t50_app = typer.Typer(
    name="t50",
    help="Serum calcification propensity (T50): analyze nephelometry plates.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(t50_app, name="t50")

WELLS_FILE = "wells.csv"
SAMPLES_FILE = "samples.csv"
PLATE_FIGURE = "plate.png"
_SHOWN_FLAGGED = 12  # wells listed by name under the table when not ok


def _check_output_directory(path: Path) -> None:
    """Refuse an ``--out`` that is a file or whose parent does not exist (before any work)."""
    if path.exists() and not path.is_dir():
        raise UserInputError(f"--out {path}: exists and is not a directory")
    if not path.parent.is_dir():
        raise UserInputError(f"--out {path}: directory {path.parent} does not exist")


def _output_directory(path: Path) -> Path:
    """`path` checked as by `_check_output_directory`, and created if missing."""
    _check_output_directory(path)
    try:
        path.mkdir(exist_ok=True)
    except OSError as error:
        raise UserInputError(f"--out {path}: cannot create ({error.strerror})") from None
    return path


@t50_app.command("analyze")
def analyze_command(
    file: Annotated[
        Path, typer.Argument(help="plate readings: long CSV/Parquet or BMG MARS table view")
    ],
    out_dir: Annotated[
        Path, typer.Option("--out", help="directory for wells.csv, samples.csv and plate.png")
    ],
    layout: Annotated[
        Path | None, typer.Option("--layout", help="CSV with columns well, sample (replicates)")
    ] = None,
    plate_format: Annotated[
        str, typer.Option("--format", help="long, mars or auto (from the file)")
    ] = "auto",
    model: Annotated[
        str, typer.Option("--model", help="auto (4PL, or 5PL when an F test prefers it), 4pl, 5pl")
    ] = "auto",
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of tables")] = False,
) -> None:
    """Fit every well's nephelometry curve, read off T50 and summarize replicate wells.

    Writes wells.csv (one row per well), samples.csv (one row per sample) and plate.png (every
    well with its fit) into --out. Research use: not a validated clinical assay.
    """
    from mgckd.cpp import (  # noqa: PLC0415  (matplotlib and scipy: load on use)
        MODELS,
        PLATE_FORMATS,
        analyze_plate,
        plate_figure,
        read_layout,
        read_plate,
    )

    if plate_format not in PLATE_FORMATS:
        raise UserInputError(f"--format {plate_format!r} is not one of {', '.join(PLATE_FORMATS)}")
    if model not in MODELS:
        raise UserInputError(f"--model {model!r} is not one of {', '.join(MODELS)}")
    _check_output_directory(out_dir)
    plate = read_plate(file, format=cast("PlateFormat", plate_format))
    result = analyze_plate(
        plate,
        layout=None if layout is None else read_layout(layout),
        model=cast("Model", model),
    )
    directory = _output_directory(out_dir)
    try:
        write_text_atomic(directory / WELLS_FILE, result.wells.to_csv(index=False))
        write_text_atomic(directory / SAMPLES_FILE, result.samples.to_csv(index=False))
    except OSError as error:
        raise UserInputError(f"--out {directory}: cannot write ({error.strerror})") from None
    save_figure(plate_figure(result), directory / PLATE_FIGURE)
    written = [str(directory / name) for name in (WELLS_FILE, SAMPLES_FILE, PLATE_FIGURE)]
    if as_json:
        print_json({**result.to_dict(), "written": written})
        return
    _render(result)
    out.print(f"written: {', '.join(written)}", markup=False)


def _render(result: T50Analysis) -> None:
    samples = result.samples
    table = Table(
        title=f"T50 by sample ({result.plate.source}, {len(result.plate.wells)} wells, "
        f"{result.fits.t_start_min:g}-{result.fits.t_end_min:g} min)",
        title_justify="left",
    )
    for column, justify in (
        ("sample", "left"),
        ("wells", "left"),
        ("T50 (min)", "right"),
        ("CV %", "right"),
        ("used", "right"),
        ("status", "left"),
        ("outliers", "left"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    cv = samples["t50_cv_percent"].to_numpy(dtype=np.float64)
    for i, row in enumerate(samples.itertuples(index=False)):
        table.add_row(
            str(row.sample),
            str(row.wells),
            str(row.t50_report),
            "" if math.isnan(cv[i]) else f"{cv[i]:.1f}",
            f"{row.n_used}/{row.n_wells}",
            str(row.status),
            str(row.outlier_wells),
        )
    out.print(table)
    counts = ", ".join(f"{n} {s}" for s, n in result.status_counts().items() if n)
    out.print(f"wells: {counts}", markup=False)
    not_ok = result.wells[result.wells["status"] != "ok"]
    for row in not_ok.head(_SHOWN_FLAGGED).itertuples(index=False):
        err.print(f"  {row.well}: {row.status} ({row.flags})", markup=False)
    if len(not_ok) > _SHOWN_FLAGGED:
        err.print(f"  ... and {len(not_ok) - _SHOWN_FLAGGED} more (wells.csv)", markup=False)
    out.print(
        "[dim]T50: time half-way between the fitted plateaus (docs/t50.md). Research use, not a "
        "validated clinical assay.[/dim]"
    )
