"""A scenario: how long, how many patients, their parameters, their schedule and their start.

The engine-level description of one simulation of a batch; `mgckd.simulate.load_scenario`
builds one from a scenario file (patients, diet, CKD course, interventions).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from mgckd.exceptions import ScenarioError
from mgckd.model import CompiledModel
from mgckd.model._schedule import Dose, Event, SetParameter, Window

STEADY_STATE: Literal["steady_state"] = "steady_state"


@dataclass(frozen=True, eq=False)
class Scenario:
    """What to simulate.

    Attributes
    ----------
    duration_h : simulated time from 0, hours.
    n_patients : the batch size (one patient is a batch of one).
    parameters : per-parameter overrides in the parameter's model unit: a scalar or one value
        per patient. The base model is never changed.
    schedule : doses, parameter changes and windows (`Dose`, `SetParameter`, `Window`).
    initial : ``"steady_state"`` (the model's own steady state for each patient's parameters at
        time 0, before any event) or states by species name (amounts; scalar or per patient),
        species not named starting at their steady state.
    """

    duration_h: float
    n_patients: int = 1
    parameters: Mapping[str, ArrayLike] = field(default_factory=dict)
    schedule: tuple[Event, ...] = ()
    initial: Literal["steady_state"] | Mapping[str, ArrayLike] = STEADY_STATE

    def __post_init__(self) -> None:
        if not (math.isfinite(self.duration_h) and self.duration_h > 0):
            raise ScenarioError(f"duration_h: must be a time > 0 h, not {self.duration_h!r}")
        if isinstance(self.n_patients, bool) or not isinstance(self.n_patients, int):
            raise ScenarioError(f"n_patients: must be a whole number, not {self.n_patients!r}")
        if self.n_patients < 1:
            raise ScenarioError(f"n_patients: must be ≥ 1, not {self.n_patients}")
        object.__setattr__(self, "parameters", MappingProxyType(dict(self.parameters)))
        object.__setattr__(self, "schedule", tuple(self.schedule))
        if isinstance(self.initial, str) and self.initial != STEADY_STATE:
            raise ScenarioError(
                f"initial: {self.initial!r} is not accepted; give {STEADY_STATE!r} or states by "
                "species name"
            )
        for event in self.schedule:
            if not isinstance(event, Dose | SetParameter | Window):
                raise ScenarioError(f"schedule: {event!r} is not a Dose, SetParameter or Window")
            sizes = event.amounts.size if isinstance(event, Dose) else event.values.size
            if sizes not in (1, self.n_patients):
                raise ScenarioError(
                    f"schedule: {event!r} holds {sizes} values; give 1 or {self.n_patients} "
                    "(one per patient)"
                )

    def check_against(self, compiled: CompiledModel) -> None:
        """Raise `ScenarioError` naming every name the model does not know."""
        species, params = set(compiled.species), set(compiled.parameters)
        for event in self.schedule:
            if isinstance(event, Dose) and event.species not in species:
                raise ScenarioError(
                    f"schedule: dose of unknown species {event.species!r}; the model's species "
                    f"are {', '.join(compiled.species)}"
                )
            if isinstance(event, SetParameter | Window) and event.parameter not in params:
                raise ScenarioError(
                    f"schedule: unknown parameter {event.parameter!r} of model "
                    f"{compiled.model.name!r}"
                )
        if not isinstance(self.initial, str):
            unknown = set(self.initial) - species
            if unknown:
                raise ScenarioError(
                    f"initial: unknown species {', '.join(sorted(unknown))}; the model's species "
                    f"are {', '.join(compiled.species)}"
                )
            for name, value in self.initial.items():
                array = np.asarray(value, dtype=float)
                if array.ndim > 1 or (array.ndim == 1 and array.size != self.n_patients):
                    raise ScenarioError(
                        f"initial.{name}: give a scalar or {self.n_patients} values, not shape "
                        f"{array.shape}"
                    )
                if not np.all(np.isfinite(array)) or np.any(array < 0):
                    raise ScenarioError(f"initial.{name}: amounts must be finite and ≥ 0")
