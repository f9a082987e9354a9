"""A cohort run: what to simulate (`CohortSpec`), and one chunk of it — its patients sampled,
mapped onto the model and simulated in one vectorized solve, reduced to a tidy table.

A chunk depends only on the spec and its index (its own seed from the run's seed), so chunks can
run in any order, on any worker, and be recomputed identically.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Annotated

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field

from mgckd._pint import quantity
from mgckd.exceptions import ScenarioError
from mgckd.interventions import Intervention, intervention_schedule
from mgckd.model import CompiledModel, Event
from mgckd.populations._hemodialysis import hemodialysis_cross_section, simulate_hemodialysis
from mgckd.populations._models import ModelName, resolve_model
from mgckd.populations._parameters import patient_parameters
from mgckd.populations._sample import Population, chunk_generator, sample_population
from mgckd.populations._schedule import personal_schedule
from mgckd.simulate import Rodas4, Scenario, SimulationResult, Status, simulate, steady_state

FloatArray = NDArray[np.float64]

HOURS_PER_DAY = float(quantity(1.0, "d").to("h").magnitude)
DEFAULT_CHUNK_SIZE = 2000
DEFAULT_ENVELOPE_RTOL = 1e-4
"""Cohorts follow the envelope of repeating cycles by default: on the benchmark's hemodialysis
cohort the worst patient stays within about 1e-4 of a tight reference (docs/performance.md)."""


class CohortSpec(BaseModel):
    """What a cohort run simulates; saved in the run's manifest (a resumed run must match it).

    Attributes
    ----------
    preset : the population preset (``ckd_g1_g5``, ``jsdt_hd``).
    n_patients : cohort size.
    duration_days : simulated time from each patient's steady state, days (hemodialysis: from
        the pre-dialysis sample of the long-run cycle of their own prescription).
    save_every_days : spacing of saved times (default: start and end only).
    interventions : given to every patient, on top of what they take.
    seed : the run's seed; chunk k draws its patients from its own stream of it.
    chunk_size : patients per chunk (one vectorized solve; bounds a worker's memory).
    model : ``magnesium`` or ``whole_body``.
    rtol : relative tolerance of the Rodas4 solver.
    envelope_rtol : follow the envelope of the schedule's repeating cycles (hemodialysis
        sessions, daily doses) within this relative tolerance (`mgckd.simulate.Rodas4`);
        None integrates every step.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    preset: str
    n_patients: Annotated[int, Field(ge=1)]
    duration_days: Annotated[float, Field(gt=0)]
    save_every_days: Annotated[float, Field(gt=0)] | None = None
    interventions: tuple[Intervention, ...] = ()
    seed: int = 0
    chunk_size: Annotated[int, Field(ge=1)] = DEFAULT_CHUNK_SIZE
    model: ModelName = "magnesium"
    rtol: Annotated[float, Field(gt=0, lt=1)] = Rodas4().rtol
    envelope_rtol: Annotated[float, Field(gt=0, lt=1)] | None = DEFAULT_ENVELOPE_RTOL

    @property
    def solver(self) -> Rodas4:
        """The solver of every chunk."""
        return Rodas4(rtol=self.rtol, envelope_rtol=self.envelope_rtol)

    @property
    def n_chunks(self) -> int:
        """Number of chunks."""
        return math.ceil(self.n_patients / self.chunk_size)

    def chunk_patients(self, index: int) -> int:
        """Patients in chunk `index` (the last may be smaller)."""
        return min(self.chunk_size, self.n_patients - index * self.chunk_size)

    @property
    def duration_h(self) -> float:
        """Simulated time, hours."""
        return self.duration_days * HOURS_PER_DAY

    def save_at_h(self) -> FloatArray:
        """Saved times, hours (start and end always included)."""
        step = (self.save_every_days or self.duration_days) * HOURS_PER_DAY
        grid = np.append(np.arange(0.0, self.duration_h, step), self.duration_h)
        return np.unique(grid)


