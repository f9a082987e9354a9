"""Serum for the CPP layer: its plasma chemistry plus the two CPP inhibitors labs rarely measure.

Fetuin-A (g/L) and inorganic pyrophosphate (µmol/L) are not routine labs; where not given they
are taken from the reference normal plasma and listed in ``assumed``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mgckd.chemistry import REFERENCES, PlasmaComposition, reference_plasma
from mgckd.exceptions import UserInputError
from mgckd.params import parameters

FloatArray = NDArray[np.float64]

FETUIN_A = "fetuin_a_g_l"
PYROPHOSPHATE = "pyrophosphate_umol_l"
_INHIBITORS = {
    FETUIN_A: ("fetuin_a", "g/L", "cpp_fetuin_a_plausible_range"),
    PYROPHOSPHATE: ("pyrophosphate", "umol/L", "cpp_pyrophosphate_plausible_range"),
}


@dataclass(frozen=True)
class Serum:
    """Serum samples: plasma composition, fetuin-A and pyrophosphate (arrays over samples).

    Attributes
    ----------
    composition : the plasma chemistry (`mgckd.chemistry.PlasmaComposition`).
    fetuin_a_g_l : serum fetuin-A, g/L.
    pyrophosphate_umol_l : plasma inorganic pyrophosphate, µmol/L.
    assumed : names filled in from a reference plasma (the composition's own and these two).
    """

    composition: PlasmaComposition
    fetuin_a_g_l: FloatArray
    pyrophosphate_umol_l: FloatArray
    assumed: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        for name in (FETUIN_A, PYROPHOSPHATE):
            values = np.array(
                np.broadcast_to(np.asarray(getattr(self, name), dtype=np.float64), self.n)
            )
            values.flags.writeable = False
            object.__setattr__(self, name, values)

    def __len__(self) -> int:
        return len(self.composition)

    @property
    def n(self) -> int:
        """Number of samples."""
        return len(self.composition)

    def invalid(self) -> NDArray[np.bool_]:
        """Per sample, True when the composition or an inhibitor is unusable (see `problem`)."""
        bad = self.composition.invalid()
        for name, (_, _, limits) in _INHIBITORS.items():
            low, high = parameters()[limits].value  # type: ignore[misc]
            values = getattr(self, name)
            bad |= ~np.isfinite(values) | (values < low) | (values > high)
        result: NDArray[np.bool_] = bad
        return result

    def problem(self, i: int) -> str:
        """Why sample `i` cannot be simulated ('' when it can): every problem, '; '-joined."""
        found = [self.composition.problem(i)] if self.composition.problem(i) else []
        for name, (_, unit, limits) in _INHIBITORS.items():
            low, high = parameters()[limits].value  # type: ignore[misc]
            value = float(getattr(self, name)[i])
            if not np.isfinite(value):
                found.append(f"{name} is missing or not a number")
            elif not low <= value <= high:
                found.append(f"{name} {value:g} is outside {low:g}-{high:g} {unit}")
        return "; ".join(found)

    def take(self, index: NDArray[np.intp] | NDArray[np.bool_]) -> Serum:
        """The samples at `index` (an integer array or boolean mask)."""
        return Serum(
            self.composition.take(index),
            self.fetuin_a_g_l[index],
            self.pyrophosphate_umol_l[index],
            self.assumed,
        )


def serum(
    composition: PlasmaComposition,
    *,
    fetuin_a_g_l: ArrayLike | None = None,
    pyrophosphate_umol_l: ArrayLike | None = None,
) -> Serum:
    """A `Serum` from a plasma composition and, where measured, fetuin-A and pyrophosphate.

    Missing inhibitors (None, or NaN for a sample) take the reference normal plasma's value
    (registry ``reference_normal_plasma_fetuin_a``, ``..._pyrophosphate``) and are listed in
    ``assumed``.

    Examples
    --------
    >>> s = serum(reference_plasma("normal"), fetuin_a_g_l=0.5)
    >>> float(s.fetuin_a_g_l[0]), s.assumed[-1]
    (0.5, 'pyrophosphate_umol_l')
    """
    assumed = list(composition.assumed)
    values = {}
    for name, given in ((FETUIN_A, fetuin_a_g_l), (PYROPHOSPHATE, pyrophosphate_umol_l)):
        analyte, unit, _ = _INHIBITORS[name]
        reference = parameters()[f"reference_normal_plasma_{analyte}"].to(unit)
        array = np.atleast_1d(np.asarray(np.nan if given is None else given, dtype=np.float64))
        if array.ndim != 1:
            raise UserInputError(f"{name} must be a scalar or a 1-D array")
        if np.isnan(array).any():
            assumed.append(name)
        values[name] = np.where(np.isnan(array), reference, array)
    try:
        return Serum(composition, values[FETUIN_A], values[PYROPHOSPHATE], tuple(assumed))
    except ValueError as error:
        raise UserInputError(
            f"fetuin-A and pyrophosphate must match the {composition.n} samples: {error}"
        ) from None


def reference_serum(name: str = "normal") -> Serum:
    """A reference plasma of the registry with its fetuin-A and pyrophosphate (one sample).

    Parameters
    ----------
    name : ``normal``, ``ckd`` (non-dialysis CKD G3–G4) or ``hemodialysis`` (pre-dialysis).

    Examples
    --------
    >>> float(reference_serum("hemodialysis").pyrophosphate_umol_l[0])
    2.26
    """
    if name not in REFERENCES:
        raise UserInputError(f"reference plasma {name!r} is not one of {', '.join(REFERENCES)}")
    registry = parameters()
    return serum(
        reference_plasma(name),
        fetuin_a_g_l=registry[f"reference_{name}_plasma_fetuin_a"].to("g/L"),
        pyrophosphate_umol_l=registry[f"reference_{name}_plasma_pyrophosphate"].to("umol/L"),
    )


def concat_serum(parts: list[Serum]) -> Serum:
    """The samples of `parts`, one after the other."""
    return Serum(
        PlasmaComposition.concat([p.composition for p in parts]),
        np.concatenate([p.fetuin_a_g_l for p in parts]),
        np.concatenate([p.pyrophosphate_umol_l for p in parts]),
        tuple(dict.fromkeys(a for p in parts for a in p.assumed)),
    )
