"""Simulation: scenarios (batch, parameters, schedule), solvers, steady states and results.

``simulate(model, scenario, *, solver=Rodas4(), save_at=..., throw=True)`` joins a model
(`mgckd.model`), a `Scenario`, a solver and save times. One patient is a batch of one.
See docs/model.md.
"""

from mgckd.model import Dose, SetParameter, Window
from mgckd.simulate._compare import side_by_side
from mgckd.simulate._export import export_sbml
from mgckd.simulate._file import PatientScenario, parse_scenario, read_scenario
from mgckd.simulate._result import SimulationResult, SolverStats, Status
from mgckd.simulate._rodas import Rodas4
from mgckd.simulate._scenario import STEADY_STATE, Scenario
from mgckd.simulate._scipy import ScipySolver
from mgckd.simulate._simulate import simulate
from mgckd.simulate._steady import SteadyState, SteadyStateSettings, steady_state

__all__ = [
    "STEADY_STATE",
    "Dose",
    "PatientScenario",
    "Rodas4",
    "Scenario",
    "ScipySolver",
    "SetParameter",
    "SimulationResult",
    "SolverStats",
    "Status",
    "SteadyState",
    "SteadyStateSettings",
    "Window",
    "export_sbml",
    "parse_scenario",
    "read_scenario",
    "side_by_side",
    "simulate",
    "steady_state",
]
