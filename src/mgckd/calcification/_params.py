"""The constants of the CAC model, read from the registry (``params/data/calcification.toml``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

from mgckd._pint import quantity
from mgckd.params import parameters

REGISTRY_NAMES = {
    "score_exponent": "cac_score_exponent",
    "progression_rate_per_h": "cac_progression_rate",
    "drive_threshold": "cac_drive_threshold",
    "active_share_reference": "cac_active_share_reference",
    "phosphate_half_activation_mmol_l": "cac_vsmc_phosphate_half_activation",
    "mg_half_inhibition_mmol_l": "cac_vsmc_mg_half_inhibition",
    "trpm7_activity": "cac_trpm7_activity",
}
"""Attribute → registry name."""

_UNITS = {
    "score_exponent": "1",
    "progression_rate_per_h": "1/h",
    "drive_threshold": "1",
    "active_share_reference": "1",
    "phosphate_half_activation_mmol_l": "mmol/L",
    "mg_half_inhibition_mmol_l": "mmol/L",
    "trpm7_activity": "1",
}


@dataclass(frozen=True, slots=True)
class CalcificationParameters:
    """The constants of the CAC model (registry names in `REGISTRY_NAMES`).

    Attributes
    ----------
    score_exponent : g of dA/dt = k (D − D0) A^g, A the Agatston score (1/2: square-root method).
    progression_rate_per_h : k, transformed score A^(1−g) per unit of drive above D0, 1/h.
    drive_threshold : D0, the drive at which deposition and removal balance (D = 1 at the
        reference normal plasma).
    active_share_reference : w, the active (VSMC) pathway's share of the drive at the reference
        normal plasma; the passive (CPP2) pathway has 1 − w.
    phosphate_half_activation_mmol_l : phosphate of the half-maximal osteogenic signal, mmol/L.
    mg_half_inhibition_mmol_l : ionized Mg that halves VSMC conversion through TRPM7, mmol/L.
    trpm7_activity : TRPM7 activity relative to normal (1; 0 = blocked).
    """

    score_exponent: float
    progression_rate_per_h: float
    drive_threshold: float
    active_share_reference: float
    phosphate_half_activation_mmol_l: float
    mg_half_inhibition_mmol_l: float
    trpm7_activity: float

    def __post_init__(self) -> None:
        if not 0 <= self.score_exponent < 1:
            raise ValueError(f"score_exponent {self.score_exponent} must be in [0, 1)")
        if not 0 <= self.active_share_reference <= 1:
            raise ValueError(
                f"active_share_reference {self.active_share_reference} must be in [0, 1]"
            )
        if self.trpm7_activity < 0:
            raise ValueError(f"trpm7_activity {self.trpm7_activity} must be >= 0")
        for name in ("phosphate_half_activation_mmol_l", "mg_half_inhibition_mmol_l"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} {getattr(self, name)} must be > 0")

    @classmethod
    def from_registry(cls, overrides: Mapping[str, float] | None = None) -> CalcificationParameters:
        """The registry's values, with `overrides` (registry name → value, registry unit).

        Overrides never change the registry; the calibration program passes its trial values so.
        """
        unknown = set(overrides or {}) - set(REGISTRY_NAMES.values())
        if unknown:
            raise KeyError(f"not a calcification parameter: {', '.join(sorted(unknown))}")
        registry = parameters()
        values = {}
        for f in fields(cls):
            entry = registry[REGISTRY_NAMES[f.name]]
            given = (overrides or {}).get(entry.name, entry.value)
            values[f.name] = float(quantity(given, entry.unit).to(_UNITS[f.name]).magnitude)
        return cls(**values)
