"""The ``mgckd`` command line: exit code 0 success, 2 user error, 1 internal error.

Each command lives in its own module and registers itself on `app` (``_app.py``); `main` is the
entry point that turns a user's mistake into one line on stderr instead of a traceback.
"""

from __future__ import annotations

import os
import sys

import pydantic

from mgckd.cli import (  # noqa: F401  (registers commands)
    _assess,
    _calibrate,
    _cohort,
    _convert,
    _demo,
    _dialysate,
    _meta,
    _params,
    _registry,
    _risk,
    _simulate,
    _speciate,
    _steady,
    _t50,
    _t50_simulate,
    _trial,
    _validate,
)
from mgckd.cli._app import app
from mgckd.cli._console import err, one_line
from mgckd.exceptions import UserInputError

EXIT_USER_ERROR = 2
EXIT_INTERNAL_ERROR = 1


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code (also the process exit code via `sys.exit`)."""
    try:
        app(args=argv, prog_name="mgckd")  # standalone: ends in SystemExit, usage errors exit 2
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else int(done.code is not None)
    except UserInputError as mistake:
        err.print(f"error: {mistake}", markup=False)
        code = EXIT_USER_ERROR
    except pydantic.ValidationError as mistake:
        err.print(f"error: {one_line(mistake)}", markup=False)
        code = EXIT_USER_ERROR
    except Exception as bug:  # an internal error: say so, keep the traceback behind a switch
        if os.environ.get("MGCKD_DEBUG"):
            raise
        err.print(f"internal error ({type(bug).__name__}): {bug}", markup=False)
        err.print(
            "This is a bug in mgckd; rerun with MGCKD_DEBUG=1 for the traceback and report it."
        )
        code = EXIT_INTERNAL_ERROR
    if argv is None:
        sys.exit(code)
    return code


__all__ = ["app", "main"]
