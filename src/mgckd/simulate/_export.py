"""One patient of a scenario as an SBML document: the model, that patient's parameters and
initial state, and the schedule as SBML events (repeats kept as one event with a counter)."""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy

from mgckd.exceptions import ScenarioError
from mgckd.model import CompiledModel, Model, compile_model, sym
from mgckd.model._sbml import document_string, libsbml, math_ast, sbml_document
from mgckd.model._schedule import Action, Dose, Event, SetParameter, Window
from mgckd.simulate._scenario import Scenario
from mgckd.simulate._simulate import initial_states

_PRIORITY = {
    Action.WINDOW_END: 4,
    Action.SET: 3,
    Action.WINDOW_START: 2,
    Action.DOSE: 1,
}  # higher first: the order `occurrences` applies coinciding events in


def export_sbml(model: Model | CompiledModel, scenario: Scenario, *, patient: int = 0) -> str:
    """SBML (Level 3 Version 2) text of `patient` of `scenario`: the same parameters, initial
    state (the steady state when the scenario asks for it) and schedule as `simulate` uses.

    Raises
    ------
    ScenarioError
        For a patient index outside the batch.
    SBMLExportError
        For anything SBML cannot express.
    """
    compiled = model if isinstance(model, CompiledModel) else compile_model(model)
    scenario.check_against(compiled)
    if not 0 <= patient < scenario.n_patients:
        raise ScenarioError(
            f"patient: {patient} is outside the batch of {scenario.n_patients} patient(s)"
        )
    p = compiled.parameter_array(scenario.parameters, scenario.n_patients)
    y, _ = initial_states(compiled, scenario, p)
    changed = frozenset(
        e.parameter for e in scenario.schedule if isinstance(e, SetParameter | Window)
    )
    document = sbml_document(
        compiled.model,
        parameters=dict(zip(compiled.parameters, p[:, patient], strict=True)),
        initial_amounts=dict(zip(compiled.species, y[:, patient], strict=True)),
        variable_parameters=changed,
    )
    doc = document.getModel()
    for index, event in enumerate(scenario.schedule):
        _write_event(doc, f"event_{index}", event, patient)
    return document_string(document)


def _value(values: np.ndarray[Any, np.dtype[np.float64]], patient: int) -> float:
    return float(values[0] if values.size == 1 else values[patient])


def _counter(doc: Any, name: str, value: float) -> sympy.Symbol:
    q = doc.createParameter()
    q.setId(name)
    q.setValue(value)
    q.setConstant(False)
    q.setUnits("dimensionless")
    return sym(name)


def _repeating(
    doc: Any,
    name: str,
    *,
    first_h: float,
    every_h: float | None,
    count: int,
    priority: int,
    assignments: list[tuple[str, sympy.Expr]],
) -> None:
    """An event firing at first_h, first_h + every_h, … (count times), with a time and a counter
    parameter of its own."""
    sbml = libsbml()
    next_h = _counter(doc, f"{name}_next_h", first_h)
    fired = _counter(doc, f"{name}_fired", 0.0)
    event = doc.createEvent()
    event.setId(name)
    event.setUseValuesFromTriggerTime(True)
    trigger = event.createTrigger()
    trigger.setInitialValue(False)
    trigger.setPersistent(True)
    trigger.setMath(math_ast(sympy.And(sympy.Ge(sym("time"), next_h), sympy.Lt(fired, count))))
    event.createPriority().setMath(sbml.parseL3Formula(str(priority)))
    assignments = [
        *assignments,
        (str(next_h), next_h + (every_h or 0.0)),
        (str(fired), fired + 1),
    ]
    for variable, expression in assignments:
        assignment = event.createEventAssignment()
        assignment.setVariable(variable)
        assignment.setMath(math_ast(expression))


def _write_event(doc: Any, name: str, event: Event, patient: int) -> None:
    if isinstance(event, Dose):
        target = sym(event.species)
        _repeating(
            doc,
            name,
            first_h=event.start_h,
            every_h=event.every_h,
            count=event.count,
            priority=_PRIORITY[Action.DOSE],
            assignments=[(event.species, target + _value(event.amounts, patient))],
        )
    elif isinstance(event, SetParameter):
        _repeating(
            doc,
            name,
            first_h=event.at_h,
            every_h=None,
            count=1,
            priority=_PRIORITY[Action.SET],
            assignments=[(event.parameter, sympy.Float(_value(event.values, patient)))],
        )
    else:
        saved = _counter(doc, f"{name}_held", 0.0)
        target = sym(event.parameter)
        value = sympy.Float(_value(event.values, patient))
        _repeating(
            doc,
            f"{name}_start",
            first_h=event.start_h,
            every_h=event.every_h,
            count=event.count,
            priority=_PRIORITY[Action.WINDOW_START],
            assignments=[(str(saved), target), (event.parameter, value)],
        )
        _repeating(
            doc,
            f"{name}_end",
            first_h=event.start_h + event.duration_h,
            every_h=event.every_h,
            count=event.count,
            priority=_PRIORITY[Action.WINDOW_END],
            assignments=[(event.parameter, saved)],
        )
