"""Shared terminal output for the CLI: rich consoles, JSON printing, one-line errors, tables."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pydantic
import typer
from rich.console import Console

from mgckd._atomic import write_bytes_atomic
from mgckd.exceptions import UserInputError

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


def write_table(table: pd.DataFrame, path: Path) -> None:
    """Write `table` to `path` (.csv or .parquet) atomically; a bad --out path is a user error."""
    if not path.parent.is_dir():
        raise UserInputError(f"--out {path}: directory {path.parent} does not exist")
    data = (
        table.to_csv(index=False).encode("utf-8")
        if path.suffix == ".csv"
        else table.to_parquet(index=False)
    )
    try:
        write_bytes_atomic(path, data)
    except OSError as error:
        raise UserInputError(f"--out {path}: cannot write ({error.strerror})") from None
