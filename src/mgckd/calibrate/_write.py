"""Write fitted values into the registry data files, and check the shipped ones against a fit.

The data files are edited as text, table by table, so that comments, order and every other field
stay as they are; only ``value``, ``status``, ``calibrated_to`` and ``note`` of the fitted
parameters change. The file is replaced atomically.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from mgckd._atomic import write_text_atomic
from mgckd.calibrate._fit import ProblemFit
from mgckd.exceptions import RegistryError
from mgckd.model import compile_model
from mgckd.params import Status, parameters

DECIMALS = 6
"""Fitted values are written rounded to this many decimals (of the registry unit)."""

CHECK_TOLERANCE = 1e-5
"""`check` accepts a shipped value within this of the fit (absolute, registry unit): above the
rounding (5e-7), far below any effect (1e-5 in log10 K is 0.002 % in K)."""

_TABLE = re.compile(r"^\[(?P<name>[A-Za-z0-9_]+)\]\s*$")
_KEYS = ("value", "status", "calibrated_to", "note")


def data_file(module: str) -> Path:
    """The registry data file of `module` (``params/data/<module>.toml``)."""
    path = Path(str(resources.files("mgckd.params").joinpath("data", f"{module}.toml")))
    if not path.is_file():
        raise RegistryError(f"no registry data file for module {module!r}")
    return path


def _note(fitted: ProblemFit) -> str:
    return (
        f"fitted by mgckd calibrate (problem {fitted.problem}) to "
        + ", ".join(fitted.calibrated_to)
        + f"; see docs/{fitted.problem}.md#calibration"
    )


def render(text: str, fitted: ProblemFit) -> str:
    """`text` (a data file) with the fitted parameters' tables updated."""
    lines = text.splitlines()
    out: list[str] = []
    current: str | None = None
    done: set[str] = set()
    for line in lines:
        match = _TABLE.match(line)
        if match:
            current = match.group("name")
        if current in fitted.values and re.match(rf"^({'|'.join(_KEYS)})\s*=", line):
            if current not in done:
                out += _fitted_lines(current, fitted)
                done.add(current)
            continue
        out.append(line)
    missing = sorted(set(fitted.values) - done)
    if missing:
        raise RegistryError(f"fitted parameter(s) {', '.join(missing)} not found in the data file")
    return "\n".join(out) + "\n"


def _fitted_lines(name: str, fitted: ProblemFit) -> list[str]:
    ids = ", ".join(f'"{i}"' for i in fitted.calibrated_to)
    return [
        f"value = {round(fitted.values[name], DECIMALS)!r}",
        f'status = "{Status.FITTED.value}"',
        f"calibrated_to = [{ids}]",
        f'note = "{_note(fitted)}"',
    ]


def write(fitted: ProblemFit, path: Path | None = None) -> Path:
    """Write the fitted values into the problem's data file (or `path`) atomically."""
    target = path or data_file(fitted.problem)
    text = render(target.read_text(encoding="utf-8"), fitted)
    write_text_atomic(target, text)
    parameters.cache_clear()
    compile_model.cache_clear()  # compiled models hold the registry's values as defaults
    return target


@dataclass(frozen=True, slots=True)
class Mismatch:
    """A shipped parameter that differs from what the calibration program produces."""

    name: str
    shipped: float | None
    fitted: float
    reason: str


def check(fitted: ProblemFit) -> list[Mismatch]:
    """Shipped registry entries that do not match the fit (value, status or calibrated_to)."""
    registry = parameters()
    found = []
    for name, value in fitted.values.items():
        p = registry[name]
        shipped = p.value if isinstance(p.value, float) else None
        if shipped is None or abs(shipped - value) > CHECK_TOLERANCE:
            found.append(
                Mismatch(name, shipped, value, f"value differs by more than {CHECK_TOLERANCE:g}")
            )
        elif p.status is not Status.FITTED:
            found.append(Mismatch(name, shipped, value, f"status is {p.status.value}, not fitted"))
        elif p.calibrated_to != fitted.calibrated_to:
            found.append(
                Mismatch(name, shipped, value, f"calibrated_to is {list(p.calibrated_to)}")
            )
    return found
