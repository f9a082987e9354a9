"""Scheduled events: doses (amounts added to a species), parameter changes at a time, and
windows during which a parameter holds another value (a dialysis session, an infusion, a daily
dose taken over a meal).

Times are common to every patient of a batch; amounts and values may differ per patient (one
value per patient; zero for a patient who gets nothing). Repeats: ``every_h`` and ``count``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mgckd.exceptions import ScenarioError

FloatArray = NDArray[np.float64]


def _values(value: ArrayLike, where: str) -> FloatArray:
    array: FloatArray = np.array(value, dtype=np.float64, ndmin=1)
    if array.ndim != 1 or not np.all(np.isfinite(array)):
        raise ScenarioError(f"{where}: give a finite number or one per patient, not {value!r}")
    array.setflags(write=False)
    return array


def _check_times(where: str, start_h: float, every_h: float | None, count: int) -> None:
    if not (math.isfinite(start_h) and start_h >= 0):
        raise ScenarioError(f"{where}.start_h: must be a time ≥ 0 h, not {start_h!r}")
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ScenarioError(f"{where}.count: must be a whole number ≥ 1, not {count!r}")
    if count > 1 and (every_h is None or not math.isfinite(every_h) or every_h <= 0):
        raise ScenarioError(f"{where}.every_h: repeats need an interval > 0 h, not {every_h!r}")


@dataclass(frozen=True, eq=False)
class Dose:
    """Add `amount` (in the species' unit) to `species` at `start_h`, `count` times `every_h`.

    >>> Dose("mg_gut", 12.4, start_h=8.0, every_h=24.0, count=3).times_h()
    array([ 8., 32., 56.])
    """

    species: str
    amount: ArrayLike
    start_h: float
    every_h: float | None = None
    count: int = 1
    amounts: FloatArray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        _check_times(f"dose of {self.species}", self.start_h, self.every_h, self.count)
        amounts = _values(self.amount, f"dose of {self.species}.amount")
        if np.any(amounts < 0):
            raise ScenarioError(f"dose of {self.species}.amount: must be ≥ 0, not {self.amount!r}")
        object.__setattr__(self, "amounts", amounts)

    def times_h(self) -> FloatArray:
        """Every dose time, hours."""
        return _repeats(self.start_h, self.every_h, self.count)


@dataclass(frozen=True, eq=False)
class SetParameter:
    """Set `parameter` to `value` (its model unit; one per patient allowed) at `at_h`."""

    parameter: str
    value: ArrayLike
    at_h: float
    values: FloatArray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        _check_times(f"change of {self.parameter}", self.at_h, None, 1)
        object.__setattr__(self, "values", _values(self.value, f"{self.parameter}.value"))

    def times_h(self) -> FloatArray:
        """The change time, hours (one element)."""
        return np.array([self.at_h])


@dataclass(frozen=True, eq=False)
class Window:
    """Hold `parameter` at `value` for `duration_h` from `start_h`, `count` times `every_h`;
    after each window it returns to the value it had just before the window began."""

    parameter: str
    value: ArrayLike
    start_h: float
    duration_h: float
    every_h: float | None = None
    count: int = 1
    values: FloatArray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        where = f"window of {self.parameter}"
        _check_times(where, self.start_h, self.every_h, self.count)
        if not (math.isfinite(self.duration_h) and self.duration_h > 0):
            raise ScenarioError(f"{where}.duration_h: must be > 0 h, not {self.duration_h!r}")
        if self.count > 1 and self.every_h is not None and self.duration_h >= self.every_h:
            raise ScenarioError(
                f"{where}.duration_h: {self.duration_h} h overlaps the next window "
                f"(every_h = {self.every_h} h); windows must end before the next begins"
            )
        object.__setattr__(self, "values", _values(self.value, f"{where}.value"))

    def times_h(self) -> FloatArray:
        """Every window start, hours."""
        return _repeats(self.start_h, self.every_h, self.count)


Event = Dose | SetParameter | Window


def _repeats(start_h: float, every_h: float | None, count: int) -> FloatArray:
    return start_h + np.arange(count, dtype=np.float64) * (every_h or 0.0)


class Action(IntEnum):
    """What happens at an event time, in the order it happens when several coincide."""

    WINDOW_END = 0
    SET = 1
    WINDOW_START = 2
    DOSE = 3


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One event occurrence: at `time_h`, `action` on `target` with per-patient `values`;
    `source` is the index of the schedule entry it came from."""

    time_h: float
    action: Action
    target: str
    values: FloatArray
    source: int


def occurrences(schedule: tuple[Event, ...], until_h: float) -> list[Occurrence]:
    """Every occurrence before `until_h`, sorted by time, then action order, then entry order."""
    found: list[Occurrence] = []
    for index, event in enumerate(schedule):
        if isinstance(event, Dose):
            found += [
                Occurrence(float(t), Action.DOSE, event.species, event.amounts, index)
                for t in event.times_h()
            ]
        elif isinstance(event, SetParameter):
            found.append(Occurrence(event.at_h, Action.SET, event.parameter, event.values, index))
        else:
            for t in event.times_h():
                found.append(
                    Occurrence(float(t), Action.WINDOW_START, event.parameter, event.values, index)
                )
                found.append(
                    Occurrence(
                        float(t) + event.duration_h,
                        Action.WINDOW_END,
                        event.parameter,
                        event.values,
                        index,
                    )
                )
    kept = [o for o in found if o.time_h < until_h]
    return sorted(kept, key=lambda o: (o.time_h, o.action, o.source))
