"""``mgckd params``: list the parameter registry."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from mgckd.cli._app import app
from mgckd.cli._console import out, print_json
from mgckd.exceptions import UserInputError
from mgckd.params import Status, parameters


@app.command("params")
def params_command(
    module: Annotated[
        str | None, typer.Option("--module", help="only this module (data file)")
    ] = None,
    status: Annotated[
        str | None, typer.Option("--status", help="measured, derived, assumed or fitted")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """List every parameter with its value, unit, status and source."""
    registry = parameters()
    if module is not None and module not in registry.modules:
        raise UserInputError(f"--module {module!r} is not one of {', '.join(registry.modules)}")
    try:
        wanted = None if status is None else Status(status)
    except ValueError:
        raise UserInputError(
            f"--status {status!r} is not one of {', '.join(s.value for s in Status)}"
        ) from None
    selected = registry.select(module=module, status=wanted)
    if as_json:
        print_json([p.to_dict() for p in selected.values()])
        return
    table = Table(title=f"{len(selected)} parameters", title_justify="left")
    for column in ("name", "value", "unit", "status", "source"):
        table.add_column(column, overflow="fold")
    for p in selected.values():
        value = (
            ", ".join(f"{v:g}" for v in p.value) if isinstance(p.value, tuple) else f"{p.value:g}"
        )
        table.add_row(p.name, value, p.unit, p.status.value, p.source)
    out.print(table)
