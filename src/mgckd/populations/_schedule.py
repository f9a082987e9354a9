"""One schedule for a batch whose patients belong to groups (trial arms) with different
interventions, on top of what each patient already takes.

`mgckd.interventions.intervention_schedule` gives a group's events with values for a patient who
takes nothing else. Merged here, each event carries one value per patient: a patient outside the
group keeps what their own group has set by then (or their own baseline), and a patient inside
gets the group's value combined with their baseline — Mg amounts add (a supplement on top of a
laxative), a drug effect the patient already has does not (a loop diuretic started in a patient
already on one stays one loop diuretic). Doses go to the group's patients only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

from mgckd.exceptions import ScenarioError
from mgckd.interventions import PARAMETER_EFFECTS
from mgckd.model import CompiledModel, Dose, Event, SetParameter, Window

FloatArray = NDArray[np.float64]

_NOT_ADDITIVE = frozenset(parameter for parameter, _, _ in PARAMETER_EFFECTS.values())
"""Parameters whose intervention value is an effect a patient either has or not (max, not sum)."""


def _group_values(events: Sequence[SetParameter], parameter: str, time_h: float) -> float | None:
    """The value a group's events have given `parameter` by `time_h` (None: not set yet)."""
    value = None
    for event in events:
        if event.parameter == parameter and event.at_h <= time_h:
            value = float(event.values[0])
    return value


def personal_schedule(
    compiled: CompiledModel,
    group_schedules: Sequence[tuple[Event, ...]],
    group_of: NDArray[np.intp],
    baseline: Mapping[str, FloatArray],
) -> tuple[Event, ...]:
    """Merge the groups' schedules into one with per-patient values.

    Parameters
    ----------
    compiled : the model (for every parameter's default value).
    group_schedules : one schedule per group, as `intervention_schedule` makes them (one value
        per event).
    group_of : each patient's group index, (n_patients,).
    baseline : the patients' own parameter values (overrides, one per patient), e.g. from
        `patient_parameters`; parameters not given take the model default.

    Raises
    ------
    ScenarioError
        For a window in a group schedule (sessions are per-patient already; not merged here).
    """
    n = group_of.size
    defaults = dict(zip(compiled.parameters, compiled.default_parameters, strict=True))

    def own(parameter: str) -> FloatArray:
        value = baseline.get(parameter, defaults[parameter])
        return np.broadcast_to(np.asarray(value, dtype=np.float64), n).copy()

    settings = [
        [e for e in schedule if isinstance(e, SetParameter)] for schedule in group_schedules
    ]
    merged: list[Event] = []
    changes = sorted({(e.at_h, e.parameter) for group in settings for e in group})
    for time_h, parameter in changes:
        values = own(parameter)
        default = float(defaults[parameter])
        for g, events in enumerate(settings):
            group_value = _group_values(events, parameter, time_h)
            if group_value is None:
                continue
            members = group_of == g
            if parameter in _NOT_ADDITIVE:
                values[members] = np.maximum(values[members], group_value)
            else:
                values[members] = values[members] + group_value - default
        merged.append(SetParameter(parameter, values, at_h=time_h))
    for g, schedule in enumerate(group_schedules):
        for event in schedule:
            if isinstance(event, Window):
                raise ScenarioError(
                    f"group {g}: windows ({event.parameter}) are not merged across groups; give "
                    "them per patient"
                )
            if isinstance(event, Dose):
                amounts = np.where(group_of == g, event.amounts, 0.0)
                merged.append(
                    Dose(
                        event.species,
                        amounts,
                        start_h=event.start_h,
                        every_h=event.every_h,
                        count=event.count,
                    )
                )
    return tuple(merged)
