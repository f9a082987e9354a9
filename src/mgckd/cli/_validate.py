"""``mgckd validate``: every claim the project answers to, model vs published."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from mgckd.cli._app import app
from mgckd.cli._console import out, print_json
from mgckd.exceptions import UserInputError
from mgckd.validate import ValidationReport, claims, run_validation, write_html, write_json

EXIT_REQUIRED_FAILED = 3
_COLOURS = {"pass": "green", "fail": "red", "error": "red", "pending": "dim"}


@app.command("validate")
def validate_command(
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
    out_path: Annotated[
        Path | None, typer.Option("--out", help="write the report to .html (with figures) or .json")
    ] = None,
    ids: Annotated[
        list[str] | None, typer.Option("--id", help="only this claim id (repeatable)")
    ] = None,
) -> None:
    """Run every implemented check; claims without a check are reported as pending.

    Exit code 3 when a claim marked required fails.
    """
    known = {c.id for c in claims()}
    unknown = sorted(set(ids or ()) - known)
    if unknown:
        raise UserInputError(
            f"--id {', '.join(unknown)}: no such claim; see `mgckd validate` for the list"
        )
    if out_path is not None and out_path.suffix not in (".html", ".json"):
        raise UserInputError(f"--out {out_path}: the report is written as .html or .json")
    if out_path is not None and not out_path.parent.is_dir():
        raise UserInputError(f"--out {out_path}: directory {out_path.parent} does not exist")
    report = run_validation(
        ids=ids or None, figures=out_path is not None and out_path.suffix == ".html"
    )
    if out_path is not None:
        try:
            (write_html if out_path.suffix == ".html" else write_json)(report, out_path)
        except OSError as error:
            raise UserInputError(
                f"--out {out_path}: cannot write the report ({error.strerror})"
            ) from None
    if as_json:
        print_json(report.to_json())
    else:
        render(report)
        if out_path is not None:
            out.print(f"report written to {out_path}")
    if report.required_failures:
        raise typer.Exit(EXIT_REQUIRED_FAILED)


def render(report: ValidationReport) -> None:
    """Print the validation table (the detail for what did not pass) and the verdict counts."""
    table = Table(title="Claims: published vs model", title_justify="left")
    for column in ("id", "role", "published", "model", "verdict", "detail"):
        table.add_column(column, overflow="fold")
    for row in report.rows:
        colour = _COLOURS[row.verdict]
        table.add_row(
            row.id,
            row.role,
            row.published,
            "—" if row.model is None else str(row.model),
            f"[{colour}]{row.verdict}[/{colour}]",
            "" if row.verdict == "pass" else row.detail,
        )
    out.print(table)
    out.print(", ".join(f"{verdict}: {count}" for verdict, count in report.counts.items()))
