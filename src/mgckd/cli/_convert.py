"""``mgckd convert``: one clinical quantity in every usual unit of its analyte."""

from __future__ import annotations

from typing import Annotated

import typer

from mgckd.cli._app import app
from mgckd.cli._console import out, print_json
from mgckd.units import analyte, convert, parse_value


@app.command("convert")
def convert_command(
    quantity: Annotated[str, typer.Argument(help="value and unit, e.g. '2.43 mg/dL'")],
    analyte_name: Annotated[
        str, typer.Option("--analyte", "-a", help="e.g. magnesium, phosphate, pth")
    ],
    to: Annotated[
        str | None, typer.Option("--to", help="target unit (default: every usual unit)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Convert a lab value between mg/dL, mmol/L, mEq/L (valence-aware) and friends."""
    a = analyte(analyte_name)
    value, unit = parse_value(quantity)
    targets = [to] if to else list(a.units)
    converted = {target: convert(value, unit, target, analyte=a.name) for target in targets}
    if as_json:
        print_json({"analyte": a.name, "value": value, "unit": unit, "converted": converted})
        return
    for target, result in converted.items():
        out.print(f"{a.name} {value:g} {unit} = {result:.6g} {target}")