def simulate_population(
    population: Population,
    compiled: CompiledModel,
    *,
    duration_h: float,
    save_at_h: FloatArray,
    groups: Sequence[Sequence[Intervention]] = ((),),
    group_of: NDArray[np.intp] | None = None,
    dialysate_mg_mmol_l: Sequence[float | None] | None = None,
    solver: Rodas4 = Rodas4(),  # noqa: B008  (frozen settings)
) -> SimulationResult:
    """Simulate every patient of `population` in one vectorized solve, from their own steady
    state, each group (trial arm) with its interventions on top of the patient's own.

    Hemodialysis patients start at the pre-dialysis sample of their own prescription's long-run
    cycle (`simulate_hemodialysis`: `save_at_h` counts from it), and each group may change their
    dialysate Mg (`dialysate_mg_mmol_l`, one level or None per group). Failed patients are kept
    with their status (``throw=False``).

    Raises
    ------
    ScenarioError
        For a dialysate Mg given to patients who are not on hemodialysis.
    """
    if population.preset.dialysis == "hemodialysis":
        return simulate_hemodialysis(
            population,
            compiled,
            duration_h=duration_h,
            save_at_h=save_at_h,
            groups=groups,
            group_of=group_of,
            dialysate_mg_mmol_l=dialysate_mg_mmol_l or (None,) * len(groups),
            solver=solver,
        )
    if dialysate_mg_mmol_l is not None and any(x is not None for x in dialysate_mg_mmol_l):
        raise ScenarioError(
            f"dialysate_mg_mmol_l: preset {population.preset.name!r} is not on hemodialysis"
        )
    n = len(population)
    assignment = np.zeros(n, dtype=np.intp) if group_of is None else group_of
    overrides = patient_parameters(population, compiled)
    schedules: list[tuple[Event, ...]] = [
        intervention_schedule(list(g), duration_h=duration_h) for g in groups
    ]
    scenario = Scenario(
        duration_h=duration_h,
        n_patients=n,
        parameters=overrides,
        schedule=personal_schedule(compiled, schedules, assignment, overrides),
    )
    return simulate(compiled, scenario, save_at=save_at_h, solver=solver, throw=False)


def steady_observables(population: Population, compiled: CompiledModel) -> pd.DataFrame:
    """Every rule of the model (report units) at each patient's steady state at time 0, one row
    per patient, with ``status`` (the cross-sectional view of a cohort: no simulation).

    Hemodialysis patients: their pre-dialysis labs on their long-run cycle
    (`hemodialysis_cross_section`, which adds speciated ionized Mg and Ca)."""
    if population.preset.dialysis == "hemodialysis":
        return hemodialysis_cross_section(population, compiled)
    p = compiled.parameter_array(patient_parameters(population, compiled), len(population))
    solved = steady_state(compiled, p)
    with np.errstate(all="ignore"):  # failed patients hold NaN; their status says why
        rules = compiled.reported_rules(0.0, solved.states, p)
    frame = pd.DataFrame(dict(zip(compiled.model.rule_names, rules, strict=True)))
    frame["status"] = [Status(s).name.lower() for s in solved.status]
    return frame


def observables_frame(population: Population, result: SimulationResult) -> pd.DataFrame:
    """One row per (patient, saved time): the characteristics, ``time_days``, every observable
    of the model in its report unit and the patient's ``status``."""
    n_save, n = result.time_h.size, len(population)
    frame = population.characteristics.loc[np.tile(np.arange(n), n_save)].reset_index(drop=True)
    frame.insert(1, "time_days", np.repeat(result.time_h / HOURS_PER_DAY, n))
    model = result.compiled.model
    for i, rule in enumerate(model.rules):
        if rule.observable:
            frame[rule.name] = result.rules[:, i, :].ravel()
    status = np.array([Status(s).name.lower() for s in result.status])
    frame["status"] = np.tile(status, n_save)
    return frame


def chunk_population(spec: CohortSpec, index: int) -> Population:
    """The patients of chunk `index` (ids continue across chunks)."""
    return sample_population(
        spec.preset,
        spec.chunk_patients(index),
        rng=chunk_generator(spec.seed, index),
        id_offset=index * spec.chunk_size,
    )


def chunk_frame(spec: CohortSpec, index: int) -> pd.DataFrame:
    """Sample, simulate and tabulate chunk `index` of a cohort run."""
    population = chunk_population(spec, index)
    result = simulate_population(
        population,
        resolve_model(spec.model),
        duration_h=spec.duration_h,
        save_at_h=spec.save_at_h(),
        groups=(spec.interventions,),
        solver=spec.solver,
    )
    frame = observables_frame(population, result)
    frame.insert(1, "chunk", index)
    return frame
