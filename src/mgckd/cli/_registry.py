"""``mgckd registry analyze`` / ``mgckd registry synth``: Mg × phosphate registry analysis."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from mgckd._atomic import write_bytes_atomic, write_text_atomic
from mgckd.cli._app import app
from mgckd.cli._console import out, print_json
from mgckd.cli._meta import check_figure_path, save_figure
from mgckd.exceptions import UserInputError

registry_app = typer.Typer(
    name="registry",
    help="Analyze a registry table (Mg categories × phosphate) or make a synthetic one.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(registry_app, name="registry")


def _split(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _categories(text: str) -> str | list[float]:
    if text == "hemodialysis" or text.startswith("quantiles:"):
        return text
    try:
        return [float(part) for part in _split(text)]
    except ValueError:
        raise UserInputError(
            f"--mg-categories {text!r}: use hemodialysis, quantiles:N or cut-points in mg/dL "
            "such as 2.3,2.9"
        ) from None


@registry_app.command("analyze")
def analyze_command(
    path: Annotated[Path, typer.Argument(help="registry table, .csv or .parquet")],
    outcome: Annotated[str, typer.Option("--outcome", help="0/1 outcome column")],
    model: Annotated[str, typer.Option("--model", help="logistic or cox")] = "logistic",
    time: Annotated[str | None, typer.Option("--time", help="follow-up time column (Cox)")] = None,
    mg_unit: Annotated[
        str | None, typer.Option("--mg-unit", help="unit of a Mg column whose header has none")
    ] = None,
    phosphate_unit: Annotated[
        str | None,
        typer.Option("--phosphate-unit", help="unit of a phosphate column whose header has none"),
    ] = None,
    mg_categories: Annotated[
        str,
        typer.Option("--mg-categories", help="hemodialysis, quantiles:N or cut-points (mg/dL)"),
    ] = "hemodialysis",
    adjust: Annotated[
        str | None, typer.Option("--adjust", help="adjustment columns, comma-separated")
    ] = None,
    no_interaction: Annotated[
        bool, typer.Option("--no-interaction", help="leave out the Mg × phosphate terms")
    ] = False,
    spline_knots: Annotated[
        int, typer.Option("--spline-knots", help="3, 4 or 5 knots; 0 for no spline")
    ] = 4,
    paf_ci: Annotated[
        str, typer.Option("--paf-ci", help="delta or bootstrap (needs --seed)")
    ] = "delta",
    bootstrap: Annotated[int, typer.Option("--bootstrap", help="bootstrap refits")] = 200,
    seed: Annotated[int | None, typer.Option("--seed", help="seed of the bootstrap")] = None,
    population: Annotated[
        str, typer.Option("--population", help="who the rows are, carried into the output")
    ] = "",
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    out_path: Annotated[
        Path | None,
        typer.Option("--out", help="write the figures (.png or .svg)"),
    ] = None,
) -> None:
    """Logistic or Cox model of an outcome on Mg categories × phosphate, with spline and PAF.

    Adjusted associations, never treatment instructions.
    """
    from mgckd.evidence import (  # noqa: PLC0415  (statsmodels: load on use)
        analyze_registry,
        read_registry,
        registry_figure,
    )

    check_figure_path(out_path)
    frame, columns = read_registry(path, mg_unit=mg_unit, phosphate_unit=phosphate_unit)
    result = analyze_registry(
        frame,
        outcome=outcome,
        model=model,
        time=time,
        mg_categories=_categories(mg_categories),
        adjust=_split(adjust),
        interaction=not no_interaction,
        spline_knots=spline_knots or None,
        paf_ci=paf_ci,
        n_bootstrap=bootstrap,
        seed=seed,
        population=population,
        lab_columns=columns,
    )
    if out_path is not None:
        save_figure(registry_figure(result), out_path)
    if as_json:
        print_json(result.to_dict())
        return
    out.print(result.summary(), markup=False)
    if out_path is not None:
        out.print(f"figure written to {out_path}", markup=False)


@registry_app.command("synth")
def synth_command(
    out_path: Annotated[Path, typer.Option("--out", help="table to write, .csv or .parquet")],
    n: Annotated[int, typer.Option("--n", help="number of patients")] = 5000,
    seed: Annotated[int, typer.Option("--seed", help="seed of the random generator")] = 1,
    no_interaction: Annotated[
        bool, typer.Option("--no-interaction", help="one phosphate ratio in every Mg band")
    ] = False,
    hazard: Annotated[
        bool, typer.Option("--hazard", help="plant hazard ratios (Cox) instead of odds ratios")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the metadata as JSON")] = False,
) -> None:
    """Write a synthetic JSDT-like hemodialysis registry with planted effects.

    The metadata (seed, planted ratios) go next to the table as ``<name>.meta.json``.
    """
    from mgckd.evidence import SynthSpec, synthesize_registry  # noqa: PLC0415

    suffix = out_path.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise UserInputError(f"--out {out_path}: the table is written as .csv or .parquet")
    if not out_path.parent.is_dir():
        raise UserInputError(f"--out {out_path}: directory {out_path.parent} does not exist")
    spec = SynthSpec.from_parameters(n=n, effect_scale="hazard" if hazard else "odds")
    if no_interaction:
        spec = spec.without_interaction()
    registry = synthesize_registry(spec, seed=seed)
    meta_path = out_path.with_suffix(".meta.json")
    try:
        if suffix == ".csv":
            write_text_atomic(out_path, registry.table.to_csv(index=False))
        else:
            write_bytes_atomic(out_path, registry.table.to_parquet(index=False))
        write_text_atomic(meta_path, json.dumps(registry.metadata, indent=2) + "\n")
    except OSError as error:
        raise UserInputError(f"--out {out_path}: cannot write ({error.strerror})") from None
    if as_json:
        print_json(registry.metadata)
        return
    out.print(
        f"{n} synthetic patients written to {out_path} (seed {seed}); planted effects in "
        f"{meta_path}",
        markup=False,
    )
