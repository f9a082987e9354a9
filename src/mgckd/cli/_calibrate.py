"""``mgckd calibrate``: fit the ``fitted`` parameters to the calibration claims, or check them."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from mgckd.cli._app import app
from mgckd.cli._console import out, print_json
from mgckd.exceptions import UserInputError

if TYPE_CHECKING:
    from mgckd.calibrate import Mismatch, ProblemFit

EXIT_CHECK_FAILED = 3


@app.command("calibrate")
def calibrate_command(
    check_only: Annotated[
        bool,
        typer.Option(
            "--check",
            help="only check that the shipped registry equals what the program produces",
        ),
    ] = False,
    names: Annotated[
        list[str] | None,
        typer.Option("--problem", help="only this calibration problem (repeatable)"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Fit registry parameters to calibration claims only, and write them (status fitted).

    With --check nothing is written; exit code 3 when a shipped value differs from the fit.
    """
    from mgckd.calibrate import CHECK_TOLERANCE, check, fit, problems, write  # noqa: PLC0415

    known = problems()
    unknown = sorted(set(names or ()) - set(known))
    if unknown:
        raise UserInputError(
            f"--problem {', '.join(unknown)}: no such calibration problem; "
            f"known: {', '.join(known)}"
        )
    report = []
    failed = False
    for name in (n for n in known if not names or n in names):  # dependencies first
        fitted = fit(known[name])
        mismatches = check(fitted)
        if check_only:
            failed |= bool(mismatches)
        else:
            write(fitted)
        report.append((fitted, mismatches))
    if as_json:
        print_json(
            [
                {
                    **fitted.to_dict(),
                    "mismatches": [dataclasses.asdict(m) for m in mismatches] if check_only else [],
                    "written": not check_only,
                }
                for fitted, mismatches in report
            ]
        )
    else:
        for fitted, mismatches in report:
            _render(fitted, mismatches, check_only=check_only, tolerance=CHECK_TOLERANCE)
    if failed:
        raise typer.Exit(EXIT_CHECK_FAILED)


def _render(
    fitted: ProblemFit, mismatches: list[Mismatch], *, check_only: bool, tolerance: float
) -> None:
    out.rule(f"[bold]calibration: {fitted.problem}")
    values = Table(title="Fitted parameters", title_justify="left")
    for column in ("parameter", "value"):
        values.add_column(column)
    for name, value in fitted.values.items():
        values.add_row(name, f"{value:.6f}")
    out.print(values)
    targets = Table(title="Calibration targets", title_justify="left")
    for column in ("target", "published", "model", "within tolerance"):
        targets.add_column(column, overflow="fold")
    for t in fitted.targets:
        unit = "" if t.unit == "1" else f" {t.unit}"
        targets.add_row(
            t.label, f"{t.published:g}{unit}", f"{t.model:.4g}{unit}", "yes" if t.passed else "NO"
        )
    out.print(targets)
    if not check_only:
        ids = ", ".join(fitted.calibrated_to)
        out.print(f"written to the registry (status fitted, calibrated_to {ids})")
    elif mismatches:
        for m in mismatches:
            shipped = "missing" if m.shipped is None else f"{m.shipped:g}"
            out.print(
                f"[red]mismatch[/red] {m.name}: shipped {shipped}, fit {m.fitted:.6f} ({m.reason})"
            )
    else:
        out.print(f"shipped values equal the fit (tolerance {tolerance:g})")
