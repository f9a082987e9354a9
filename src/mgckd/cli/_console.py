"""Shared terminal output for the CLI: rich consoles, JSON printing, one-line error text."""

from __future__ import annotations

import json
from typing import Any

import pydantic
import typer
from rich.console import Console

out = Console(highlight=False, soft_wrap=False)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def print_json(data: Any) -> None:
    """Print `data` as indented JSON on stdout, with nothing else."""
    out.out(json.dumps(data, indent=2, default=str), highlight=False)


def one_line(error: pydantic.ValidationError) -> str:
    """The first validation error as ``field: message`` (+ how many more), on one line."""
    errors = error.errors(include_url=False)
    first = errors[0]
    where = ".".join(str(part) for part in first["loc"])
    message = first["msg"].removeprefix("Value error, ")
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}: {message}{more}" if where else f"{message}{more}"


def lab_option(example: str, *names: str) -> Any:
    """A typer option taking a lab value with its unit in one string, e.g. ``--mg '2.1 mg/dL'``."""
    return typer.Option(*names, help=f"value and unit, e.g. '{example}'", show_default=False)
