"""The check registry: one function per claim id, computing what the model says about the claim.

Concrete checks live in ``mgckd/validate/checks_<layer>.py`` modules, written with their layer::

    from mgckd.validate import CheckResult, Verdict, check, claims

    @check("S0-1")
    def hypomagnesemia_threshold() -> CheckResult:
        ...

`discover_checks` imports them when the runner runs, never when `mgckd.validate` is imported.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING

from mgckd.exceptions import RegistryError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

_PACKAGE = __name__.rpartition(".")[0]
CHECK_MODULE_PREFIX = "checks_"
"""Modules of this package whose name starts with this are imported by `discover_checks`."""


class Verdict(StrEnum):
    """The outcome of one claim's check."""

    PASS = "pass"
    FAIL = "fail"
    PENDING = "pending"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class CheckResult:
    """What a check found.

    Attributes
    ----------
    model : what the model produced, a number (in the published unit) or a short text.
    verdict : pass or fail against the claim's tolerance; pending when the check cannot run yet.
    detail : one line saying how the verdict was reached.
    figure : an optional function drawing a figure (with ``matplotlib.figure.Figure``, not
        pyplot); called only when the report asks for figures.
    """

    model: str | float
    verdict: Verdict
    detail: str
    figure: Callable[[], Figure] | None = None


CheckFunction = Callable[[], CheckResult]

_registry: dict[str, CheckFunction] = {}


def _same_function(first: CheckFunction, second: CheckFunction) -> bool:
    """True for one function seen twice (e.g. its module imported again)."""
    return (first.__module__, first.__qualname__) == (second.__module__, second.__qualname__)


def check(claim_id: str) -> Callable[[CheckFunction], CheckFunction]:
    """Register the decorated function as the check of claim `claim_id`.

    The id is checked against ``claims.yaml`` when the runner discovers the checks.

    Raises
    ------
    RegistryError
        When another function is already registered for `claim_id`.
    """

    def register(function: CheckFunction) -> CheckFunction:
        existing = _registry.get(claim_id)
        if existing is not None and not _same_function(existing, function):
            raise RegistryError(
                f"claim {claim_id!r} has two checks: {existing.__module__}.{existing.__qualname__}"
                f" and {function.__module__}.{function.__qualname__}"
            )
        _registry[claim_id] = function
        return function

    return register


def discover_checks() -> Mapping[str, CheckFunction]:
    """Import every ``checks_*`` module of the package and return the registry (read-only)."""
    package = importlib.import_module(_PACKAGE)
    for module in pkgutil.iter_modules(package.__path__):
        if module.name.startswith(CHECK_MODULE_PREFIX):
            importlib.import_module(f"{_PACKAGE}.{module.name}")
    return MappingProxyType(_registry)
