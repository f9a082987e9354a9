"""``mgckd demo``: what mgckd can do today, on the example patients."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mgckd.cli import _assess, _validate
from mgckd.cli._app import app
from mgckd.cli._console import out
from mgckd.exceptions import UserInputError
from mgckd.validate import run_validation


@app.command("demo")
def demo_command(
    examples: Annotated[
        Path, typer.Option("--examples", help="folder of example patient files (JSON)")
    ] = Path("examples/patients"),
) -> None:
    """Assess the example patients, then run the validation of every claim."""
    files = sorted(examples.glob("*.json")) if examples.is_dir() else []
    if not files:
        raise UserInputError(
            f"--examples {examples}: no patient JSON files there (run from the repository root)"
        )
    for file in files:
        out.print(f"\n[bold]$ mgckd assess {file}[/bold]")
        for result in _assess.interpret(_assess.read_with_warnings(file)):
            _assess.render(result)
    out.print("\n[bold]$ mgckd validate[/bold]")
    report = run_validation()
    _validate.render(report)
    if report.required_failures:
        raise typer.Exit(_validate.EXIT_REQUIRED_FAILED)
