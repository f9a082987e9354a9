"""A cohort from simulated trajectories: each patient's labs read off a simulation at one time, as
the published cohorts measured them.

The effect sizes were published for one measurement per patient (a baseline serum Mg; in
hemodialysis, the pre-dialysis value), so a simulated patient enters a cohort by the same
measurement at a chosen time. `sample_times` gives two: without dialysis, the start and the end
of the simulation; on hemodialysis, the start of the sampling session of the week (the registry's
``predialysis_sampling_session``) in the first and in the last week — read at the latest save at
or before it, inside the interdialytic interval. `cohort_from_simulation` reads serum total Mg,
phosphate (where the model simulates it), GFR and the in-silico T50 of the simulated plasma there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mgckd._pint import quantity
from mgckd.calcification import course_from_simulation
from mgckd.cpp import simulate_t50
from mgckd.exceptions import UserInputError
from mgckd.outcomes._cohort import Cohort
from mgckd.params import parameters

if TYPE_CHECKING:
    from mgckd.dialysis import Schedule, Session
    from mgckd.simulate import SimulationResult

FloatArray = NDArray[np.float64]

GFR_OBSERVABLE = "gfr_ml_min"
"""The physiology model's GFR (mL/min, the reference adult), read as eGFR per 1.73 m²."""
_TIME_TOLERANCE_H = 1e-9
"""A save within this many hours of a session start counts as at it (float round-off)."""


@dataclass(frozen=True, slots=True)
class Sample:
    """When a simulated patient's labs are read.

    Attributes
    ----------
    name : ``start`` or ``end``.
    time_h : the save time read, hours.
    description : the sample in words (e.g. the session it precedes).
    """

    name: str
    time_h: float
    description: str


def _days(hours: float) -> float:
    return float(quantity(hours, "h").to("d").magnitude)


def _save_index(save_at_h: FloatArray, at_h: float) -> int:
    """Index of the latest save at or before `at_h` (-1 when none)."""
    return int(np.searchsorted(save_at_h, at_h + _TIME_TOLERANCE_H, side="right")) - 1


def _before_session(
    save_at_h: FloatArray, held: Sequence[Session], session: Session, name: str
) -> Sample:
    earlier = [s.end_h for s in held if s.start_h < session.start_h]
    previous_end = max(earlier, default=-np.inf)
    index = _save_index(save_at_h, session.start_h)
    if index < 0 or save_at_h[index] <= previous_end + _TIME_TOLERANCE_H:
        raise UserInputError(
            f"save_every_days: no save between the end of the session before session "
            f"{session.number} (day {_days(previous_end):g}) and its start (day "
            f"{_days(session.start_h):g}), where its pre-dialysis labs are read; save more often"
        )
    time_h = float(save_at_h[index])
    return Sample(
        name,
        time_h,
        f"pre-dialysis, session {session.number} (day {_days(session.start_h):g}), read at day "
        f"{_days(time_h):g}",
    )


def sample_times(
    save_at_h: ArrayLike,
    *,
    schedule: Schedule | None = None,
    held: Sequence[Session] = (),
) -> tuple[Sample, Sample]:
    """The start and end samples of a simulation (see the module docstring).

    Parameters
    ----------
    save_at_h : the simulation's save times, hours, increasing.
    schedule : the hemodialysis schedule; None without dialysis.
    held : the sessions held (`mgckd.dialysis.sessions`), with `schedule`.

    Raises
    ------
    UserInputError
        On hemodialysis, when no held session is the sampling session of the schedule, or no
        save lies in the interdialytic interval before it.

    Examples
    --------
    >>> [s.time_h for s in sample_times([0.0, 24.0, 48.0])]
    [0.0, 48.0]
    >>> from mgckd.dialysis import Schedule, sessions
    >>> week = sessions(Schedule(), duration_h=336.0)
    >>> start, end = sample_times(np.arange(0.0, 337.0, 6.0), schedule=Schedule(), held=week)
    >>> start.description
    'pre-dialysis, session 2 (day 2), read at day 2'
    >>> end.time_h
    216.0
    """
    times = np.asarray(save_at_h, dtype=np.float64)
    if schedule is None:
        return (
            Sample("start", float(times[0]), f"day {_days(float(times[0])):g}"),
            Sample("end", float(times[-1]), f"day {_days(float(times[-1])):g}"),
        )
    per_period = len(schedule.starts_h)
    wanted = int(parameters()["predialysis_sampling_session"].to("1"))
    position = min(wanted, per_period)
    chosen = [s for s in held if (s.number - 1) % per_period + 1 == position]
    if not chosen:
        raise UserInputError(
            f"no held session is session {position} of the schedule (the registry's "
            "predialysis_sampling_session), where pre-dialysis labs are read; simulate longer"
        )
    return (
        _before_session(times, held, chosen[0], "start"),
        _before_session(times, held, chosen[-1], "end"),
    )


