"""Plasma compositions: what speciation needs per sample, checked, with clinical builders.

`PlasmaComposition` holds every total the solver needs, as arrays over samples in mgckd's
internal units (mmol/L, albumin g/L). `plasma_composition` builds one from clinical values:
pH from bicarbonate and pCO₂ when pH is not given, total CO₂ from bicarbonate, the uremic-anion
ligand from the albumin-adjusted anion gap, and reference-plasma values for the minor anions that
are rarely measured (each such fill-in is listed in `assumed`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from functools import cache
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mgckd.exceptions import UserInputError
from mgckd.labs import albumin_adjusted_anion_gap, anion_gap
from mgckd.params import parameters

FloatArray = NDArray[np.float64]

REFERENCES = ("normal", "ckd", "hemodialysis")
"""Reference plasma compositions in the registry (``reference_<name>_plasma_<analyte>``)."""

_TOTALS = (
    "calcium_mmol_l",
    "magnesium_mmol_l",
    "phosphate_mmol_l",
    "sodium_mmol_l",
    "potassium_mmol_l",
    "chloride_mmol_l",
    "total_co2_mmol_l",
    "sulfate_mmol_l",
    "citrate_mmol_l",
    "lactate_mmol_l",
    "albumin_g_l",
    "uremic_anion_mmol_l",
)


@cache
def _ph_range() -> tuple[float, float]:
    low, high = parameters()["speciation_ph_range"].value  # type: ignore[misc]
    return float(low), float(high)


def _p(name: str, unit: str) -> float:
    return parameters()[name].to(unit)


@dataclass(frozen=True)
class PlasmaComposition:
    """The plasma analytes of N samples, one numpy array per analyte (internal units).

    Attributes
    ----------
    calcium_mmol_l, magnesium_mmol_l, phosphate_mmol_l : totals, mmol/L.
    sodium_mmol_l, potassium_mmol_l, chloride_mmol_l : totals, mmol/L.
    total_co2_mmol_l : total carbonate (CO₂ + HCO₃⁻ + CO₃²⁻ and their complexes), mmol/L.
    sulfate_mmol_l, citrate_mmol_l, lactate_mmol_l : totals, mmol/L.
    albumin_g_l : albumin, g/L (binding sites are derived in the constant set).
    uremic_anion_mmol_l : the lumped uremic-anion ligand, mmol/L (see docs/chemistry.md).
    ph : plasma pH at 37 °C (the H⁺ activity is 10^−pH).
    assumed : names of analytes filled in from the reference plasma for some sample.

    Every field is broadcast to a 1-D float array of the common length at construction.
    """

    calcium_mmol_l: FloatArray
    magnesium_mmol_l: FloatArray
    phosphate_mmol_l: FloatArray
    sodium_mmol_l: FloatArray
    potassium_mmol_l: FloatArray
    chloride_mmol_l: FloatArray
    total_co2_mmol_l: FloatArray
    sulfate_mmol_l: FloatArray
    citrate_mmol_l: FloatArray
    lactate_mmol_l: FloatArray
    albumin_g_l: FloatArray
    uremic_anion_mmol_l: FloatArray
    ph: FloatArray
    assumed: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        names = [*_TOTALS, "ph"]
        try:
            arrays = np.broadcast_arrays(
                *(np.atleast_1d(np.asarray(getattr(self, n), dtype=np.float64)) for n in names)
            )
        except ValueError as error:
            raise UserInputError(f"composition fields have incompatible lengths: {error}") from None
        if arrays[0].ndim != 1:
            raise UserInputError("composition fields must be scalars or 1-D arrays")
        for name, array in zip(names, arrays, strict=True):
            frozen = np.array(array, dtype=np.float64)  # a copy: callers' arrays stay theirs
            frozen.flags.writeable = False
            object.__setattr__(self, name, frozen)

    def __len__(self) -> int:
        return int(self.ph.shape[0])

    @property
    def n(self) -> int:
        """Number of samples."""
        return len(self)

    def invalid(self) -> NDArray[np.bool_]:
        """Per sample, True when it cannot be speciated (see `problem`); vectorized."""
        low, high = _ph_range()
        bad = ~np.isfinite(self.ph) | (self.ph < low) | (self.ph > high)
        for name in _TOTALS:
            values = getattr(self, name)
            bad |= ~np.isfinite(values) | (values < 0)
        result: NDArray[np.bool_] = bad
        return result

    def problem(self, i: int) -> str:
        """Why sample `i` cannot be speciated ('' when it can): every problem, '; '-joined."""
        low, high = _ph_range()
        found = []
        for name in _TOTALS:
            value = float(getattr(self, name)[i])
            if not np.isfinite(value):
                found.append(f"{name} is missing or not a number")
            elif value < 0:
                found.append(f"{name} {value:g} is negative")
        ph = float(self.ph[i])
        if not np.isfinite(ph):
            found.append("ph is missing or not a number")
        elif not low <= ph <= high:
            found.append(f"ph {ph:g} is outside {low:g}-{high:g}")
        return "; ".join(found)

    def problems(self) -> list[str]:
        """`problem` of every sample (a Python list: meant for small batches)."""
        return [self.problem(i) for i in range(len(self))]

    def take(self, index: ArrayLike) -> PlasmaComposition:
        """The samples at `index` (an integer array or boolean mask)."""
        picked = {n: getattr(self, n)[index] for n in (*_TOTALS, "ph")}
        return PlasmaComposition(**picked, assumed=self.assumed)

    def to_dict(self) -> dict[str, FloatArray]:
        """Field name → array (``assumed`` left out)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "assumed"}

    @classmethod
    def from_dict(
        cls, values: Mapping[str, ArrayLike], *, assumed: tuple[str, ...] = ()
    ) -> PlasmaComposition:
        """From field name → values (every field but ``assumed``)."""
        expected = {*_TOTALS, "ph"}
        if set(values) != expected:
            raise UserInputError(
                "composition fields: missing "
                + (", ".join(sorted(expected - set(values))) or "none")
                + "; unknown "
                + (", ".join(sorted(set(values) - expected)) or "none")
            )
        arrays: dict[str, Any] = dict(values)
        return cls(**arrays, assumed=assumed)

    @classmethod
    def concat(cls, parts: Sequence[PlasmaComposition]) -> PlasmaComposition:
        """The samples of `parts`, one after the other."""
        columns = [p.to_dict() for p in parts]
        assumed = tuple(dict.fromkeys(a for p in parts for a in p.assumed))
        return cls.from_dict(
            {k: np.concatenate([c[k] for c in columns]) for k in columns[0]}, assumed=assumed
        )


