"""``mgckd simulate``: run a scenario file (patients, CKD course, diet, interventions, dialysis)
through the physiology model; a summary per patient, the trajectories to a file; with
``--calcification``, CAC over the simulated plasma and the decomposition of Mg's effect on it;
with ``--outcomes``, where each patient stands in the published outcome associations; with
``--report DIR``, everything printed written to a directory as text and JSON.

A mistake in the file is one line naming the field (exit 2). A patient whose solve fails is
reported with the reason and the others kept.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
import yaml
from rich.console import Console, RenderableType
from rich.text import Text

from mgckd._atomic import write_text_atomic
from mgckd._pint import quantity
from mgckd.chemistry import REFERENCES
from mgckd.cli._app import app
from mgckd.cli._console import err, out, print_json, write_table
from mgckd.cli._simulate_calcification import (
    calcification_section,
    patient_table,
    section_renderables,
)
from mgckd.cli._simulate_outcomes import outcome_samples, outcome_section
from mgckd.exceptions import UserInputError
from mgckd.simulate import read_scenario, simulate

SUMMARY_JSON = "summary.json"
SUMMARY_TEXT = "summary.txt"
OUTCOMES_TABLE = "outcomes.csv"
_REPORT_WIDTH = 160
"""Characters per line of the text report."""
_DIALYSIS_PLASMA = "hemodialysis"
_DEFAULT_PLASMA = "ckd"
_DIABETES = {"yes": True, "no": False}


def _report_directory(path: Path) -> Path:
    """`path` as a directory for the report (created), refused before any work if unusable."""
    if path.exists() and not path.is_dir():
        raise UserInputError(f"--report {path}: exists and is not a directory")
    if not path.parent.is_dir():
        raise UserInputError(f"--report {path}: directory {path.parent} does not exist")
    try:
        path.mkdir(exist_ok=True)
    except OSError as error:
        raise UserInputError(f"--report {path}: cannot create ({error.strerror})") from None
    return path


def _as_text(parts: list[RenderableType]) -> str:
    console = Console(
        file=io.StringIO(), record=True, width=_REPORT_WIDTH, highlight=False, color_system=None
    )
    for part in parts:
        console.print(part)
    return console.export_text()


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
    outcomes: Annotated[
        bool,
        typer.Option(
            "--outcomes",
            help="add where each patient stands in the published outcome associations at the "
            "start and end, with CIs and populations (docs/outcomes.md)",
        ),
    ] = False,
    allow_outside_population: Annotated[
        bool,
        typer.Option(
            "--allow-outside-population",
            help="with --outcomes: apply each effect size to patients outside its population "
            "too (flagged)",
        ),
    ] = False,
    diabetes: Annotated[
        str | None,
        typer.Option(
            "--diabetes",
            help="with --outcomes: every patient has (yes) or has not (no) diabetes "
            "(default unknown)",
            show_default=False,
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="seed of the outcome Monte Carlo")] = 1,
    draws: Annotated[
        int, typer.Option("--draws", help="outcome Monte Carlo draws per ratio", min=1)
    ] = 4000,
    plasma_reference: Annotated[
        str | None,
        typer.Option(
            "--plasma-reference",
            help="reference plasma (normal, ckd, hemodialysis) for the analytes the model does "
            "not simulate (default: hemodialysis with a dialysis section, else ckd)",
            show_default=False,
        ),
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option(
            "--report",
            help=f"directory to write {SUMMARY_JSON}, {SUMMARY_TEXT} and (with --outcomes) "
            f"{OUTCOMES_TABLE}",
        ),
    ] = None,
) -> None:
    """Simulate a scenario file with the whole-body model."""
    if out_path is not None and out_path.suffix not in (".csv", ".parquet"):
        raise UserInputError(f"--out {out_path}: trajectories are written as .csv or .parquet")
    if plasma_reference is not None and plasma_reference not in REFERENCES:
        raise UserInputError(
            f"--plasma-reference {plasma_reference!r} is not one of {', '.join(REFERENCES)}"
        )
    if diabetes not in (None, *_DIABETES):
        raise UserInputError(f"--diabetes {diabetes!r} is not one of {', '.join(_DIABETES)}")
    directory = None if report is None else _report_directory(report)
    ready = read_scenario(file)
    data: dict[str, Any] = yaml.safe_load(file.read_text(encoding="utf-8"))  # checked above
    base = plasma_reference or (
        _DEFAULT_PLASMA if data.get("dialysis") is None else _DIALYSIS_PLASMA
    )
    samples = outcome_samples(data, ready) if outcomes else None  # refuse before simulating
    result = simulate(ready.model, ready.scenario, save_at=ready.save_at_h, throw=False)
    summary = result.summary()
    summary.insert(1, "patient_id", list(ready.patient_ids))
    for i in np.flatnonzero(~result.succeeded):
        err.print(f"warning: {ready.patient_ids[i]}: {summary['message'][i]}", markup=False)
    cac = (
        calcification_section(
            data, str(file), ready, result, baseline_agatston=cac_baseline, base=base
        )
        if calcification
        else None
    )
    context = (
        outcome_section(
            samples,
            ready,
            result,
            dialysis=data.get("dialysis") is not None,
            base=base,
            diabetes=None if diabetes is None else _DIABETES[diabetes],
            allow_outside_population=allow_outside_population,
            seed=seed,
            draws=draws,
        )
        if samples is not None
        else None
    )
    if out_path is not None:
        frame = result.to_frame()
        frame.insert(1, "patient_id", [ready.patient_ids[i] for i in frame["patient"]])
        write_table(frame if cac is None else cac.merged(frame), out_path)
    records = summary.replace({np.nan: None}).to_dict(orient="records")
    sections = {
        **({} if cac is None else cac.to_json()),
        **({} if context is None else context.to_json()),
    }
    document: Any = {"patients": records, **sections} if sections else records
    days = quantity(result.time_h[-1], "h").to("d").magnitude
    parts: list[RenderableType] = [
        patient_table(f"End of scenario ({days:g} days)", summary.drop(columns="patient")),
        *([] if cac is None else section_renderables(cac)),
        *([] if context is None else context.renderables()),
    ]
    written = [] if out_path is None else [str(out_path)]
    if directory is not None:
        write_text_atomic(
            directory / SUMMARY_JSON, json.dumps(document, indent=2, default=str) + "\n"
        )
        write_text_atomic(directory / SUMMARY_TEXT, _as_text(parts))
        written += [str(directory / SUMMARY_JSON), str(directory / SUMMARY_TEXT)]
        if context is not None:
            write_table(context.to_frame(), directory / OUTCOMES_TABLE)
            written.append(str(directory / OUTCOMES_TABLE))
    if as_json:
        print_json(document)
        return
    for part in parts:
        out.print(part)
    if written:
        out.print(Text(f"written: {', '.join(written)}"))
