"""``mgckd risk``: apply a published effect size to a cohort table, with Monte Carlo intervals.

Every number printed is an association in the population the effect was published for, never a
treatment instruction. Patients outside that population are refused unless
``--allow-outside-population`` (then flagged).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
import typer
from rich.table import Table

from mgckd.cli._app import app
from mgckd.cli._console import out, print_json, write_table
from mgckd.exceptions import UserInputError
from mgckd.outcomes import RiskResult, effects_frame, read_cohort, risk


def _range(low: Any, high: Any, fmt: str) -> str:
    """``low-high`` (or ``low`` alone when `high` is NaN); '' when `low` is NaN."""
    low, high = float(low), float(high)
    if not np.isfinite(low):
        return ""
    return f"{low:{fmt}}-{high:{fmt}}" if np.isfinite(high) else f"{low:{fmt}}"


def _interval(row: Mapping[Hashable, Any], names: tuple[str, str, str], fmt: str) -> str:
    """``point (low-high)`` from three columns of a row; '' when the point is missing."""
    point, low, high = (float(row[name]) for name in names)
    if not np.isfinite(point):
        return ""
    return f"{point:{fmt}} ({low:{fmt}}-{high:{fmt}})"


def _render_effects(frame: pd.DataFrame) -> None:
    table = Table(title="Packaged effect sizes (mgckd risk --effect ID)", title_justify="left")
    for column in ("effect", "outcome", "contrast", "ratio (95 % CI)", "population", "claims"):
        table.add_column(column, overflow="fold")
    for row in frame.to_dict("records"):
        ratio = _interval(row, ("estimate", "ci_low", "ci_high"), "g")
        blocked = "" if row["applicable"] else " (blocked)"
        contrast, reference = row["contrast"], row["reference"]
        table.add_row(
            f"{row['effect_id']}{blocked}",
            f"{row['outcome']}, {row['horizon']}",
            f"{contrast} vs {reference}" if reference else str(contrast),
            f"{row['measure']} {ratio}" if ratio else "not published",
            str(row["population"]),
            str(row["claims"]),
        )
    out.print(table)


def _render(result: RiskResult) -> None:
    effect = result.effect
    summary = result.summary()
    out.print(f"[bold]{effect.title}[/bold] ({effect.id})")
    out.print(f"source: {effect.source.render()}; {effect.source.table}", markup=False)
    out.print(f"population: {result.population}", markup=False)
    out.print(f"adjustment: {effect.adjustment}", markup=False)
    pct = f"{100 * result.level:g} %"
    table = Table(
        title=f"{effect.measure} of {effect.outcome_label}, {effect.horizon.render()}: "
        f"published 95 % CI, Monte Carlo {pct} ({result.draws} draws)",
        title_justify="left",
    )
    crude = bool(summary["crude_risk"].notna().any())
    columns = ["category", "patients", effect.measure, "Monte Carlo", "absolute risk"]
    for column in columns + (["crude risk"] if crude else []):
        table.add_column(column, overflow="fold")
    notes: list[str] = []
    for row in summary.to_dict("records"):
        outside = row["n_outside_population"]
        ratio = _interval(row, ("ratio", "ratio_ci_low", "ratio_ci_high"), ".3g")
        if row["status"] == "reference":
            ratio = "reference"
        elif row["status"] == "no_estimate":
            notes.append(str(row["reason"]))
            ratio = f"none (note {len(notes)})"
        cells = [
            str(row["category"]) or "(not measured)",
            f"{row['n_patients']}" + (f" ({outside} outside)" if outside else ""),
            ratio,
            "" if row["status"] == "reference" else _range(row["mc_low"], row["mc_high"], ".3g"),
            _interval(row, ("absolute_risk", "absolute_risk_low", "absolute_risk_high"), ".2%"),
        ]
        table.add_row(*cells, *([_range(row["crude_risk"], math.nan, ".2%")] if crude else []))
    out.print(table)
    for number, note in enumerate(notes, start=1):
        out.print(f"note {number}: {note}", markup=False)
    if result.absolute_risk_basis:
        out.print(f"absolute risk: {result.absolute_risk_basis}", markup=False)
    if effect.interaction is not None:
        out.print(
            f"interaction (context, not applied): P = {effect.interaction.p_value:g}; "
            f"{effect.interaction.description}",
            markup=False,
        )
    flagged = result.metadata["n_outside_population"]
    if flagged:
        out.print(
            f"[yellow]warning:[/yellow] {flagged} patients are outside the published population "
            "and were included on request (--allow-outside-population): extrapolation"
        )
    seed = result.metadata.get("seed")
    out.print(f"seed {seed}; per-patient rows: --out or --json", markup=False)
    out.print(
        f"[dim]{result.caveat.capitalize()}: a published adjusted ratio from an observational "
        "cohort, applied to these patients; not a treatment instruction.[/dim]"
    )


@app.command("risk")
def risk_command(
    cohort_path: Annotated[
        Path | None,
        typer.Argument(help="cohort table, .csv or .parquet (columns: docs/outcomes.md#cohorts)"),
    ] = None,
    effect: Annotated[
        str | None, typer.Option("--effect", help="effect size id (mgckd risk --list)")
    ] = None,
    draws: Annotated[int, typer.Option("--draws", help="Monte Carlo draws per ratio")] = 4000,
    seed: Annotated[int, typer.Option("--seed", help="seed of the Monte Carlo")] = 1,
    allow_outside_population: Annotated[
        bool,
        typer.Option(
            "--allow-outside-population",
            help="apply the effect to patients outside its population too (flagged)",
        ),
    ] = False,
    list_effects: Annotated[
        bool, typer.Option("--list", help="list the packaged effect sizes and exit")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of tables")] = False,
    out_path: Annotated[
        Path | None,
        typer.Option("--out", help="write the per-patient table to .csv or .parquet"),
    ] = None,
) -> None:
    """Relative and absolute risk from a published effect size, with Monte Carlo intervals.

    Associations in the population the effect was published for; never treatment instructions.
    """
    if list_effects:
        frame = effects_frame()
        if as_json:
            print_json(frame.replace({np.nan: None}).to_dict(orient="records"))
        else:
            _render_effects(frame)
        return
    if cohort_path is None or effect is None:
        raise UserInputError("give a cohort table and --effect ID (see mgckd risk --list)")
    if out_path is not None and out_path.suffix not in (".csv", ".parquet"):
        raise UserInputError(f"--out {out_path}: the table is written as .csv or .parquet")
    result = risk(
        read_cohort(cohort_path),
        effect,
        rng=seed,
        draws=draws,
        allow_outside_population=allow_outside_population,
    )
    if out_path is not None:
        write_table(result.to_frame(), out_path)
    if as_json:
        print_json(result.to_dict())
        return
    _render(result)
    if out_path is not None:
        out.print(f"{len(result.patients)} rows written to {out_path}", markup=False)