def reference_plasma(name: str = "normal") -> PlasmaComposition:
    """A reference plasma composition of the registry (one sample), built by `plasma_composition`.

    Parameters
    ----------
    name : ``normal`` (adult), ``ckd`` (non-dialysis CKD G3–G4) or ``hemodialysis``
        (pre-dialysis); values and their status in ``mgckd params --module chemistry``.

    Examples
    --------
    >>> ref = reference_plasma("normal")
    >>> float(ref.calcium_mmol_l[0]), float(ref.uremic_anion_mmol_l[0])
    (2.4, 0.0)
    """
    if name not in REFERENCES:
        raise UserInputError(f"reference plasma {name!r} is not one of {', '.join(REFERENCES)}")

    def ref(analyte: str, unit: str = "mmol/L") -> float:
        return _p(f"reference_{name}_plasma_{analyte}", unit)

    return plasma_composition(
        calcium_mmol_l=ref("calcium"),
        magnesium_mmol_l=ref("magnesium"),
        phosphate_mmol_l=ref("phosphate"),
        albumin_g_l=ref("albumin", "g/L"),
        ph=ref("ph", "1"),
        bicarbonate_mmol_l=ref("bicarbonate"),
        sodium_mmol_l=ref("sodium"),
        potassium_mmol_l=ref("potassium"),
        chloride_mmol_l=ref("chloride"),
        sulfate_mmol_l=ref("sulfate"),
        citrate_mmol_l=ref("citrate"),
        lactate_mmol_l=ref("lactate"),
    )


