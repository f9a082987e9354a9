"""Sessions in time, missed sessions, and the schedule windows that run them in the model.

Each held session is two windows of the model's parameters: the switch ``dialysis_on`` held at 1
and ``ultrafiltration_l_h`` held at the rate that removes the fluid gained since the end of the
last held session (and during this one) by the session's end. Sessions that repeat with the same
period and the same ultrafiltration become one window with a count, so a year of thrice-weekly
dialysis is a handful of windows (and of SBML events), not hundreds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mgckd.dialysis._model import SWITCH, ULTRAFILTRATION
from mgckd.dialysis._prescription import Schedule
from mgckd.exceptions import ScenarioError
from mgckd.model import Window

FloatArray = NDArray[np.float64]

_ROUND = 9
"""Decimals to which times are compared when sessions are grouped into repeating windows."""


@dataclass(frozen=True, slots=True)
class Session:
    """One held session.

    Attributes
    ----------
    number : 1-based position among the scheduled sessions (missed ones keep their numbers).
    start_h, duration_h : when it runs, hours.
    gap_h : hours since the end of the last held session (before time 0: the schedule's own gap).
    """

    number: int
    start_h: float
    duration_h: float
    gap_h: float

    @property
    def end_h(self) -> float:
        """When it ends, hours."""
        return self.start_h + self.duration_h

    @property
    def ultrafiltration_factor(self) -> float:
        """Ultrafiltration rate over the fluid-gain rate: (gap + duration) / duration."""
        return (self.gap_h + self.duration_h) / self.duration_h


def sessions(
    schedule: Schedule, *, duration_h: float, missed: Sequence[int] = ()
) -> tuple[Session, ...]:
    """The held sessions that start before `duration_h`.

    Parameters
    ----------
    schedule : the repeating pattern (its first session starts at time 0).
    duration_h : how long the simulation runs, hours.
    missed : 1-based numbers of scheduled sessions the patient misses.

    Raises
    ------
    ScenarioError
        For a missed number that is not a scheduled session of the simulation.

    >>> [s.start_h for s in sessions(Schedule(), duration_h=170.0, missed=[2])]
    [0.0, 96.0, 168.0]
    """
    period, pattern = schedule.period_h, schedule.starts_h
    n_periods = int(np.ceil(duration_h / period))
    starts = [k * period + s for k in range(n_periods) for s in pattern]
    starts = [s for s in starts if s < duration_h]
    missing = sorted(set(missed))
    bad = [
        m
        for m in missing
        if isinstance(m, bool)
        or not isinstance(m, int | np.integer)
        or not 1 <= int(m) <= len(starts)
    ]
    if bad:
        raise ScenarioError(
            f"missed_sessions: {bad!r} are not sessions of this simulation (1-{len(starts)})"
        )
    held: list[Session] = []
    last_end = pattern[-1] + schedule.duration_h - period  # the session before time 0
    for number, start in enumerate(starts, start=1):
        if number in missing:
            continue
        held.append(Session(number, start, schedule.duration_h, start - last_end))
        last_end = start + schedule.duration_h
    return tuple(held)


def session_windows(
    held: Sequence[Session], *, period_h: float, fluid_gain_l_h: ArrayLike
) -> tuple[Window, ...]:
    """The windows of the switch and of the ultrafiltration rate that run `held`.

    Sessions one `period_h` apart with the same ultrafiltration factor share a window (with a
    count); `fluid_gain_l_h` is per patient (or one value for all).
    """
    gain = np.asarray(fluid_gain_l_h, dtype=np.float64)
    runs: list[list[Session]] = []
    open_runs: dict[tuple[float, float], list[Session]] = {}
    for session in held:
        key = (round(session.start_h % period_h, _ROUND), round(session.gap_h, _ROUND))
        run = open_runs.get(key)
        if run is not None and round(session.start_h - run[-1].start_h, _ROUND) == round(
            period_h, _ROUND
        ):
            run.append(session)
            continue
        run = [session]
        open_runs[key] = run
        runs.append(run)
    windows: list[Window] = []
    for run in runs:
        first, count = run[0], len(run)
        every = period_h if count > 1 else None
        for parameter, value in (
            (SWITCH, 1.0),
            (ULTRAFILTRATION, gain * first.ultrafiltration_factor),
        ):
            windows.append(
                Window(
                    parameter, value, first.start_h, first.duration_h, every_h=every, count=count
                )
            )
    return tuple(windows)


def excess_water_at_start_l(schedule: Schedule, fluid_gain_l_h: ArrayLike) -> FloatArray:
    """Fluid above dry weight at time 0 (the start of the first session), litres, per patient:
    the gain over the gap before it."""
    out: FloatArray = np.asarray(fluid_gain_l_h, dtype=np.float64) * schedule.gaps_before_h()[0]
    return out
