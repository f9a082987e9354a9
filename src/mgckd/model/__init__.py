"""The modelling engine: one declarative definition of a compartmental ODE model, from which the
vectorized right-hand side, its analytic Jacobian and the SBML export are generated.

See docs/model.md.
"""

from mgckd.model._compiled import CompiledModel, compile_model, parameter_value
from mgckd.model._declare import (
    TIME,
    Compartment,
    Flux,
    Ledger,
    Model,
    Param,
    Rule,
    Species,
    sym,
)
from mgckd.model._functions import hill, saturable
from mgckd.model._schedule import Dose, Event, SetParameter, Window

__all__ = [
    "TIME",
    "Compartment",
    "CompiledModel",
    "Dose",
    "Event",
    "Flux",
    "Ledger",
    "Model",
    "Param",
    "Rule",
    "SetParameter",
    "Species",
    "Window",
    "compile_model",
    "hill",
    "parameter_value",
    "saturable",
    "sym",
]
