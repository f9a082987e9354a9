"""Compile a model's scalar kernel (`CompiledModel.kernel_source`) to machine code with numba.

The source is written once to a file in the cache directory, named by its hash, and imported
from there, so numba can keep the machine code beside it: the first use of a model in a fresh
cache compiles (seconds), every later process loads (a fraction of a second). Each function is
compiled eagerly for its fixed signature (`VECTOR_SIGNATURE`, `LINEARIZE_SIGNATURE`: the solver,
compiled once for all models, calls it through a function pointer) with numpy's error model: a
division by zero or the logarithm of a negative number gives inf or NaN, which the solver treats
as a failed step, never an exception.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import sys
import tempfile
from functools import cache
from pathlib import Path
from types import ModuleType

import numba
from numba import types

from mgckd._atomic import write_text_atomic

CACHE_ENVIRONMENT_VARIABLE = "MGCKD_CACHE_DIR"
_VECTOR = types.float64[::1]
_MATRIX = types.float64[:, ::1]
VECTOR_SIGNATURE = types.void(types.float64, _VECTOR, _VECTOR, _VECTOR)
"""``rates_into(t, y, p, out)`` (rates, then ledger rates) and ``rules_into(t, y, p, out)``
(every rule in its model unit): time (h), states, parameters, output."""
LINEARIZE_SIGNATURE = types.void(
    types.float64, _VECTOR, _VECTOR, _MATRIX, _MATRIX, _VECTOR, _VECTOR
)
"""``linearize_into(t, y, p, jac, ledger_jac, ft, bt)``: the Jacobians and time derivatives."""
DERIVE_SIGNATURE = types.void(_VECTOR)
"""``derive_into(p)``: the parameter-only subexpressions, into the slots after the parameters."""
_SIGNATURES = {
    "derive_into": "DERIVE_SIGNATURE",
    "rates_into": "VECTOR_SIGNATURE",
    "linearize_into": "LINEARIZE_SIGNATURE",
    "rules_into": "VECTOR_SIGNATURE",
}
_DEF = re.compile(r"^def (\w+)\(", flags=re.MULTILINE)
_HEADER = (
    "import math\n\nimport numba\n\n"
    "from mgckd.model._kernel import DERIVE_SIGNATURE, LINEARIZE_SIGNATURE, VECTOR_SIGNATURE\n\n\n"
)


def cache_dir() -> Path:
    """Where generated code lives (``models/``, ``kernels/``): ``$MGCKD_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/mgckd``, else ``~/.cache/mgckd``."""
    explicit = os.environ.get(CACHE_ENVIRONMENT_VARIABLE)
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "mgckd"


def _decorated(match: re.Match[str]) -> str:
    signature = _SIGNATURES[match.group(1)]
    jit = f"@numba.njit({signature}, cache=True, error_model='numpy', nogil=True)"
    return f"{jit}\ndef {match.group(1)}("


@cache
def load_kernel(source: str) -> ModuleType:
    """The module of `source`'s functions, each compiled by numba (cached per source text)."""
    text = _HEADER + _DEF.sub(_decorated, source) + "\n"
    digest = hashlib.sha256(f"{numba.__version__}\n{text}".encode()).hexdigest()[:20]
    name = f"mgckd_kernel_{digest}"
    path = cache_dir() / "kernels" / f"{name}.py"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            write_text_atomic(path, text)
    except OSError:  # a read-only cache: compile from a private folder (no reuse)
        path = Path(tempfile.mkdtemp(prefix="mgckd-kernel-")) / f"{name}.py"
        write_text_atomic(path, text)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:  # pragma: no cover  (a .py path always has both)
        raise ImportError(f"cannot load the generated kernel {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
