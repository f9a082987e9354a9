"""The population presets: which characteristics a cohort has, their marginal distributions and
their latent correlations, every number from ``params/data/populations.toml``.

Two presets: ``ckd_g1_g5`` (Japanese non-dialysis CKD outpatients, G1-G5, like Oka 2019's
cross-sectional cohort, S0-2) and ``jsdt_hd`` (Japanese in-centre hemodialysis, like the JSDT
registry of S0-18). docs/populations.md lists every distribution with its source.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from typing import Literal

import numpy as np

from mgckd.exceptions import UserInputError
from mgckd.params import parameters
from mgckd.populations._marginals import (
    Bernoulli,
    Constant,
    LogNormal,
    Marginal,
    PiecewiseUniform,
    TruncatedNormal,
)

Dialysis = Literal["none", "hemodialysis"]

BOOLEAN_CHARACTERISTICS = (
    "male",
    "diabetes",
    "loop_diuretic",
    "thiazide",
    "mgo_laxative",
    "phosphate_binder",
)
"""Characteristics that are yes/no (stored as booleans)."""


@dataclass(frozen=True, slots=True)
class Correlation:
    """A latent (copula) correlation between two characteristics, from a registry entry."""

    first: str
    second: str
    registry: str

    @property
    def value(self) -> float:
        """The correlation, from the registry."""
        return parameters()[self.registry].to("1")


@dataclass(frozen=True, eq=False)
class Preset:
    """A virtual population: the distribution of each characteristic and their correlations.

    Attributes
    ----------
    name : identifier (``ckd_g1_g5``, ``jsdt_hd``).
    description : who the patients are.
    dialysis : ``none`` or ``hemodialysis``, the same for every patient.
    reference_plasma : the `mgckd.chemistry` reference plasma of such patients (``ckd``,
        ``hemodialysis``), the background chemistry of plasma-derived endpoints (T50).
    marginals : characteristic name → its marginal distribution (units in the names).
    correlations : latent correlations of the Gaussian copula.
    """

    name: str
    description: str
    dialysis: Dialysis
    reference_plasma: str
    marginals: Mapping[str, Marginal]
    correlations: tuple[Correlation, ...]

    def correlation_matrix(self) -> np.ndarray[tuple[int, int], np.dtype[np.float64]]:
        """The latent correlation matrix, in the order of `marginals`."""
        names = list(self.marginals)
        matrix = np.eye(len(names))
        for c in self.correlations:
            i, j = names.index(c.first), names.index(c.second)
            matrix[i, j] = matrix[j, i] = c.value
        return matrix


def _value(name: str, unit: str) -> float:
    return parameters()[name].to(unit)


def _pair(name: str, unit: str) -> tuple[float, float]:
    low, high = parameters()[name].quantity.to(unit).magnitude
    return float(low), float(high)


def _egfr_marginal() -> PiecewiseUniform:
    """eGFR with the cohort's share per KDIGO category, uniform within each category."""
    bounds = parameters()["kdigo_gfr_category_lower_bounds"].quantity.to("mL/min").magnitude
    lowest, highest = _pair("ckd_cohort_egfr_outer_bounds_ml_min", "mL/min")
    fractions = parameters()["ckd_cohort_stage_fractions"].quantity.to("1").magnitude  # G1..G5
    edges = (lowest, *sorted(float(b) for b in bounds), highest)
    return PiecewiseUniform(edges, tuple(float(f) for f in fractions[::-1]))


def _diet(reference: str, cv: str) -> LogNormal:
    """Habitual intake: log-normal around the registry's reference intake `reference`."""
    return LogNormal.from_cv(_value(reference, "mmol/d"), _value(cv, "1"))


def _weight(prefix: str) -> TruncatedNormal:
    return TruncatedNormal(
        _value(f"{prefix}_weight_mean_kg", "kg"),
        _value(f"{prefix}_weight_sd_kg", "kg"),
        *_pair("population_weight_range_kg", "kg"),
    )


def _age(prefix: str) -> TruncatedNormal:
    return TruncatedNormal(
        _value(f"{prefix}_age_mean_years", "year"),
        _value(f"{prefix}_age_sd_years", "year"),
        *_pair(f"{prefix}_age_range_years", "year"),
    )


def _demographics(prefix: str) -> dict[str, Marginal]:
    """Age, sex, body weight and diabetes, from the `prefix`'s registry entries."""
    return {
        "age_years": _age(prefix),
        "male": Bernoulli(_value(f"{prefix}_male_fraction", "1")),
        "weight_kg": _weight(prefix),
        "diabetes": Bernoulli(_value(f"{prefix}_diabetes_fraction", "1")),
    }


