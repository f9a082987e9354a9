"""``mgckd simulate``: run a scenario file (patients, CKD course, diet, interventions) through
the physiology model; a summary per patient, the trajectories to a file.

A mistake in the file is one line naming the field (exit 2). A patient whose solve fails is
reported with the reason and the others kept.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
import typer
from rich.table import Table

from mgckd._pint import quantity
from mgckd.cli._app import app
from mgckd.cli._console import err, out, print_json, write_table
from mgckd.exceptions import UserInputError
from mgckd.simulate import read_scenario, simulate


@app.command("simulate")
def simulate_command(
    file: Annotated[Path, typer.Argument(help="scenario file (YAML), see docs/scenarios.md")],
    out_path: Annotated[
        Path | None,
        typer.Option("--out", help="write every patient's trajectory to .csv or .parquet"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of a table")] = False,
) -> None:
    """Simulate a scenario file with the whole-body model."""
    if out_path is not None and out_path.suffix not in (".csv", ".parquet"):
        raise UserInputError(f"--out {out_path}: trajectories are written as .csv or .parquet")
    ready = read_scenario(file)
    result = simulate(ready.model, ready.scenario, save_at=ready.save_at_h, throw=False)
    summary = result.summary()
    summary.insert(1, "patient_id", list(ready.patient_ids))
    for i in np.flatnonzero(~result.succeeded):
        err.print(f"warning: {ready.patient_ids[i]}: {summary['message'][i]}", markup=False)
    if out_path is not None:
        _write(result.to_frame(), ready.patient_ids, out_path)
    if as_json:
        print_json(summary.replace({np.nan: None}).to_dict(orient="records"))
        return
    days = quantity(result.time_h[-1], "h").to("d").magnitude
    table = Table(title=f"End of scenario ({days:g} days)", title_justify="left")
    table.add_column("quantity")
    for pid in ready.patient_ids:
        table.add_column(pid, justify="right")
    for column in summary.columns.drop(["patient", "patient_id"]):
        table.add_row(
            column, *(f"{v:.4g}" if isinstance(v, float) else str(v) for v in summary[column])
        )
    out.print(table)
    if out_path is not None:
        out.print(f"trajectories written to {out_path}")


def _write(frame: pd.DataFrame, patient_ids: tuple[str, ...], path: Path) -> None:
    frame.insert(1, "patient_id", [patient_ids[i] for i in frame["patient"]])
    write_table(frame, path)
