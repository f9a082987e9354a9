"""Hemodialysis patients of a population through `mgckd.dialysis`.

A patient on stable dialysis is at the long-run cycle of their own prescription: the periodic
steady state (`mgckd.dialysis.periodic_steady_state`, Newton on the weekly map), not months of
simulation. From it:

- `hemodialysis_cross_section`: each patient's pre-dialysis labs at the sampling session
  (``predialysis_sampling_session``, mid-week by default) — every observable of the model and,
  by speciation of the simulated totals, ionized Mg and Ca;
- `simulate_hemodialysis`: a stretch of sessions from that sample on, with each group's
  (trial arm's) dialysate Mg and drugs from then on. Time 0 of the result is the pre-dialysis
  sample, so saves a whole number of weeks later are samples of the same session of the week.

Every patient shares the default schedule (Mon/Wed/Fri, 4 h) and prescription except for the
dialysate Mg, which is their ``dialysate_mg_mmol_l`` characteristic, and the blood flow, which is
the preset's cohort's where the registry holds one (``<preset>_blood_flow_ml_min``: Japanese
in-centre hemodialysis runs at about 200 mL/min, ``jsdt_hd_blood_flow_ml_min``) — a covariate of
the cohort, looked up, not tuned.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mgckd.dialysis import (
    DialysisPatients,
    Hemodialysis,
    PeriodicSteadyState,
    Prescription,
    Schedule,
    dialysis_scenario,
    hemodialysis,
    periodic_steady_state,
    simulate_dialysis,
)
from mgckd.exceptions import ScenarioError
from mgckd.interventions import Intervention, intervention_schedule
from mgckd.model import CompiledModel, Dose, Event, SetParameter, compile_model
from mgckd.params import parameters
from mgckd.populations._parameters import check_finite, ecf_volume_l, laxative_mg_mmol_h
from mgckd.populations._sample import Population
from mgckd.populations._schedule import personal_schedule
from mgckd.simulate import Rodas4, SimulationResult, Status, simulate

FloatArray = NDArray[np.float64]

DIALYSATE_MG = "dialysate_mg_mmol_l"
"""The model parameter (and the characteristic) of the dialysate Mg, mmol/L."""
_FIELDS = (
    "residual_gfr_ml_min",
    "fluid_gain_l_d",
    "diet_mg_mmol_d",
    "diet_phosphate_mmol_d",
    "phosphate_unbound_fraction",
)
"""Characteristics that are `DialysisPatients` fields of the same name (and units)."""


def sampling_time_h(schedule: Schedule) -> float:
    """Start of the pre-dialysis sampling session within the schedule's period, hours."""
    session = int(parameters()["predialysis_sampling_session"].to("1"))
    return schedule.starts_h[session - 1]


def pre_dialysis_times_h(schedule: Schedule, duration_h: float) -> FloatArray:
    """Every session start from the sampling session on, within `duration_h` of it, hours
    after it (the pre-dialysis samples a trial of that length can draw).

    >>> pre_dialysis_times_h(Schedule(), 168.0).tolist()
    [0.0, 48.0, 120.0, 168.0]
    """
    start = sampling_time_h(schedule)
    periods = np.arange(int(np.ceil((start + duration_h) / schedule.period_h)) + 1)
    starts = (periods[:, None] * schedule.period_h + np.array(schedule.starts_h)).ravel()
    times = starts - start
    return np.asarray(times[(times >= 0.0) & (times <= duration_h)], dtype=np.float64)


def cohort_blood_flow_ml_min(preset: str) -> float:
    """The blood flow of the cohort a preset represents (registry ``<preset>_blood_flow_ml_min``),
    or the reference prescription's where the registry holds none, mL/min.

    >>> cohort_blood_flow_ml_min("jsdt_hd")
    206.5
    """
    registry = parameters()
    name = f"{preset}_blood_flow_ml_min"
    if name not in registry:
        name = "dialysis_blood_flow_reference_ml_min"
    return registry[name].to("mL/min")


