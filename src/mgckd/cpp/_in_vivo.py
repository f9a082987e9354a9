"""CPP maturation in a patient's own plasma: the in-vivo use of the T50 model.

The same rate laws as in the T50 well, evaluated at the patient's plasma: no Ca or phosphate
spike, the patient's pH, undiluted inhibitors. Plasma is undersaturated with amorphous calcium
phosphate, so CPP1 do not form from plasma alone (they come from local mineral stress, e.g. bone
and gut); what the model gives is how fast plasma converts a CPP1 it carries into CPP2. The
absolute half-time is an extrapolation of the classical-nucleation law far below the assay's
supersaturation; the relative rate (1 for the reference normal plasma) is what the calcification
model is meant to consume. See docs/cpp.md#in-vivo.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mgckd.chemistry import speciate
from mgckd.cpp._kinetics import (
    AMORPHOUS,
    CRYSTALLINE,
    KineticParameters,
    half_conversion_time_min,
    inhibition_factor,
    ln_nucleation_rate,
    phase_stoichiometry,
)
from mgckd.cpp._serum import Serum, reference_serum
from mgckd.exceptions import UserInputError

FloatArray = NDArray[np.float64]

_MIN_PER_H = 60.0
_LN10 = np.log(10.0)


@dataclass(frozen=True, eq=False)
class InVivoCPP:
    """CPP1 → CPP2 maturation in N patients' plasma (arrays over patients).

    Attributes
    ----------
    serum : the input.
    si_hydroxyapatite, si_amorphous_calcium_phosphate : saturation indices of the plasma.
    inhibition : the factor f (0–1] of Mg, fetuin-A and pyrophosphate at plasma levels.
    ln_nucleation_rate_per_min : ln k_n (k_n in 1/min), inhibited.
    growth_rate_per_min : k_g, inhibited, 1/min.
    maturation_half_time_h : time for plasma to convert half of a CPP1 pool into CPP2, h.
    relative_cpp2_formation : t½ of the reference normal plasma / this t½: how much faster this
        plasma makes CPP2 from the same CPP1 (1 = reference normal plasma).
    magnesium_ionized_mmol_l : the plasma's free Mg²⁺ (speciated), the Mg of the inhibition, mmol/L.
    """

    serum: Serum
    si_hydroxyapatite: FloatArray
    si_amorphous_calcium_phosphate: FloatArray
    inhibition: FloatArray
    ln_nucleation_rate_per_min: FloatArray
    growth_rate_per_min: FloatArray
    maturation_half_time_h: FloatArray
    relative_cpp2_formation: FloatArray
    magnesium_ionized_mmol_l: FloatArray

    def __len__(self) -> int:
        return len(self.serum)

    def cpp2_exposure(self, duration_h: float) -> FloatArray:
        """Relative CPP2 exposure over `duration_h` at this plasma: relative rate × hours.

        The calcification model integrates `relative_cpp2_formation` over time; at a constant
        plasma composition the integral is this product (reference normal plasma: 1 per hour).
        """
        if not duration_h >= 0:
            raise UserInputError(f"duration_h {duration_h!r} must be a number >= 0")
        return self.relative_cpp2_formation * duration_h

    def to_frame(self) -> pd.DataFrame:
        """One row per patient, columns as the attributes (units in the names)."""
        return pd.DataFrame(
            {
                "si_hydroxyapatite": self.si_hydroxyapatite,
                "si_amorphous_calcium_phosphate": self.si_amorphous_calcium_phosphate,
                "inhibition_factor": self.inhibition,
                "log10_nucleation_rate_per_min": self.ln_nucleation_rate_per_min / _LN10,
                "growth_rate_per_min": self.growth_rate_per_min,
                "maturation_half_time_h": self.maturation_half_time_h,
                "relative_cpp2_formation": self.relative_cpp2_formation,
                "magnesium_ionized_mmol_l": self.magnesium_ionized_mmol_l,
                "fetuin_a_g_l": self.serum.fetuin_a_g_l,
                "pyrophosphate_umol_l": self.serum.pyrophosphate_umol_l,
            }
        )


def _half_time_h(
    sample: Serum, params: KineticParameters
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """(SI HAP, SI ACP, f, ln k_n, k_g, t½ in h, free Mg²⁺) of the samples' plasma."""
    result = speciate(sample.composition)
    si = result.saturation_indices
    mg_ionized = result.magnesium_ionized_mmol_l
    f = inhibition_factor(mg_ionized, sample.fetuin_a_g_l, sample.pyrophosphate_umol_l, params)
    ln_s = si[CRYSTALLINE] * _LN10 / phase_stoichiometry(CRYSTALLINE).ions
    ln_kn = ln_nucleation_rate(ln_s, params) + np.log(f)
    kg = params.growth_rate_per_min * f
    half = half_conversion_time_min(ln_kn, kg) / _MIN_PER_H
    return si[CRYSTALLINE], si[AMORPHOUS], f, ln_kn, kg, half, mg_ionized


def in_vivo_cpp(sample: Serum, *, params: KineticParameters | None = None) -> InVivoCPP:
    """CPP1 → CPP2 maturation at the patients' own plasma composition.

    Parameters
    ----------
    sample : the patients (`serum` builds them from a plasma composition).
    params : the kinetic constants; default the registry's (calibrated on the T50 test).

    Returns
    -------
    InVivoCPP

    Raises
    ------
    UserInputError
        For an invalid sample (the message names it and the field).

    Notes
    -----
    With constant plasma composition the conversion follows dX/dt = f (k_n + k_g X)(1 − X)
    with k_n from the plasma's hydroxyapatite supersaturation, so t½ = ln(2 + k_g/k_n) /
    (f (k_n + k_g)) (`half_conversion_time_min`).

    Examples
    --------
    >>> result = in_vivo_cpp(reference_serum("normal"))
    >>> round(float(result.relative_cpp2_formation[0]), 6)
    1.0
    """
    params = params or KineticParameters.from_registry()
    invalid = sample.invalid()
    if invalid.any():
        first = int(np.flatnonzero(invalid)[0])
        where = f"sample {first}: " if len(sample) > 1 else ""
        raise UserInputError(f"{where}{sample.problem(first)}")
    si_hap, si_acp, f, ln_kn, kg, half, mg_ionized = _half_time_h(sample, params)
    reference = _half_time_h(reference_serum("normal"), params)[5]
    return InVivoCPP(
        serum=sample,
        si_hydroxyapatite=si_hap,
        si_amorphous_calcium_phosphate=si_acp,
        inhibition=f,
        ln_nucleation_rate_per_min=ln_kn,
        growth_rate_per_min=kg,
        maturation_half_time_h=half,
        relative_cpp2_formation=reference / half,
        magnesium_ionized_mmol_l=mg_ionized,
    )
