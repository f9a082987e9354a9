"""The analyte table: names, internal units, valences, molar masses and LOINC codes."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from mgckd.exceptions import RegistryError, UserInputError
from mgckd.params import parameters


@dataclass(frozen=True, slots=True)
class Analyte:
    """One clinical analyte.

    Attributes
    ----------
    name : canonical name (``magnesium``).
    label : human label with specimen.
    internal_unit : the unit mgckd computes in.
    units : the usual clinical units, listed in error messages.
    valence : |charge| for mEq conversion; None where mEq is ambiguous or meaningless.
    molar_mass_g_mol : bridge between mass and molar units; None where none applies.
    loinc : LOINC code by unit basis (``mass``, ``molar``, ``ratio``, ``ph``).
    loinc_also : further LOINC codes accepted on input.
    aliases : other names accepted on input.
    """

    name: str
    label: str
    internal_unit: str
    units: tuple[str, ...]
    valence: int | None = None
    molar_mass_g_mol: float | None = None
    loinc: Mapping[str, str] = field(default_factory=dict)
    loinc_also: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()

    @property
    def loinc_codes(self) -> tuple[str, ...]:
        """Every LOINC code that identifies this analyte on input."""
        return (*self.loinc.values(), *self.loinc_also)


@cache
def analytes() -> Mapping[str, Analyte]:
    """Every analyte, by canonical name, loaded once."""
    text = resources.files("mgckd.units").joinpath("analytes.toml").read_text(encoding="utf-8")
    table = tomllib.loads(text)
    registry = parameters()
    found: dict[str, Analyte] = {}
    for name, entry in table.items():
        molar_mass_name = entry.get("molar_mass")
        if molar_mass_name is not None and molar_mass_name not in registry:
            raise RegistryError(f"analyte {name!r}: molar mass {molar_mass_name!r} not registered")
        found[name] = Analyte(
            name=name,
            label=entry["label"],
            internal_unit=entry["internal_unit"],
            units=tuple(entry["units"]),
            valence=entry.get("valence"),
            molar_mass_g_mol=(
                None if molar_mass_name is None else registry[molar_mass_name].to("g/mol")
            ),
            loinc=dict(entry.get("loinc", {})),
            loinc_also=tuple(entry.get("loinc_also", ())),
            aliases=tuple(entry.get("aliases", ())),
        )
    return found


@cache
def _lookup() -> Mapping[str, Analyte]:
    table: dict[str, Analyte] = {}
    for a in analytes().values():
        for key in (a.name, *a.aliases, *a.loinc_codes):
            if key.lower() in table:
                raise RegistryError(f"analyte name, alias or LOINC {key!r} is used twice")
            table[key.lower()] = a
    return table


def analyte(name: str) -> Analyte:
    """The analyte called `name`: canonical name, alias or LOINC code, case-insensitive.

    Raises
    ------
    UserInputError
        When no analyte has that name; the message lists the known names.
    """
    try:
        return _lookup()[name.strip().lower()]
    except KeyError:
        known = ", ".join(analytes())
        raise UserInputError(f"unknown analyte {name!r}; known analytes: {known}") from None
