"""One registered parameter: a number with its unit, meaning, source and status."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
import pint

from mgckd._pint import quantity


class Status(StrEnum):
    """How a parameter's value came to be.

    measured: a published value taken as is (a measurement, an estimate or a definition).
    derived: computed by us from other published values; the note says how.
    assumed: our choice where no source gives the number; the source points to the reasoning.
    fitted: produced by the calibration program from `calibration` targets only.
    """

    MEASURED = "measured"
    DERIVED = "derived"
    ASSUMED = "assumed"
    FITTED = "fitted"


_SOURCE_PATTERN = re.compile(
    r"\bS[01]-\d+\b|doi:\s*10\.\d{4,}/|\bPMID:?\s*\d+|\bPMC\d+|\bISBN[- ]?[\dX-]+|https?://|docs/\S+\.md",
)


def is_citable(source: str) -> bool:
    """True when `source` names a seed claim, DOI, PMID/PMC, ISBN, URL or a docs page."""
    return bool(_SOURCE_PATTERN.search(source))


@dataclass(frozen=True, slots=True)
class Parameter:
    """A number the code uses, with provenance.

    Attributes
    ----------
    name : unique registry name, with its unit in it where ambiguous (``molar_mass_magnesium``).
    value : a scalar, or a tuple for a range or a coefficient vector.
    unit : a unit string pint understands (``g/mol``, ``mg/dL``, ``1`` for dimensionless).
    description : what the number is.
    source : where it comes from (seed claim id, DOI, PMID, ISBN, URL or a docs page).
    status : see `Status`.
    module : the data file (layer) it belongs to.
    note : how it was derived, read off or chosen, when that is not obvious.
    sets : the selectable constant sets it belongs to (``("phreeqc",)``); empty for parameters
        that are not part of a set.
    calibrated_to : for ``fitted`` parameters only, the ids of the ``calibration`` claims
        (``claims.yaml``) the calibration program fitted it to.
    """

    name: str
    value: float | tuple[float, ...]
    unit: str
    description: str
    source: str
    status: Status
    module: str
    note: str = ""
    sets: tuple[str, ...] = ()
    calibrated_to: tuple[str, ...] = ()

    @property
    def quantity(self) -> pint.Quantity[Any]:
        """The value as a pint quantity (an array for tuple values)."""
        magnitude = np.asarray(self.value) if isinstance(self.value, tuple) else self.value
        return quantity(magnitude, self.unit)

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dictionary of every field."""
        return {
            "name": self.name,
            "value": list(self.value) if isinstance(self.value, tuple) else self.value,
            "unit": self.unit,
            "description": self.description,
            "source": self.source,
            "status": self.status.value,
            "module": self.module,
            "note": self.note,
            "sets": list(self.sets),
            "calibrated_to": list(self.calibrated_to),
        }

    def to(self, unit: str) -> float:
        """The scalar value expressed in `unit`."""
        if isinstance(self.value, tuple):
            raise TypeError(f"parameter {self.name!r} is a vector; use .quantity")
        return float(self.quantity.to(unit).magnitude)
