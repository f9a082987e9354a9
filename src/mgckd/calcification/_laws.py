"""The rate laws of the CAC model: the plasma chemistry each pathway sees, the VSMC pathway,
the drive, and the progression of the score over a course. Equations: docs/calcification.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from mgckd.calcification._course import PlasmaCourse
from mgckd.calcification._params import CalcificationParameters
from mgckd.cpp import KineticParameters, in_vivo_cpp, reference_serum

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class PlasmaChemistry:
    """What the two pathways take from the plasma, (T, N) arrays.

    Attributes
    ----------
    relative_cpp2_formation : CPP1 → CPP2 conversion rate relative to the reference normal
        plasma (`mgckd.cpp.in_vivo_cpp`; Mg, fetuin-A and pyrophosphate inhibition included).
    mg_ionized_mmol_l : the plasma's free Mg²⁺ from the same speciation, mmol/L.
    """

    relative_cpp2_formation: FloatArray
    mg_ionized_mmol_l: FloatArray


def plasma_chemistry(
    course: PlasmaCourse, *, cpp_params: KineticParameters | None = None
) -> PlasmaChemistry:
    """Speciate every (time, patient) of `course` once and evaluate the in-vivo CPP model."""
    result = in_vivo_cpp(course.serum(), params=cpp_params)
    shape = (course.n_times, course.n_patients)
    return PlasmaChemistry(
        result.relative_cpp2_formation.reshape(shape),
        result.magnesium_ionized_mmol_l.reshape(shape),
    )


def _vsmc_raw(
    phosphate_mmol_l: FloatArray | float,
    mg_ionized_mmol_l: FloatArray | float,
    params: CalcificationParameters,
    trpm7_activity: float,
) -> FloatArray:
    signal = phosphate_mmol_l / (params.phosphate_half_activation_mmol_l + phosphate_mmol_l)
    protection = 1.0 / (1.0 + trpm7_activity * mg_ionized_mmol_l / params.mg_half_inhibition_mmol_l)
    return np.asarray(signal * protection, dtype=np.float64)


def vsmc_activity(
    phosphate_mmol_l: FloatArray | float,
    mg_ionized_mmol_l: FloatArray | float,
    params: CalcificationParameters,
    *,
    cpp_params: KineticParameters | None = None,
) -> FloatArray:
    """Osteogenic conversion of VSMC relative to the reference normal plasma (1 there).

    ``signal × protection``: the phosphate-induced osteogenic signal, saturable,
    Pi / (K_P + Pi), times the protection of Mg entering the cells through TRPM7,
    1 / (1 + a [Mg²⁺] / K_Mg), a the TRPM7 activity (0: blocked, Mg no longer protects).
    The reference is the normal plasma with TRPM7 unblocked, so blocking TRPM7 raises it.

    Examples
    --------
    >>> from mgckd.calcification import CalcificationParameters
    >>> p = CalcificationParameters.from_registry()
    >>> bool(vsmc_activity(1.1, 0.7, p)[()] < vsmc_activity(1.1, 0.5, p)[()])
    True
    """
    normal = in_vivo_cpp(reference_serum("normal"), params=cpp_params)
    phosphate = float(normal.serum.composition.phosphate_mmol_l[0])
    reference = _vsmc_raw(phosphate, float(normal.magnesium_ionized_mmol_l[0]), params, 1.0)
    raw = _vsmc_raw(phosphate_mmol_l, mg_ionized_mmol_l, params, params.trpm7_activity)
    return np.asarray(raw / reference, dtype=np.float64)


def transformed_score(
    time_h: FloatArray,
    drive: FloatArray,
    baseline_agatston: FloatArray,
    params: CalcificationParameters,
) -> FloatArray:
    """The Agatston score over the course, (T, N), from the drive (T, N) and the baseline (N,).

    dA/dt = k (D − D0) A^g, integrated in the transformed score s = A^(1−g), which moves
    linearly: ds/dt = (1 − g) k (D − D0), the drive trapezoidal between save times. A score
    cannot fall below zero: s is reflected at 0 (it stays there while D < D0 and grows again
    when D > D0).
    """
    g = params.score_exponent
    step = 0.5 * (drive[1:] + drive[:-1]) - params.drive_threshold
    rise = (1.0 - g) * params.progression_rate_per_h * step * np.diff(time_h)[:, None]
    free = np.vstack([baseline_agatston[None, :] ** (1.0 - g), rise]).cumsum(axis=0)
    floor = np.minimum(np.minimum.accumulate(free, axis=0), 0.0)
    result: FloatArray = (free - floor) ** (1.0 / (1.0 - g))
    return result
