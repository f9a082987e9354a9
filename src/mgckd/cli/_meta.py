"""``mgckd meta``: random-effects meta-analysis of the Mg-outcome studies."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Annotated

import typer
from matplotlib.figure import Figure
from rich.table import Table

from mgckd._atomic import write_bytes_atomic
from mgckd.cli._app import app
from mgckd.cli._console import out, print_json
from mgckd.exceptions import UserInputError

FIGURE_SUFFIXES = (".png", ".svg")


def check_figure_path(path: Path | None) -> None:
    """Refuse an ``--out`` that is not .png/.svg or whose directory does not exist."""
    if path is None:
        return
    if path.suffix.lower() not in FIGURE_SUFFIXES:
        raise UserInputError(f"--out {path}: the figure is written as .png or .svg")
    if not path.parent.is_dir():
        raise UserInputError(f"--out {path}: directory {path.parent} does not exist")


def save_figure(figure: Figure, path: Path) -> None:
    """Write a figure atomically as PNG or SVG (by suffix)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format=path.suffix.lower().lstrip("."), dpi=150)
    try:
        write_bytes_atomic(path, buffer.getvalue())
    except OSError as error:
        raise UserInputError(f"--out {path}: cannot write ({error.strerror})") from None


@app.command("meta")
def meta_command(
    outcome: Annotated[
        str, typer.Option("--outcome", help="all_cause_death, cv_death, non_cv_death, ...")
    ] = "all_cause_death",
    scale: Annotated[
        str,
        typer.Option(
            "--scale", help="per_0.1_mmol_l (rescaled per-unit estimates) or low_vs_reference"
        ),
    ] = "per_0.1_mmol_l",
    measure: Annotated[str, typer.Option("--measure", help="HR or OR")] = "HR",
    method: Annotated[str, typer.Option("--method", help="REML, DL, PM or FE")] = "REML",
    hartung_knapp: Annotated[
        bool, typer.Option("--hartung-knapp", help="Hartung-Knapp CI (t, k - 1 df)")
    ] = False,
    studies: Annotated[
        Path | None,
        typer.Option("--studies", help="your own study table (.csv, .parquet, .yaml)"),
    ] = None,
    seed_table2: Annotated[
        bool, typer.Option("--seed-table2", help="only the rows of the seed's Table 2 (S1-16)")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    out_path: Annotated[
        Path | None, typer.Option("--out", help="write a forest plot (.png or .svg)")
    ] = None,
) -> None:
    """Pool published Mg-outcome estimates that share a scale; list the rest with reasons.

    Pooled observational associations, never treatment instructions.
    """
    from mgckd.evidence import (  # noqa: PLC0415  (statsmodels/scipy: load on use)
        leave_one_out,
        meta_analyze,
        plot_forest,
        read_studies,
    )

    check_figure_path(out_path)
    table = None if studies is None else read_studies(studies)
    result = meta_analyze(
        table,
        outcome=outcome,
        scale=scale,
        measure=measure,
        method=method.upper(),
        hartung_knapp=hartung_knapp,
        seed_table2_only=seed_table2,
    )
    loo = leave_one_out(result) if result.k >= 3 else None
    if out_path is not None:
        figure = Figure(figsize=(7.5, 1.2 + 0.45 * (result.k + 2)), layout="constrained")
        plot_forest(result, figure.subplots())
        save_figure(figure, out_path)
    if as_json:
        data = result.to_dict()
        data["leave_one_out"] = None if loo is None else loo.to_dict("records")
        print_json(data)
        return
    table_out = Table(title=result.label, title_justify="left")
    for column in ("study", "estimate", "95 % CI", "weight"):
        table_out.add_column(column, overflow="fold")
    for row in result.to_frame().to_dict("records"):
        table_out.add_row(
            str(row["name"]),
            f"{row['estimate']:.3f}",
            f"{row['ci_low']:.3f}-{row['ci_high']:.3f}",
            f"{100 * row['weight']:.0f} %",
        )
    out.print(table_out)
    out.print(result.summary(), markup=False)
    if loo is not None:
        out.print("leave-one-out:", markup=False)
        for row in loo.to_dict("records"):
            out.print(
                f"  without {row['omitted']}: {row['estimate']:.3f} "
                f"({row['ci_low']:.3f}-{row['ci_high']:.3f})",
                markup=False,
            )
    relevant = [(i, r) for i, r in result.excluded if not r.startswith("outcome is")]
    if relevant:
        out.print(f"left out ({len(relevant)} rows of this outcome):", markup=False)
        for identifier, reason in relevant:
            out.print(f"  {identifier}: {reason}", markup=False)
    if out_path is not None:
        out.print(f"forest plot written to {out_path}", markup=False)
