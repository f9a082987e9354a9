"""The typer application every command registers on."""

from __future__ import annotations

from typing import Annotated

import typer

from mgckd._version import __version__

app = typer.Typer(
    name="mgckd",
    help="Magnesium, phosphate and calcium in CKD, made executable. Research software: "
    "outputs are estimates with sources, never treatment instructions.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"mgckd {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_show_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Magnesium, phosphate and calcium in CKD, made executable."""
