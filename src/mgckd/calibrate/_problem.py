"""Calibration problems: which registry parameters a module fits, to which calibration targets.

A `Problem` declares its free parameters (registry names, bounds, fixed starting values) and its
targets; each `Target` names a claim of ``claims.yaml`` whose role is ``calibration`` (and, for a
claim publishing several values, which one) and how the model computes it from trial values.
Declaring a target on a validation claim is refused: what is fitted cannot also be tested.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from mgckd.exceptions import RegistryError
from mgckd.params import parameters
from mgckd.validate import Role, claim

Model = Callable[[Mapping[str, float]], Sequence[float]]
"""Trial values (registry name → value) → the model's value of each target, in target order."""


@dataclass(frozen=True, slots=True)
class Free:
    """A parameter the calibration fits.

    Attributes
    ----------
    name : registry name; its value is fitted in the registry unit.
    lower, upper : bounds of the fit (registry unit).
    start : fixed starting value, so that the fit does not depend on the shipped value.
    """

    name: str
    lower: float
    upper: float
    start: float


@dataclass(frozen=True, slots=True)
class Target:
    """One calibration target: a claim id and, when it publishes several values, which one."""

    claim_id: str
    item: str | None = None

    @property
    def label(self) -> str:
        """``S0-22: <item>`` or the bare claim id."""
        return f"{self.claim_id}: {self.item}" if self.item else self.claim_id


@dataclass(frozen=True, slots=True)
class Problem:
    """The calibration problem of one module.

    Attributes
    ----------
    name : the module (and registry data file) whose parameters are fitted, e.g. ``chemistry``.
    description : one line.
    free : the fitted parameters.
    targets : the calibration targets.
    model : computes every target from trial values of the free parameters.
    """

    name: str
    description: str
    free: tuple[Free, ...]
    targets: tuple[Target, ...]
    model: Model

    def __post_init__(self) -> None:
        registry = parameters()
        for f in self.free:
            if f.name not in registry:
                raise RegistryError(f"calibration {self.name!r}: no parameter {f.name!r}")
            if registry[f.name].module != self.name:
                raise RegistryError(
                    f"calibration {self.name!r}: {f.name!r} belongs to {registry[f.name].module}"
                )
            if not f.lower <= f.start <= f.upper:
                raise RegistryError(f"calibration {self.name!r}: start of {f.name!r} out of bounds")
        for t in self.targets:
            found = claim(t.claim_id)
            if found.role is not Role.CALIBRATION:
                raise RegistryError(
                    f"calibration {self.name!r}: {t.claim_id} is a {found.role} claim; only "
                    "calibration claims may be fitted to"
                )
            found.published.item(t.item)  # KeyError names the published values

    @property
    def claim_ids(self) -> tuple[str, ...]:
        """The claim ids of the targets, in order, without repeats."""
        return tuple(dict.fromkeys(t.claim_id for t in self.targets))


_PROBLEMS: dict[str, Callable[[], Problem]] = {}
_AFTER: dict[str, tuple[str, ...]] = {}


def problem(
    name: str, *, after: tuple[str, ...] = ()
) -> Callable[[Callable[[], Problem]], Callable[[], Problem]]:
    """Register the decorated function as the builder of the calibration problem `name`,
    fitted after the problems `after` (whose fitted values its model uses)."""

    def register(build: Callable[[], Problem]) -> Callable[[], Problem]:
        if name in _PROBLEMS and _PROBLEMS[name] is not build:
            raise RegistryError(f"two calibration problems named {name!r}")
        _PROBLEMS[name] = build
        _AFTER[name] = after
        return build

    return register


def _fitting_order() -> list[str]:
    """Problem names, each after the problems it uses (alphabetical where free)."""
    order: list[str] = []
    while len(order) < len(_PROBLEMS):
        ready = [
            n
            for n in sorted(_PROBLEMS)
            if n not in order and all(d in order for d in _AFTER[n] if d in _PROBLEMS)
        ]
        if not ready:
            raise RegistryError(f"calibration problems depend on each other in a cycle: {_AFTER}")
        order.append(ready[0])
    return order


def problems() -> dict[str, Problem]:
    """Every registered calibration problem, built (one per module), in fitting order: a
    problem comes after those whose fitted values its model uses."""
    from mgckd.calibrate import (  # noqa: F401, PLC0415
        problems_calcification,
        problems_chemistry,
        problems_cpp,
        problems_dialysis,
        problems_physiology,
    )

    return {name: _PROBLEMS[name]() for name in _fitting_order()}