def ph_from_bicarbonate(bicarbonate_mmol_l: ArrayLike, pco2_mmhg: ArrayLike) -> FloatArray:
    """Plasma pH from bicarbonate and pCO₂ (Henderson–Hasselbalch, as blood-gas analysers use it).

    pH = pK′ + log10(HCO₃⁻ / (α·pCO₂)), pK′ = 6.105, α = 0.0307 mmol/L/mmHg at 37 °C.

    References
    ----------
    CLSI C46-A (2001), as in https://www.easymanua.ls/optimedical/opti-cca-ts/manual?p=248

    Examples
    --------
    >>> round(float(ph_from_bicarbonate(24.0, 40.0)), 3)
    7.396
    """
    pk = _p("carbonic_acid_apparent_pk_37c", "1")
    alpha = _p("co2_solubility_plasma_37c", "mmol/L/mmHg")
    hco3 = np.asarray(bicarbonate_mmol_l, dtype=np.float64)
    pco2 = np.asarray(pco2_mmhg, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        result: FloatArray = pk + np.log10(hco3 / (alpha * pco2))
    return result


def total_co2(
    bicarbonate_mmol_l: ArrayLike, ph: ArrayLike, pco2_mmhg: ArrayLike | None = None
) -> FloatArray:
    """Total CO₂, mmol/L: HCO₃⁻ + dissolved CO₂, the latter α·pCO₂ where pCO₂ is given (and not
    NaN), else HCO₃⁻·10^(pK′ − pH).

    Examples
    --------
    >>> round(float(total_co2(24.0, 7.4)), 2)
    25.22
    """
    hco3 = np.asarray(bicarbonate_mmol_l, dtype=np.float64)
    pk = _p("carbonic_acid_apparent_pk_37c", "1")
    from_ph = hco3 * 10.0 ** (pk - np.asarray(ph, dtype=np.float64))
    if pco2_mmhg is None:
        dissolved = from_ph
    else:
        pco2 = np.asarray(pco2_mmhg, dtype=np.float64)
        alpha = _p("co2_solubility_plasma_37c", "mmol/L/mmHg")
        dissolved = np.where(np.isfinite(pco2), alpha * pco2, from_ph)
    result: FloatArray = hco3 + dissolved
    return result


def _adjusted_anion_gap(
    sodium: FloatArray, chloride: FloatArray, bicarbonate: FloatArray, albumin: FloatArray
) -> FloatArray:
    """Na − (Cl + HCO₃), albumin-adjusted (Figge), mmol/L, with the labs layer's equations."""
    return albumin_adjusted_anion_gap(anion_gap(sodium, chloride, bicarbonate), albumin)


@cache
def _reference_adjusted_anion_gap() -> float:
    """The albumin-adjusted anion gap of the reference normal plasma, mmol/L."""

    def ref(analyte: str, unit: str = "mmol/L") -> FloatArray:
        return np.array([_p(f"reference_normal_plasma_{analyte}", unit)])

    return float(
        _adjusted_anion_gap(
            ref("sodium"), ref("chloride"), ref("bicarbonate"), ref("albumin", "g/L")
        )[0]
    )


def uremic_anion_from_anion_gap(
    sodium_mmol_l: ArrayLike,
    chloride_mmol_l: ArrayLike,
    bicarbonate_mmol_l: ArrayLike,
    albumin_g_l: ArrayLike,
) -> FloatArray:
    """The lumped uremic-anion ligand, mmol/L: the albumin-adjusted anion gap above that of the
    reference normal plasma (12 mmol/L), never below 0. Empirical; see docs/chemistry.md.

    Examples
    --------
    >>> float(uremic_anion_from_anion_gap(138, 100, 20, 36)[()])  # AG 18, adjusted 19
    7.0
    """
    gap = _adjusted_anion_gap(
        np.asarray(sodium_mmol_l, dtype=np.float64),
        np.asarray(chloride_mmol_l, dtype=np.float64),
        np.asarray(bicarbonate_mmol_l, dtype=np.float64),
        np.asarray(albumin_g_l, dtype=np.float64),
    )
    result: FloatArray = np.maximum(gap - _reference_adjusted_anion_gap(), 0.0)
    return result


def _given(value: ArrayLike | None) -> FloatArray | None:
    return None if value is None else np.atleast_1d(np.asarray(value, dtype=np.float64))


def plasma_composition(
    *,
    calcium_mmol_l: ArrayLike,
    magnesium_mmol_l: ArrayLike,
    phosphate_mmol_l: ArrayLike,
    albumin_g_l: ArrayLike,
    ph: ArrayLike | None = None,
    bicarbonate_mmol_l: ArrayLike | None = None,
    pco2_mmhg: ArrayLike | None = None,
    sodium_mmol_l: ArrayLike | None = None,
    potassium_mmol_l: ArrayLike | None = None,
    chloride_mmol_l: ArrayLike | None = None,
    sulfate_mmol_l: ArrayLike | None = None,
    citrate_mmol_l: ArrayLike | None = None,
    lactate_mmol_l: ArrayLike | None = None,
    uremic_anion_mmol_l: ArrayLike | None = None,
) -> PlasmaComposition:
    """Build a `PlasmaComposition` from clinical values (scalars or arrays, internal units).

    Required: Ca, Mg, phosphate and albumin totals, and pH, or bicarbonate with pCO₂ (pH then
    follows from Henderson–Hasselbalch, sample by sample where pH is NaN). Optional, filled from
    the reference normal plasma where missing (None, or NaN for a sample) and listed in
    ``assumed``: Na, K, Cl, bicarbonate,
    sulfate, citrate, lactate. The uremic-anion ligand is taken as given, else derived from the
    albumin-adjusted anion gap where Na, Cl and bicarbonate are all measured, else 0 (assumed).

    Raises
    ------
    UserInputError
        When neither pH nor bicarbonate with pCO₂ is given.

    Examples
    --------
    >>> c = plasma_composition(calcium_mmol_l=2.4, magnesium_mmol_l=0.9, phosphate_mmol_l=1.1,
    ...                        albumin_g_l=40, ph=7.4)
    >>> c.n, "sodium_mmol_l" in c.assumed
    (1, True)
    """
    assumed: list[str] = []

    def ref(analyte: str) -> float:
        return _p(f"reference_normal_plasma_{analyte}", "mmol/L")

    def optional(
        value: ArrayLike | None, analyte: str, name: str
    ) -> tuple[FloatArray, NDArray[np.bool_]]:
        """(values with the missing filled in, mask of measured)."""
        given = _given(value)
        if given is None:
            assumed.append(name)
            return np.array([ref(analyte)]), np.array([False])
        measured = np.isfinite(given)
        if not measured.all():
            assumed.append(name)
        return np.where(measured, given, ref(analyte)), measured

    hco3_given = _given(bicarbonate_mmol_l)
    pco2 = _given(pco2_mmhg)
    if ph is None and (hco3_given is None or pco2 is None):
        raise UserInputError(
            "give ph, or bicarbonate and pco2 (pH then follows from Henderson-Hasselbalch)"
        )
    ph_values = np.atleast_1d(np.asarray(np.nan if ph is None else ph, dtype=np.float64))
    if hco3_given is not None and pco2 is not None:  # a sample without pH takes it from them
        with np.errstate(invalid="ignore"):
            ph_values = np.where(
                np.isfinite(ph_values), ph_values, ph_from_bicarbonate(hco3_given, pco2)
            )
    hco3, hco3_measured = optional(bicarbonate_mmol_l, "bicarbonate", "bicarbonate_mmol_l")
    sodium, na_measured = optional(sodium_mmol_l, "sodium", "sodium_mmol_l")
    potassium, _ = optional(potassium_mmol_l, "potassium", "potassium_mmol_l")
    chloride, cl_measured = optional(chloride_mmol_l, "chloride", "chloride_mmol_l")
    sulfate, _ = optional(sulfate_mmol_l, "sulfate", "sulfate_mmol_l")
    citrate, _ = optional(citrate_mmol_l, "citrate", "citrate_mmol_l")
    lactate, _ = optional(lactate_mmol_l, "lactate", "lactate_mmol_l")
    if "bicarbonate_mmol_l" in assumed:
        assumed.remove("bicarbonate_mmol_l")
        assumed.append("total_co2_mmol_l")
    albumin = np.atleast_1d(np.asarray(albumin_g_l, dtype=np.float64))
    carbon = total_co2(hco3, ph_values, pco2)
    uremic = _given(uremic_anion_mmol_l)
    if uremic is None:
        measured = na_measured & cl_measured & hco3_measured
        with np.errstate(invalid="ignore"):
            derived = uremic_anion_from_anion_gap(sodium, chloride, hco3, albumin)
        uremic = np.where(measured & np.isfinite(derived), derived, 0.0)
        if not np.all(measured):
            assumed.append("uremic_anion_mmol_l")
    return PlasmaComposition(
        calcium_mmol_l=np.asarray(calcium_mmol_l, dtype=np.float64),
        magnesium_mmol_l=np.asarray(magnesium_mmol_l, dtype=np.float64),
        phosphate_mmol_l=np.asarray(phosphate_mmol_l, dtype=np.float64),
        sodium_mmol_l=sodium,
        potassium_mmol_l=potassium,
        chloride_mmol_l=chloride,
        total_co2_mmol_l=carbon,
        sulfate_mmol_l=sulfate,
        citrate_mmol_l=citrate,
        lactate_mmol_l=lactate,
        albumin_g_l=albumin,
        uremic_anion_mmol_l=uremic,
        ph=ph_values,
        assumed=tuple(dict.fromkeys(assumed)),
    )
