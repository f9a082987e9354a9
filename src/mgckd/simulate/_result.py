"""The result of a simulation: states, ledgers and rules at the save times, per patient, with a
status per patient (failure is data in a batch)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mgckd.model import CompiledModel, Model

FloatArray = NDArray[np.float64]


class Status(IntEnum):
    """How a patient's solve ended."""

    SUCCESS = 0
    MAX_STEPS = 1
    STEP_SIZE_TOO_SMALL = 2
    NONFINITE = 3
    STEADY_STATE_FAILED = 4
    SOLVER_FAILED = 5

    @property
    def message(self) -> str:
        """A sentence saying what went wrong (empty for success)."""
        return _MESSAGES[self]


_MESSAGES = {
    Status.SUCCESS: "",
    Status.MAX_STEPS: "the solver reached its maximum number of steps",
    Status.STEP_SIZE_TOO_SMALL: "the step size fell below its minimum (the solution is not smooth "
    "enough, or the model blows up)",
    Status.NONFINITE: "a state became NaN or infinite",
    Status.STEADY_STATE_FAILED: "no steady state was found from the model's guess",
    Status.SOLVER_FAILED: "the SciPy solver failed for the batch (it cannot say which patient)",
}


@dataclass(frozen=True, eq=False)
class SolverStats:
    """Work done: accepted and rejected steps and right-hand-side evaluations, summed over
    patients (the SciPy solver counts its calls on the whole batch)."""

    accepted_steps: int
    rejected_steps: int
    rhs_calls: int


@dataclass(frozen=True, eq=False)
class SimulationResult:
    """States, ledgers and rules at each save time.

    Attributes
    ----------
    compiled : the compiled model that produced it (names, units, rules).
    time_h : save times, hours, (n_save,).
    states : species amounts, (n_save, n_species, n_patients).
    ledgers : cumulative amount of each ledger since time 0 (positive: into the body),
        (n_save, n_ledgers, n_patients).
    doses : cumulative amount of each element given by scheduled doses since time 0
        (after the events at that time), (n_save, n_elements, n_patients).
    rules : every rule's value in its report unit, (n_save, n_rules, n_patients).
    status : per patient `Status` codes, (n_patients,); values after a failure are NaN.
    stats : the solver's work.
    """

    compiled: CompiledModel
    time_h: FloatArray
    states: FloatArray
    ledgers: FloatArray
    doses: FloatArray
    rules: FloatArray
    status: NDArray[np.int8]
    stats: SolverStats

    @property
    def n_patients(self) -> int:
        """Batch size."""
        return int(self.states.shape[2])

    @property
    def succeeded(self) -> NDArray[np.bool_]:
        """True for each patient whose solve succeeded."""
        return np.asarray(self.status == Status.SUCCESS)

    def species(self, name: str) -> FloatArray:
        """One species' amount, (n_save, n_patients)."""
        return self.states[:, self.compiled.species.index(name), :]

    def rule(self, name: str) -> FloatArray:
        """One rule's value, (n_save, n_patients)."""
        return self.rules[:, self.compiled.model.rule_names.index(name), :]

    def stores(self, element: str) -> FloatArray:
        """Total amount of `element` in the model's species, (n_save, n_patients)."""
        model = self.compiled.model
        rows = [self.compiled.species.index(n) for n in model.species_of(element)]
        total: FloatArray = self.states[:, rows, :].sum(axis=1)
        return total

    def net_input(self, element: str) -> FloatArray:
        """Cumulative intake − excretion of `element` (ledgers plus doses), (n_save, n)."""
        model = self.compiled.model
        rows = [i for i, ledger in enumerate(model.ledgers) if ledger.element == element]
        doses = self.doses[:, model.elements.index(element), :]
        booked: FloatArray = self.ledgers[:, rows, :].sum(axis=1)
        return booked + doses

    def mass_balance_error(self, element: str) -> FloatArray:
        """(intake − excretion − Δstores) / (total inflow + initial stores), (n_save, n):
        zero up to round-off when the books balance."""
        model = self.compiled.model
        stores = self.stores(element)
        rows = [i for i, ledger in enumerate(model.ledgers) if ledger.element == element]
        inflow = np.clip(self.ledgers[:, rows, :], 0, None).sum(axis=1)
        inflow = inflow + self.doses[:, model.elements.index(element), :]
        residual = self.net_input(element) - (stores - stores[0])
        return np.asarray(residual / (inflow + stores[0]))

    def to_frame(self) -> pd.DataFrame:
        """One row per (patient, save time): species, rules and ledgers as columns, the status."""
        n_save, n = self.time_h.size, self.n_patients
        columns: dict[str, object] = {
            "patient": np.tile(np.arange(n), n_save),
            "time_h": np.repeat(self.time_h, n),
        }
        for i, name in enumerate(self.compiled.species):
            columns[name] = self.states[:, i, :].ravel()
        for i, name in enumerate(self.compiled.model.rule_names):
            columns[name] = self.rules[:, i, :].ravel()
        for i, ledger in enumerate(self.compiled.model.ledgers):
            columns[f"cumulative_{ledger.name}"] = self.ledgers[:, i, :].ravel()
        status = np.array([Status(s).name.lower() for s in self.status])
        columns["status"] = np.tile(status, n_save)
        return pd.DataFrame(columns)

    def summary(self) -> pd.DataFrame:
        """One row per patient: status, its message, and the observables at the last save."""
        return observables_frame(self.compiled.model, self.status, self.rules[-1])


def observables_frame(model: Model, status: NDArray[np.int8], rules: FloatArray) -> pd.DataFrame:
    """One row per patient: status, its message and every observable rule of `model` from
    `rules` (n_rules, n_patients), in their report units."""
    frame = pd.DataFrame(
        {
            "patient": np.arange(status.size),
            "status": [Status(s).name.lower() for s in status],
            "message": [Status(s).message for s in status],
        }
    )
    for i, rule in enumerate(model.rules):
        if rule.observable:
            frame[rule.name] = rules[i]
    return frame