def _ckd_g1_g5() -> Preset:
    p = "ckd_cohort"
    marginals: dict[str, Marginal] = {
        **_demographics(p),
        "egfr_ml_min_1_73m2": _egfr_marginal(),
        "egfr_slope_ml_min_year": TruncatedNormal(
            _value(f"{p}_egfr_slope_mean_ml_min_year", "mL/min/year"),
            _value(f"{p}_egfr_slope_sd_ml_min_year", "mL/min/year"),
            0.0,
        ),
        "upcr_g_g": LogNormal(
            _value(f"{p}_upcr_median_g_g", "g/g"), _value(f"{p}_upcr_geometric_sd", "1")
        ),
        "diet_mg_mmol_d": _diet("diet_mg_mmol_d", "population_diet_mg_cv"),
        "loop_diuretic": Bernoulli(_value(f"{p}_loop_diuretic_fraction", "1")),
        "thiazide": Bernoulli(_value(f"{p}_thiazide_fraction", "1")),
        "mgo_laxative": Constant(0.0),
        "vintage_years": Constant(np.nan),
        "residual_gfr_ml_min": Constant(np.nan),
        "fluid_gain_l_d": Constant(np.nan),
        "diet_phosphate_mmol_d": Constant(np.nan),
        "phosphate_binder": Constant(0.0),
        "phosphate_unbound_fraction": Constant(np.nan),
        "dialysate_mg_mmol_l": Constant(np.nan),
    }
    pairs = (
        ("age_years", "egfr_ml_min_1_73m2", "age_egfr"),
        ("egfr_ml_min_1_73m2", "upcr_g_g", "egfr_upcr"),
        ("diabetes", "upcr_g_g", "diabetes_upcr"),
        ("egfr_ml_min_1_73m2", "diet_mg_mmol_d", "egfr_diet"),
        ("egfr_ml_min_1_73m2", "loop_diuretic", "egfr_loop_diuretic"),
        ("male", "weight_kg", "male_weight"),
    )
    return Preset(
        name="ckd_g1_g5",
        description=(
            "Japanese non-dialysis CKD outpatients, KDIGO G1-G5 (an Oka 2019-like "
            "cross-sectional cohort)"
        ),
        dialysis="none",
        reference_plasma="ckd",
        marginals=MappingProxyType(marginals),
        correlations=tuple(Correlation(a, b, f"{p}_correlation_{n}") for a, b, n in pairs),
    )


def _jsdt_hd() -> Preset:
    p = "hd_cohort"
    marginals: dict[str, Marginal] = {
        **_demographics(p),
        "egfr_ml_min_1_73m2": Constant(np.nan),
        "egfr_slope_ml_min_year": Constant(0.0),
        "upcr_g_g": Constant(np.nan),
        "diet_mg_mmol_d": LogNormal(
            _value("hemodialysis_reference_diet_mg_mmol_d", "mmol/d"),
            _value(f"{p}_diet_mg_geometric_sd", "1"),
        ),
        "loop_diuretic": Constant(0.0),
        "thiazide": Constant(0.0),
        "mgo_laxative": Bernoulli(_value(f"{p}_mgo_laxative_fraction", "1")),
        "vintage_years": LogNormal(
            _value(f"{p}_vintage_median_years", "year"), _value(f"{p}_vintage_geometric_sd", "1")
        ),
        "residual_gfr_ml_min": LogNormal(
            _value(f"{p}_residual_gfr_median_ml_min", "mL/min"),
            _value(f"{p}_residual_gfr_geometric_sd", "1"),
            high=_pair("residual_gfr_hemodialysis_range_ml_min", "mL/min")[1],
        ),
        "fluid_gain_l_d": TruncatedNormal(
            _value("interdialytic_fluid_gain_reference_l_d", "L/d"),
            _value(f"{p}_fluid_gain_sd_l_d", "L/d"),
            *_pair("interdialytic_fluid_gain_range_l_d", "L/d"),
        ),
        "diet_phosphate_mmol_d": _diet(
            "hemodialysis_reference_diet_phosphate_mmol_d", "population_diet_phosphate_cv"
        ),
        "phosphate_binder": Bernoulli(_value(f"{p}_phosphate_binder_fraction", "1")),
        "phosphate_unbound_fraction": Constant(
            _value("hemodialysis_phosphate_unbound_fraction", "1")
        ),
        "dialysate_mg_mmol_l": Constant(_value(f"{p}_dialysate_mg_mmol_l", "mmol/L")),
    }
    pairs = (
        ("vintage_years", "residual_gfr_ml_min", "vintage_residual_gfr"),
        ("age_years", "vintage_years", "age_vintage"),
        ("male", "weight_kg", "male_weight"),
        ("weight_kg", "fluid_gain_l_d", "weight_fluid_gain"),
        ("residual_gfr_ml_min", "fluid_gain_l_d", "residual_gfr_fluid_gain"),
        ("diet_mg_mmol_d", "diet_phosphate_mmol_d", "diet_mg_phosphate"),
    )
    return Preset(
        name="jsdt_hd",
        description="Japanese in-centre hemodialysis patients (a JSDT registry-like cohort)",
        dialysis="hemodialysis",
        reference_plasma="hemodialysis",
        marginals=MappingProxyType(marginals),
        correlations=tuple(Correlation(a, b, f"{p}_correlation_{n}") for a, b, n in pairs),
    )


@cache
def presets() -> Mapping[str, Preset]:
    """Every population preset, by name."""
    built = (_ckd_g1_g5(), _jsdt_hd())
    return MappingProxyType({preset.name: preset for preset in built})


def preset(name: str) -> Preset:
    """The preset called `name`.

    Raises
    ------
    UserInputError
        For an unknown name (the message lists the presets).
    """
    known = presets()
    if name not in known:
        raise UserInputError(f"population preset {name!r} is not one of {', '.join(sorted(known))}")
    return known[name]