def _prescriptions(dialysate_mg_mmol_l: FloatArray, blood_flow_ml_min: float) -> list[Prescription]:
    """One prescription per patient (one object per distinct dialysate Mg; range-checked)."""
    distinct = {
        float(x): Prescription(dialysate_mg_mmol_l=float(x), blood_flow_ml_min=blood_flow_ml_min)
        for x in set(dialysate_mg_mmol_l)
    }
    return [distinct[float(x)] for x in dialysate_mg_mmol_l]


def hemodialysis_batch(population: Population, compiled: CompiledModel) -> Hemodialysis:
    """The `mgckd.dialysis` batch of a hemodialysis population in `compiled`'s model: residual
    GFR, fluid gain, dietary Mg and phosphate and the unbound fraction of the phosphate as
    `DialysisPatients`, the dialysate Mg and the cohort's blood flow as each
    patient's prescription, and the Mg of a magnesium-oxide laxative and the ECF volume (from
    weight) as overrides.

    Raises
    ------
    ScenarioError
        For a population that is not on hemodialysis, or a characteristic outside the accepted
        range of `mgckd.dialysis` (naming it).
    """
    if population.preset.dialysis != "hemodialysis":
        raise ScenarioError(
            f"preset {population.preset.name!r}: its patients are not on hemodialysis"
        )
    fields = {name: population.column(name) for name in _FIELDS}
    overrides = {
        "supplement_mg_oxide_mmol_h": laxative_mg_mmol_h(population),
        "ecf_volume_l": ecf_volume_l(population),
    }
    check_finite(population, fields | overrides)
    patients = DialysisPatients(
        residual_gfr_ml_min=fields["residual_gfr_ml_min"],
        fluid_gain_l_d=fields["fluid_gain_l_d"],
        diet_mg_mmol_d=fields["diet_mg_mmol_d"],
        diet_phosphate_mmol_d=fields["diet_phosphate_mmol_d"],
        phosphate_unbound_fraction=fields["phosphate_unbound_fraction"],
    )
    return hemodialysis(
        compiled.model,
        _prescriptions(
            population.column(DIALYSATE_MG), cohort_blood_flow_ml_min(population.preset.name)
        ),
        patients,
        overrides=overrides,
    )


def _initial(hd: Hemodialysis, steady: PeriodicSteadyState) -> FloatArray:
    """The periodic steady states, with the solver's guess for patients that did not converge
    (their results are marked failed), so that the batch can run."""
    compiled = compile_model(hd.model)
    failed = ~steady.succeeded
    states = steady.states.copy()
    if failed.any():
        states[:, failed] = compiled.guess(steady.parameters[:, failed])
    return states


def _with_failures(result: SimulationResult, steady: PeriodicSteadyState) -> SimulationResult:
    """`result` with the patients whose long-run cycle did not converge marked failed (their
    status, NaN values), as the engine marks its own failures."""
    failed = ~steady.succeeded
    if not failed.any():
        return result
    states, rules = result.states.copy(), result.rules.copy()
    states[:, :, failed] = np.nan
    rules[:, :, failed] = np.nan
    status = np.where(failed, steady.status, result.status).astype(np.int8)
    return replace(result, states=states, rules=rules, status=status)


def hemodialysis_cross_section(population: Population, compiled: CompiledModel) -> pd.DataFrame:
    """Each patient's pre-dialysis labs at the sampling session of their long-run cycle.

    Returns
    -------
    DataFrame
        One row per patient: every rule of the model (report units) at the pre-dialysis
        sample; ``mg_ionized_pre_mmol_l`` and ``ca_ionized_pre_mmol_l`` by speciation of the
        simulated totals in the reference hemodialysis plasma (`mgckd.dialysis`); ``status``.
    """
    hd = hemodialysis_batch(population, compiled)
    steady = periodic_steady_state(hd, throw=False)
    week = simulate_dialysis(
        hd, duration_h=hd.schedule.period_h, initial=_initial(hd, steady), throw=False
    )
    week = replace(week, simulation=_with_failures(week.simulation, steady))
    start = sampling_time_h(hd.schedule)
    row = int(np.flatnonzero(np.isclose(week.simulation.time_h, start))[0])
    names = week.simulation.compiled.model.rule_names
    frame = pd.DataFrame(dict(zip(names, week.simulation.rules[row], strict=True)))
    sessions = week.sessions_frame()
    sample = sessions[np.isclose(sessions["start_h"], start)].sort_values("patient")
    for column in ("mg_ionized_pre_mmol_l", "ca_ionized_pre_mmol_l"):
        frame[column] = sample[column].to_numpy()
    frame["status"] = [
        Status(s).name.lower() for s in _with_failures(week.simulation, steady).status
    ]
    return frame


