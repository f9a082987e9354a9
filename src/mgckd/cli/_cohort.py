"""``mgckd cohort``: virtual cohorts — sample patients from a preset, or simulate a cohort in
chunks (a Dask LocalCluster by default, ``--scheduler`` for an existing cluster, ``--workers 0``
in this process) into a resumable directory of Parquet chunks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, cast, get_args

import numpy as np
import pandas as pd
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

from mgckd.cli._app import app
from mgckd.cli._console import err, out, print_json, write_table
from mgckd.exceptions import UserInputError
from mgckd.labs import hypomagnesemia
from mgckd.populations import presets, sample_population
from mgckd.populations._cohort import DEFAULT_CHUNK_SIZE, DEFAULT_ENVELOPE_RTOL, CohortSpec
from mgckd.populations._models import ModelName
from mgckd.populations._runner import run_cohort

cohort_app = typer.Typer(
    name="cohort",
    help="Virtual cohorts: sample patients from a preset, simulate them in resumable chunks.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(cohort_app, name="cohort")

_PRESETS = ", ".join(sorted(presets()))
_MODELS = get_args(ModelName)


def _print_frame(frame: pd.DataFrame, title: str) -> None:
    table = Table(title=title, title_justify="left")
    for column in frame.columns:
        table.add_column(str(column), justify="left" if column == frame.columns[0] else "right")
    for row in frame.itertuples(index=False):
        table.add_row(*(f"{v:.4g}" if isinstance(v, float) else str(v) for v in row))
    out.print(table)


@cohort_app.command("sample")
def sample_command(
    preset_name: Annotated[str, typer.Argument(metavar="PRESET", help=f"one of {_PRESETS}")],
    n: Annotated[int, typer.Option("--n", help="number of patients")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="random seed")] = 0,
    out_path: Annotated[
        Path | None, typer.Option("--out", help="write the patients to .csv or .parquet")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of a table")] = False,
) -> None:
    """Draw virtual patients from a population preset and summarize them."""
    if out_path is not None and out_path.suffix not in (".csv", ".parquet"):
        raise UserInputError(f"--out {out_path}: patients are written as .csv or .parquet")
    population = sample_population(preset_name, n, rng=seed)
    summary = population.summary()
    if out_path is not None:
        write_table(population.to_frame(), out_path)
    if as_json:
        print_json(
            {
                "preset": preset_name,
                "n": n,
                "seed": seed,
                "summary": summary.replace({np.nan: None}).to_dict(orient="records"),
            }
        )
        return
    _print_frame(summary, f"{n} patients of {preset_name} (seed {seed})")
    if out_path is not None:
        out.print(f"patients written to {out_path}")


def _by_stage(frame: pd.DataFrame) -> pd.DataFrame:
    """Per CKD stage and saved time: patients, mean serum Mg and hypomagnesemia share."""
    ok = frame[frame["status"] == "success"]
    first, last = ok["time_days"].min(), ok["time_days"].max()
    ends = ok[ok["time_days"].isin([first, last])].assign(
        hypomagnesemia=lambda f: hypomagnesemia(f["plasma_mg_total_mmol_l"]) == "yes"
    )
    return (
        ends.groupby(["time_days", "ckd_stage"])
        .agg(
            patients=("patient_id", "size"),
            mg_mean_mmol_l=("plasma_mg_total_mmol_l", "mean"),
            hypomagnesemia_percent=("hypomagnesemia", lambda s: 100.0 * s.mean()),
        )
        .reset_index()
    )


@cohort_app.command("run")
def run_command(
    preset_name: Annotated[str, typer.Argument(metavar="PRESET", help=f"one of {_PRESETS}")],
    out_dir: Annotated[
        Path, typer.Option("--out", help="run directory (manifest + Parquet chunks); resumed")
    ],
    n: Annotated[int, typer.Option("--n", help="number of patients")] = 1000,
    days: Annotated[float, typer.Option("--days", help="simulated days")] = 365.0,
    save_every_days: Annotated[
        float | None, typer.Option("--save-every-days", help="spacing of saved times")
    ] = None,
    chunk_size: Annotated[
        int, typer.Option("--chunk-size", help="patients per chunk (one vectorized solve)")
    ] = DEFAULT_CHUNK_SIZE,
    seed: Annotated[int, typer.Option("--seed", help="random seed")] = 0,
    model: Annotated[
        str, typer.Option("--model", help=f"physiology model: {', '.join(_MODELS)}")
    ] = "magnesium",
    envelope_rtol: Annotated[
        float,
        typer.Option(
            "--envelope-rtol",
            help="tolerance of the envelope over repeating cycles (sessions, daily doses); "
            "0 integrates every step",
        ),
    ] = DEFAULT_ENVELOPE_RTOL,
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="address of an existing Dask scheduler (tcp://...)"),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option("--workers", help="LocalCluster workers (default: one per CPU; 0: no Dask)"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of a table")] = False,
) -> None:
    """Simulate a virtual cohort in chunks; a killed run resumes where it stopped.

    Hemodialysis presets start at each patient's mid-week pre-dialysis sample of the long-run
    cycle of their own prescription; saves a whole number of weeks apart are pre-dialysis."""
    if model not in _MODELS:
        raise UserInputError(f"--model {model!r} is not one of {', '.join(_MODELS)}")
    spec = CohortSpec(
        model=cast("ModelName", model),
        preset=preset_name,
        n_patients=n,
        duration_days=days,
        save_every_days=save_every_days,
        seed=seed,
        chunk_size=chunk_size,
        envelope_rtol=envelope_rtol or None,
    )
    with Progress(
        "chunks",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=as_json,
    ) as bar:
        task = bar.add_task("chunks", total=spec.n_chunks)
        run = run_cohort(
            spec,
            out_dir,
            scheduler=scheduler,
            workers=workers,
            progress=lambda done, _: bar.update(task, completed=done),
        )
    stages = _by_stage(run.frame())
    if as_json:
        print_json(
            {
                "out": str(run.out_dir),
                "spec": spec.model_dump(mode="json"),
                "computed_chunks": list(run.computed),
                "skipped_chunks": list(run.skipped),
                "seconds": run.seconds,
                "by_stage": stages.to_dict(orient="records"),
            }
        )
        return
    out.print(
        f"{run.out_dir}: {len(run.computed)} chunks computed, {len(run.skipped)} found finished "
        f"and kept, {run.seconds:.1f} s"
    )
    _print_frame(stages, "Serum Mg by CKD stage, first and last saved day")
