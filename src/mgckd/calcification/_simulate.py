"""`simulate_cac`: CAC progression over a plasma course, with pathway and Mg switches."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mgckd.calcification._course import PlasmaCourse
from mgckd.calcification._laws import (
    PlasmaChemistry,
    plasma_chemistry,
    transformed_score,
    vsmc_activity,
)
from mgckd.calcification._params import CalcificationParameters
from mgckd.calcification._result import CACResult, Pathways
from mgckd.cpp import KineticParameters
from mgckd.exceptions import UserInputError
from mgckd.params import parameters

FloatArray = NDArray[np.float64]


def baseline_scores(baseline_agatston: ArrayLike | None, n_patients: int) -> FloatArray:
    """The baseline score of each patient: given (scalar or one per patient) or the registry's
    typical ``cac_baseline_agatston_reference``; refuses a negative or non-finite score."""
    if baseline_agatston is None:
        baseline_agatston = parameters()["cac_baseline_agatston_reference"].to("1")
    values = np.asarray(baseline_agatston, dtype=np.float64)
    try:
        scores = np.array(np.broadcast_to(values, (n_patients,)), dtype=np.float64)
    except ValueError:
        raise UserInputError(
            f"baseline_agatston: give one score or one per patient ({n_patients}), "
            f"not shape {values.shape}"
        ) from None
    bad = ~np.isfinite(scores) | (scores < 0)
    if bad.any():
        raise UserInputError(
            f"baseline_agatston {float(scores[bad][0]):g} must be a finite Agatston score >= 0"
        )
    return scores


def check_same_grid(course: PlasmaCourse, other: PlasmaCourse, what: str) -> None:
    """Refuse a second course whose times or number of patients differ from `course`'s."""
    if other.n_patients != course.n_patients or not np.array_equal(other.time_h, course.time_h):
        raise UserInputError(
            f"{what} must have the same times and number of patients as the course "
            f"({course.n_times} times, {course.n_patients} patients; got {other.n_times} "
            f"times, {other.n_patients} patients)"
        )


def score_from_chemistry(
    course: PlasmaCourse,
    *,
    passive_chemistry: PlasmaChemistry,
    active_chemistry: PlasmaChemistry,
    baseline: FloatArray,
    params: CalcificationParameters,
    pathways: Pathways,
    cpp_params: KineticParameters | None = None,
) -> CACResult:
    """The score over `course`, the passive pathway seeing `passive_chemistry`'s CPP2 formation
    and the active one `active_chemistry`'s ionized Mg (the course's own phosphate)."""
    cpp2 = passive_chemistry.relative_cpp2_formation
    vsmc = vsmc_activity(
        course.values["phosphate_mmol_l"],
        active_chemistry.mg_ionized_mmol_l,
        params,
        cpp_params=cpp_params,
    )
    share = params.active_share_reference
    passive = (1.0 - share) * cpp2 * pathways.passive
    active = share * vsmc * pathways.active
    return CACResult(
        course=course,
        baseline_agatston=baseline,
        agatston=transformed_score(course.time_h, passive + active, baseline, params),
        relative_cpp2_formation=cpp2,
        vsmc_activity=vsmc,
        passive_drive=passive,
        active_drive=active,
        params=params,
        pathways=pathways,
    )


def simulate_cac(
    course: PlasmaCourse,
    *,
    baseline_agatston: ArrayLike | None = None,
    pathways: Pathways | None = None,
    mg_reference: PlasmaCourse | None = None,
    params: CalcificationParameters | None = None,
    cpp_params: KineticParameters | None = None,
) -> CACResult:
    """Coronary artery calcification (Agatston) of N patients over a plasma course.

    Parameters
    ----------
    course : the plasma (`plasma_course`, `course_from_simulation`, `course_from_frame`).
    baseline_agatston : the score at the course's first time, one or one per patient; default
        the registry's typical ``cac_baseline_agatston_reference`` (assumed, 100).
    pathways : which pathways run and whether Mg acts on each (default: everything on).
    mg_reference : the course whose Mg a pathway sees when Mg's effect on it is removed
        (`Pathways.mg_passive` / `mg_active` False): usually the control arm. Same times and
        number of patients.
    params : the CAC constants (default: the registry's); cpp_params : the CPP kinetics.

    Returns
    -------
    CACResult

    Raises
    ------
    UserInputError
        For a bad baseline, a missing or mismatched reference course.

    Notes
    -----
    D = (1 − w) R_CPP2 + w V, with R_CPP2 the relative CPP2 formation (`mgckd.cpp.in_vivo_cpp`)
    and V the relative VSMC conversion (`vsmc_activity`), both 1 at the reference normal plasma;
    dA/dt = k (D − D0) A^g. The calcification state does not feed back on the plasma.

    Examples
    --------
    >>> from mgckd.calcification import plasma_course
    >>> course = plasma_course([0.0, 17532.0], {"magnesium_mmol_l": [[0.82, 0.95]]})
    >>> change = simulate_cac(course).percent_change
    >>> bool(change[1] < change[0])          # more Mg, less progression
    True
    """
    pathways = pathways or Pathways()
    params = params or CalcificationParameters.from_registry()
    baseline = baseline_scores(baseline_agatston, course.n_patients)
    own = plasma_chemistry(course, cpp_params=cpp_params)
    swapped = own
    if pathways.needs_reference:
        if mg_reference is None:
            raise UserInputError(
                "removing Mg's effect on a pathway needs mg_reference, the course whose Mg "
                "that pathway sees (e.g. the control arm)"
            )
        check_same_grid(course, mg_reference, "mg_reference")
        mg = mg_reference.values["magnesium_mmol_l"]
        swapped = plasma_chemistry(course.with_values(magnesium_mmol_l=mg), cpp_params=cpp_params)
    return score_from_chemistry(
        course,
        passive_chemistry=own if pathways.mg_passive else swapped,
        active_chemistry=own if pathways.mg_active else swapped,
        baseline=baseline,
        params=params,
        pathways=pathways,
        cpp_params=cpp_params,
    )