def _shifted(event: Event, by_h: float) -> Event:
    """A drug event (a parameter change or a dose) `by_h` hours later."""
    if isinstance(event, SetParameter):
        return SetParameter(event.parameter, event.values, at_h=event.at_h + by_h)
    if isinstance(event, Dose):
        return Dose(
            event.species,
            event.amounts,
            start_h=event.start_h + by_h,
            every_h=event.every_h,
            count=event.count,
        )
    raise ScenarioError(f"{event!r}: only parameter changes and doses are drug events")


def _dialysate_events(
    hd: Hemodialysis,
    dialysate: Sequence[float | None],
    group_of: NDArray[np.intp],
    at_h: float,
) -> tuple[Event, ...]:
    """The change of each group's dialysate Mg at `at_h` (None: the patients' own)."""
    if all(level is None for level in dialysate):
        return ()
    own = np.array([p.dialysate_mg_mmol_l for p in hd.prescriptions])
    values = own.copy()
    for g, level in enumerate(dialysate):
        if level is not None:
            values[group_of == g] = Prescription(dialysate_mg_mmol_l=level).dialysate_mg_mmol_l
    return (SetParameter(DIALYSATE_MG, values, at_h=at_h),)


def simulate_hemodialysis(
    population: Population,
    compiled: CompiledModel,
    *,
    duration_h: float,
    save_at_h: FloatArray | None = None,
    groups: Sequence[Sequence[Intervention]] = ((),),
    group_of: NDArray[np.intp] | None = None,
    dialysate_mg_mmol_l: Sequence[float | None] = (None,),
    solver: Rodas4 = Rodas4(),  # noqa: B008  (frozen settings)
) -> SimulationResult:
    """Simulate hemodialysis patients for `duration_h` hours from their pre-dialysis sample on
    their own prescription's long-run cycle, each group with its drugs and dialysate Mg from
    then on.

    Parameters
    ----------
    population : hemodialysis patients.
    compiled : the physiology model (dialysis is added).
    duration_h : hours after the sample.
    save_at_h : save times, hours after the sample (default every session start: pre-dialysis
        values).
    groups, group_of : each group's interventions (on top of the patients' own) and each
        patient's group.
    dialysate_mg_mmol_l : each group's dialysate Mg (None: the patient's own), checked against
        the accepted range.
    solver : the solver's settings.

    Returns
    -------
    SimulationResult
        With ``time_h`` counted from the sample; patients whose long-run cycle did not converge
        carry its failed status.
    """
    hd = hemodialysis_batch(population, compiled)
    assignment = np.zeros(hd.n_patients, dtype=np.intp) if group_of is None else group_of
    steady = periodic_steady_state(hd, throw=False)
    start = sampling_time_h(hd.schedule)
    scenario, _ = dialysis_scenario(hd, duration_h=start + duration_h, initial=_initial(hd, steady))
    with_dialysis = compile_model(hd.model)
    drugs = personal_schedule(
        with_dialysis,
        [intervention_schedule(list(g), duration_h=duration_h) for g in groups],
        assignment,
        hd.parameters(),
    )
    events = (
        *scenario.schedule,
        *(_shifted(e, start) for e in drugs),
        *_dialysate_events(hd, dialysate_mg_mmol_l, assignment, start),
    )
    relative = pre_dialysis_times_h(hd.schedule, duration_h) if save_at_h is None else save_at_h
    result = simulate(
        with_dialysis,
        replace(scenario, schedule=events),
        save_at=start + np.asarray(relative, dtype=np.float64),
        solver=solver,
        throw=False,
    )
    return replace(_with_failures(result, steady), time_h=result.time_h - start)