@dataclass(frozen=True, eq=False)
class SimulatedCohort:
    """Simulated patients as a cohort at one sample.

    Attributes
    ----------
    cohort : the `Cohort` (patients whose solve succeeded).
    sample : when the labs were read.
    left_out : ids of patients whose solve failed (not in the cohort).
    assumed : plasma analytes not simulated, taken from the reference plasma for the T50.
    """

    cohort: Cohort
    sample: Sample
    left_out: tuple[str, ...]
    assumed: tuple[str, ...]


def cohort_from_simulation(
    result: SimulationResult,
    sample: Sample,
    *,
    dialysis: str,
    base: str,
    patient_ids: Sequence[str] | None = None,
    diabetes: bool | None = None,
    t50: bool = True,
) -> SimulatedCohort:
    """The simulated patients as a `Cohort`, their labs read at `sample`.

    Parameters
    ----------
    result : a simulation of the physiology model (`mgckd.simulate.simulate`).
    sample : the save time to read (`sample_times`).
    dialysis : every patient's ``none`` or ``hemodialysis`` (`mgckd.labs.Dialysis`).
    base : the reference plasma (``normal``, ``ckd``, ``hemodialysis``) for the analytes the
        model does not simulate, used by the T50 only.
    patient_ids : default ``patient_1``, ...
    diabetes : every patient's diabetes status; None unknown.
    t50 : add the in-silico T50 (`mgckd.cpp.simulate_t50`) of the simulated plasma.

    Returns
    -------
    SimulatedCohort
        Serum total Mg, phosphate where the model simulates it (otherwise absent, never the
        reference value), GFR as eGFR and T50, in internal units.

    Raises
    ------
    UserInputError
        When no save is at `sample.time_h`, or no patient's solve succeeded.
    """
    course = course_from_simulation(result, base=base, patient_ids=patient_ids)
    row = _save_index(course.time_h, sample.time_h)
    if row < 0 or not np.isclose(course.time_h[row], sample.time_h):
        raise UserInputError(f"the simulation has no save at {sample.time_h:g} h")
    ids = list(patient_ids or (f"patient_{i + 1}" for i in range(result.n_patients)))
    kept = np.array([ids.index(p) for p in course.patient_ids], dtype=np.intp)
    values = course.values
    rules = result.compiled.model.rule_names
    fields: dict[str, FloatArray | None] = {
        "mg_mmol_l": values["magnesium_mmol_l"][row],
        "phosphate_mmol_l": None
        if "phosphate_mmol_l" in course.assumed
        else values["phosphate_mmol_l"][row],
        "egfr_ml_min_1_73m2": result.rule(GFR_OBSERVABLE)[row, kept]
        if GFR_OBSERVABLE in rules
        else None,
        "t50_min": None,
    }
    if t50:
        serum = course.serum().take(row * course.n_patients + np.arange(course.n_patients))
        fields["t50_min"] = simulate_t50(serum, throw=False).t50_min
    n = course.n_patients
    cohort = Cohort(
        dialysis=np.full(n, dialysis),
        patient_id=course.patient_ids,
        diabetes=None if diabetes is None else np.full(n, float(diabetes)),
        **fields,
    )
    return SimulatedCohort(
        cohort=cohort,
        sample=sample,
        left_out=tuple(p for p in ids if p not in course.patient_ids),
        assumed=course.assumed if t50 else (),
    )
