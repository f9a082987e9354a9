"""Load the parameter data files (``params/data/<module>.toml``) into checked `Parameter` values."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Mapping
from functools import cache
from importlib import resources
from typing import Any

import pint

from mgckd._pint import parse_unit
from mgckd.exceptions import RegistryError
from mgckd.params._parameter import Parameter, Status, is_citable

_REQUIRED = ("value", "unit", "description", "source", "status")
_OPTIONAL = ("note", "set", "calibrated_to")
_SET_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")
_CLAIM_ID = re.compile(r"^(S[01]-\d+|L-[a-z0-9-]+)$")  # as CLAIM_ID_PATTERN in mgckd.validate


class ParameterSet(Mapping[str, Parameter]):
    """Read-only mapping of parameter name to `Parameter`, with filters."""

    def __init__(self, parameters: Mapping[str, Parameter]) -> None:
        self._parameters = dict(parameters)

    def __getitem__(self, name: str) -> Parameter:
        try:
            return self._parameters[name]
        except KeyError:
            raise KeyError(f"no parameter named {name!r} in the registry") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._parameters)

    def __len__(self) -> int:
        return len(self._parameters)

    def select(
        self,
        *,
        module: str | None = None,
        status: Status | None = None,
        constant_set: str | None = None,
    ) -> ParameterSet:
        """The parameters of one module, one status and/or one constant set (all that are given)."""
        return ParameterSet(
            {
                name: p
                for name, p in self._parameters.items()
                if (module is None or p.module == module)
                and (status is None or p.status is status)
                and (constant_set is None or constant_set in p.sets)
            }
        )

    @property
    def constant_sets(self) -> tuple[str, ...]:
        """The constant-set tags present, sorted."""
        return tuple(sorted({s for p in self._parameters.values() for s in p.sets}))

    @property
    def modules(self) -> tuple[str, ...]:
        """The modules (data files) present, sorted."""
        return tuple(sorted({p.module for p in self._parameters.values()}))


def parse_entry(name: str, entry: Mapping[str, Any], *, module: str) -> Parameter:
    """Check one TOML table and turn it into a `Parameter`; `RegistryError` names what is wrong."""
    where = f"parameter {name!r} ({module}.toml)"
    missing = [key for key in _REQUIRED if key not in entry or entry[key] in ("", None)]
    if missing:
        raise RegistryError(f"{where}: missing {', '.join(missing)}")
    unknown = set(entry) - set(_REQUIRED) - set(_OPTIONAL)
    if unknown:
        raise RegistryError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    raw = entry["value"]
    if isinstance(raw, list):
        if not raw or not all(isinstance(v, int | float) for v in raw):
            raise RegistryError(f"{where}: value must be a number or a non-empty list of numbers")
        value: float | tuple[float, ...] = tuple(float(v) for v in raw)
    elif isinstance(raw, int | float) and not isinstance(raw, bool):
        value = float(raw)
    else:
        raise RegistryError(f"{where}: value {raw!r} is not a number")
    try:
        parse_unit(str(entry["unit"]))
    except (pint.errors.PintError, ValueError, AttributeError) as error:
        raise RegistryError(f"{where}: unit {entry['unit']!r} is not a unit ({error})") from None
    try:
        status = Status(entry["status"])
    except ValueError:
        accepted = ", ".join(s.value for s in Status)
        raise RegistryError(
            f"{where}: status {entry['status']!r} is not one of {accepted}"
        ) from None
    if not is_citable(str(entry["source"])):
        raise RegistryError(
            f"{where}: source {entry['source']!r} cites nothing checkable "
            "(give a seed claim id, DOI, PMID, ISBN, URL or docs page)"
        )
    sets = _sets(entry.get("set"), where)
    calibrated_to = _calibrated_to(entry.get("calibrated_to"), status, where)
    return Parameter(
        name=name,
        value=value,
        unit=str(entry["unit"]),
        description=str(entry["description"]),
        source=str(entry["source"]),
        status=status,
        module=module,
        note=str(entry.get("note", "")),
        sets=sets,
        calibrated_to=calibrated_to,
    )


def _sets(raw: Any, where: str) -> tuple[str, ...]:
    """The ``set`` field: a set name or a list of them (lowercase, digits, ``-``, ``_``)."""
    if raw is None:
        return ()
    names = [raw] if isinstance(raw, str) else raw
    if (
        not isinstance(names, list)
        or not names
        or not all(isinstance(n, str) and _SET_NAME.match(n) for n in names)
    ):
        raise RegistryError(
            f"{where}: set {raw!r} must be a set name or a non-empty list of set names "
            "(lowercase letters, digits, '-' and '_')"
        )
    return tuple(names)


def _calibrated_to(raw: Any, status: Status, where: str) -> tuple[str, ...]:
    """``calibrated_to``: required (non-empty list of claim ids) for fitted, forbidden otherwise."""
    if status is not Status.FITTED:
        if raw is not None:
            raise RegistryError(
                f"{where}: calibrated_to is only for status 'fitted', not {status.value!r}"
            )
        return ()
    if raw is None:
        raise RegistryError(
            f"{where}: a fitted parameter needs calibrated_to, the calibration claims it was "
            "fitted to"
        )
    if (
        not isinstance(raw, list)
        or not raw
        or not all(isinstance(i, str) and _CLAIM_ID.match(i) for i in raw)
    ):
        raise RegistryError(
            f"{where}: calibrated_to {raw!r} must be a non-empty list of claim ids "
            "(S0-<n>, S1-<n> or L-<slug>)"
        )
    return tuple(raw)


@cache
def parameters() -> ParameterSet:
    """Every registered parameter, loaded and checked once per process."""
    found: dict[str, Parameter] = {}
    for path in sorted(resources.files("mgckd.params").joinpath("data").iterdir(), key=str):
        if not path.name.endswith(".toml"):
            continue
        module = path.name.removesuffix(".toml")
        try:
            tables = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as error:
            raise RegistryError(f"{module}.toml is not valid TOML: {error}") from None
        for name, entry in tables.items():
            if name in found:
                raise RegistryError(
                    f"parameter {name!r} is defined in {found[name].module}.toml and {module}.toml"
                )
            if not isinstance(entry, dict):
                raise RegistryError(f"{module}.toml: {name!r} must be a table")
            found[name] = parse_entry(name, entry, module=module)
    return ParameterSet(found)
