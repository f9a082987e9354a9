"""``mgckd simulate``: run a scenario file (patients, CKD course, diet, interventions) through
the physiology model; a summary per patient, the trajectories to a file; with
``--calcification``, CAC over the simulated plasma and the decomposition of Mg's effect on it.

A mistake in the file is one line naming the field (exit 2). A patient whose solve fails is
reported with the reason and the others kept.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from mgckd._pint import quantity
from mgckd.chemistry import REFERENCES
from mgckd.cli._app import app
from mgckd.cli._console import err, out, print_json, write_table
from mgckd.cli._simulate_calcification import (
    calcification_section,
    patient_table,
    print_section,
)
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
    calcification: Annotated[
        bool,
        typer.Option(
            "--calcification",
            help="add CAC over the simulated plasma and, when the scenario gives Mg, the "
            "decomposition of Mg's effect on it (docs/calcification.md)",
        ),
    ] = False,
    cac_baseline: Annotated[
        float | None,
        typer.Option(
            "--cac-baseline",
            help="baseline Agatston score of every patient (default: the registry's typical 100)",
            show_default=False,
        ),
    ] = None,
    plasma_reference: Annotated[
        str,
        typer.Option(
            "--plasma-reference",
            help="reference plasma (normal, ckd, hemodialysis) for the analytes the model does "
            "not simulate",
        ),
    ] = "ckd",
) -> None:
    """Simulate a scenario file with the whole-body model."""
    if out_path is not None and out_path.suffix not in (".csv", ".parquet"):
        raise UserInputError(f"--out {out_path}: trajectories are written as .csv or .parquet")
    if plasma_reference not in REFERENCES:
        raise UserInputError(
            f"--plasma-reference {plasma_reference!r} is not one of {', '.join(REFERENCES)}"
        )
    ready = read_scenario(file)
    result = simulate(ready.model, ready.scenario, save_at=ready.save_at_h, throw=False)
    summary = result.summary()
    summary.insert(1, "patient_id", list(ready.patient_ids))
    for i in np.flatnonzero(~result.succeeded):
        err.print(f"warning: {ready.patient_ids[i]}: {summary['message'][i]}", markup=False)
    section = (
        calcification_section(
            file, ready, result, baseline_agatston=cac_baseline, base=plasma_reference
        )
        if calcification
        else None
    )
    if out_path is not None:
        frame = result.to_frame()
        frame.insert(1, "patient_id", [ready.patient_ids[i] for i in frame["patient"]])
        write_table(frame if section is None else section.merged(frame), out_path)
    if as_json:
        records = summary.replace({np.nan: None}).to_dict(orient="records")
        print_json(records if section is None else {"patients": records, **section.to_json()})
        return
    days = quantity(result.time_h[-1], "h").to("d").magnitude
    out.print(patient_table(f"End of scenario ({days:g} days)", summary.drop(columns="patient")))
    if section is not None:
        print_section(section)
    if out_path is not None:
        out.print(f"trajectories written to {out_path}")
