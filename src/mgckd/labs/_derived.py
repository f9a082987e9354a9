"""Derived lab values, vectorized over patients: eGFR, KDIGO, corrected Ca, anion gap, FEMg.

Every function takes numpy arrays (or scalars) in mgckd's internal units and returns arrays;
inputs that are missing (NaN) give NaN outputs. Coefficients come from the parameter registry.
"""

from __future__ import annotations

from functools import cache

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mgckd.params import parameters
from mgckd.units import convert

FloatArray = NDArray[np.float64]


@cache
def _p(name: str, unit: str) -> float:
    return parameters()[name].to(unit)


@cache
def _vector(name: str, unit: str) -> FloatArray:
    return np.asarray(parameters()[name].quantity.to(unit).magnitude, dtype=np.float64)


def egfr_ckd_epi_2021(
    creatinine_umol_l: ArrayLike, age_years: ArrayLike, female: ArrayLike
) -> FloatArray:
    """Estimated GFR by the race-free CKD-EPI 2021 creatinine equation, mL/min/1.73 m².

    Notes
    -----
    eGFR = 142 · min(Scr/κ, 1)^α · max(Scr/κ, 1)^−1.200 · 0.9938^age · 1.012[female],
    Scr in mg/dL (IDMS-traceable), κ = 0.7 (F) / 0.9 (M), α = −0.241 (F) / −0.302 (M).
    NaN below age 18, where the equation does not apply.

    References
    ----------
    Inker LA et al. N Engl J Med 2021;385:1737-49. doi:10.1056/NEJMoa2102953

    Examples
    --------
    >>> float(egfr_ckd_epi_2021(70.72, 70, False)).__round__(1)  # 0.8 mg/dL
    95.2
    """
    scr = convert(
        np.asarray(creatinine_umol_l, dtype=np.float64), "umol/L", "mg/dL", analyte="creatinine"
    )
    age = np.asarray(age_years, dtype=np.float64)
    is_female = np.asarray(female, dtype=bool)
    kappa = np.where(
        is_female, _p("ckd_epi_2021_kappa_female", "mg/dL"), _p("ckd_epi_2021_kappa_male", "mg/dL")
    )
    alpha = np.where(
        is_female, _p("ckd_epi_2021_alpha_female", "1"), _p("ckd_epi_2021_alpha_male", "1")
    )
    ratio = scr / kappa
    egfr = (
        _p("ckd_epi_2021_multiplier", "mL/min")
        * np.minimum(ratio, 1.0) ** alpha
        * np.maximum(ratio, 1.0) ** _p("ckd_epi_2021_exponent_above_knot", "1")
        * _p("ckd_epi_2021_age_base", "1") ** age
        * np.where(is_female, _p("ckd_epi_2021_female_factor", "1"), 1.0)
    )
    return np.where(age >= _p("ckd_epi_2021_minimum_age", "year"), egfr, np.nan)


_G_LABELS = np.array(["G1", "G2", "G3a", "G3b", "G4", "G5"])
_A_LABELS = np.array(["A1", "A2", "A3"])


def kdigo_gfr_category(egfr: ArrayLike) -> NDArray[np.str_]:
    """KDIGO GFR category (G1 ... G5) of an eGFR in mL/min/1.73 m²; '' where eGFR is missing."""
    value = np.asarray(egfr, dtype=np.float64)
    bounds = _vector("kdigo_gfr_category_lower_bounds", "mL/min")  # descending
    index = np.searchsorted(-bounds, -value, side="left")
    return np.where(np.isfinite(value), _G_LABELS[np.minimum(index, len(bounds))], "")


def kdigo_albuminuria_category(acr_mg_g: ArrayLike) -> NDArray[np.str_]:
    """KDIGO albuminuria category: A1 < 30, A2 30-300, A3 > 300 mg/g; '' where ACR is missing."""
    value = np.asarray(acr_mg_g, dtype=np.float64)
    low, high = _vector("kdigo_albuminuria_category_bounds", "mg/g")
    index = np.where(value < low, 0, np.where(value <= high, 1, 2))
    return np.where(np.isfinite(value), _A_LABELS[index], "")


def _albumin_adjusted(value_mmol_l: ArrayLike, albumin_g_l: ArrayLike, prefix: str) -> FloatArray:
    """value + slope · (reference albumin − albumin), with `<prefix>_albumin_slope` and
    `<prefix>_reference_albumin` from the registry."""
    slope = _p(f"{prefix}_albumin_slope", "mmol/L / (g/L)")
    reference = _p(f"{prefix}_reference_albumin", "g/L")
    albumin = np.asarray(albumin_g_l, dtype=np.float64)
    adjusted: FloatArray = np.asarray(value_mmol_l, dtype=np.float64) + slope * (
        reference - albumin
    )
    return adjusted


def corrected_calcium(calcium_mmol_l: ArrayLike, albumin_g_l: ArrayLike) -> FloatArray:
    """Albumin-corrected total calcium, mmol/L: Ca + 0.02 · (40 − albumin g/L) (Payne 1973)."""
    return _albumin_adjusted(calcium_mmol_l, albumin_g_l, "corrected_calcium")


def anion_gap(
    sodium_mmol_l: ArrayLike,
    chloride_mmol_l: ArrayLike,
    bicarbonate_mmol_l: ArrayLike,
    potassium_mmol_l: ArrayLike | None = None,
) -> FloatArray:
    """Anion gap, mmol/L: Na − (Cl + HCO₃), or (Na + K) − (Cl + HCO₃) when K is given."""
    gap = np.asarray(sodium_mmol_l, dtype=np.float64) - np.asarray(
        chloride_mmol_l, dtype=np.float64
    )
    gap = gap - np.asarray(bicarbonate_mmol_l, dtype=np.float64)
    if potassium_mmol_l is not None:
        gap = gap + np.asarray(potassium_mmol_l, dtype=np.float64)
    return gap


def albumin_adjusted_anion_gap(gap_mmol_l: ArrayLike, albumin_g_l: ArrayLike) -> FloatArray:
    """Anion gap adjusted for albumin, mmol/L: AG + 0.25 · (40 − albumin g/L) (Figge 1998)."""
    return _albumin_adjusted(gap_mmol_l, albumin_g_l, "anion_gap")


def fractional_excretion_mg(
    urine_mg_mmol_l: ArrayLike,
    plasma_mg_mmol_l: ArrayLike,
    urine_creatinine_umol_l: ArrayLike,
    plasma_creatinine_umol_l: ArrayLike,
) -> FloatArray:
    """Fractional excretion of Mg, %: (U_Mg · P_Cr) / (0.7 · P_Mg · U_Cr) · 100.

    0.7 is the ultrafilterable (non-protein-bound) fraction of plasma Mg.
    """
    fraction = _p("femg_ultrafilterable_fraction", "1")
    numerator = np.asarray(urine_mg_mmol_l, dtype=np.float64) * np.asarray(
        plasma_creatinine_umol_l, dtype=float
    )
    denominator = (
        fraction
        * np.asarray(plasma_mg_mmol_l, dtype=np.float64)
        * np.asarray(urine_creatinine_umol_l, dtype=np.float64)
    )
    percent: FloatArray = 100.0 * numerator / denominator
    return percent
