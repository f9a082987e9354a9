"""Run the patients of repeated virtual trials: enrol the eligible, randomize them in permuted
blocks, simulate every patient of every repeat in chunks (one vectorized solve each), and keep,
per endpoint, only what its analysis needs (baseline and follow-up, time to a threshold, an
event).

Repeats are independent trials of `n` patients each; patient j of repeat r is enrolled j-th, so
the first `m` patients of every repeat form the same trial with `m` patients: the sample-size
search analyses prefixes of one simulation. With a pool (``pool_patients``), the pool's patients
are simulated once in every arm and each repeat draws its patients from them without
replacement (a unit is a patient in an arm; a repeat's slots read the units they drew).

Hemodialysis patients start at the pre-dialysis sample of their own long-run cycle and are saved
at every session start (`mgckd.populations.simulate_hemodialysis`); arms may change their
dialysate Mg there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mgckd._pint import quantity
from mgckd.dialysis import Prescription, Schedule
from mgckd.exceptions import NotAvailableError, ScenarioError, UserInputError
from mgckd.interventions import Intervention, intervention_schedule
from mgckd.model import CompiledModel
from mgckd.outcomes import Cohort, effect_size, risk
from mgckd.outcomes._risk import absolute_risk
from mgckd.populations import (
    Population,
    pre_dialysis_times_h,
    preset,
    sample_population,
    washout,
)
from mgckd.populations._cohort import HOURS_PER_DAY, simulate_population, steady_observables
from mgckd.populations._models import resolve_model
from mgckd.trials._design import Criterion, EndpointSpec, TrialDesign
from mgckd.trials._measures import MeasureContext, measure
from mgckd.units import convert

FloatArray = NDArray[np.float64]

CHUNK_PATIENTS = 2000
"""Patients simulated per vectorized solve (bounds memory)."""
SCREEN_BATCH = 4000
"""Patients drawn per screening round."""
MAX_SCREENED_PER_ENROLLED = 200
"""Screening stops (an error) when this many patients per needed one found too few eligible."""
DEFAULT_EVENT_SAVE_DAYS = 30.0
"""Save spacing when an endpoint needs an exposure averaged over time (and none is given)."""
DEFAULT_THRESHOLD_SAVE_DAYS = 1.0
"""Save spacing when an endpoint needs the time a threshold is crossed (and none is given)."""


@dataclass(frozen=True, eq=False)
class EndpointData:
    """What the analysis of one endpoint needs, per (repeat, patient); NaN where no value.

    baseline, follow_up : values at the first and last save (internal unit).
    time_days, reached : time to the threshold (censored at the end), and whether reached.
    event : 1 event, 0 none.
    """

    spec: EndpointSpec
    baseline: FloatArray
    follow_up: FloatArray
    time_days: FloatArray
    reached: NDArray[np.bool_]
    event: FloatArray


@dataclass(frozen=True, eq=False)
class TrialData:
    """Simulated repeats of a trial.

    Attributes
    ----------
    design : the design.
    arm : each patient's arm, (repeats, n).
    endpoints : by endpoint name.
    grid_days : the save times, days.
    screened, eligible : patients drawn while enrolling, and how many of them were eligible.
    failed : patients whose solve failed, (repeats, n) booleans.
    skipped : endpoints not computed, with why.
    seed : the seed.
    """

    design: TrialDesign
    arm: NDArray[np.intp]
    endpoints: Mapping[str, EndpointData]
    grid_days: FloatArray
    screened: int
    eligible: int
    failed: NDArray[np.bool_]
    skipped: Mapping[str, str]
    seed: int


def _criterion_mask(values: NDArray[np.generic], criterion: Criterion) -> NDArray[np.bool_]:
    if criterion.one_of is not None:
        return np.isin(values.astype(str), criterion.one_of)
    if criterion.equals is not None:
        if isinstance(criterion.equals, bool):
            return np.asarray(values.astype(bool) == criterion.equals)
        return np.asarray(values.astype(str) == criterion.equals)
    numbers = values.astype(np.float64)
    mask = np.isfinite(numbers)
    if criterion.at_least is not None:
        mask &= numbers >= criterion.at_least
    if criterion.below is not None:
        mask &= numbers < criterion.below
    return mask


def _eligible(
    design: TrialDesign, population: Population, compiled: CompiledModel
) -> NDArray[np.bool_]:
    """Who is eligible: characteristics first, then (for those left) baseline observables."""
    columns = population.characteristics
    criteria = design.population.eligibility
    observables = [k for k in criteria if k not in columns]
    unknown = [k for k in observables if k not in compiled.model.rule_names]
    if unknown:
        raise ScenarioError(
            f"population.eligibility: {', '.join(unknown)} is neither a characteristic of "
            f"preset {population.preset.name!r} ({', '.join(map(str, columns))}) nor an "
            f"observable of model {compiled.model.name!r}"
        )
    mask = np.ones(len(population), dtype=bool)
    for key in criteria.keys() - set(observables):
        mask &= _criterion_mask(columns[key].to_numpy(), criteria[key])
    if observables and mask.any():
        rows = np.flatnonzero(mask)
        baseline = steady_observables(population.take(rows), compiled)
        for key in observables:
            mask[rows] &= _criterion_mask(baseline[key].to_numpy(), criteria[key])
    return mask


def enrol(
    design: TrialDesign, n: int, compiled: CompiledModel, rng: np.random.Generator
) -> tuple[Population, int, int]:
    """`n` eligible patients (in enrolment order), how many were screened and how many of
    those were eligible."""
    found: list[Population] = []
    count = screened = 0
    while count < n:
        if screened > MAX_SCREENED_PER_ENROLLED * n:
            raise UserInputError(
                f"population.eligibility: only {count} of {screened} screened patients of preset "
                f"{design.population.preset!r} are eligible, too few for {n}; widen the criteria"
            )
        batch = washout(
            sample_population(design.population.preset, SCREEN_BATCH, rng=rng, id_offset=screened),
            design.population.washout,
        )
        screened += SCREEN_BATCH
        keep = batch.take(np.flatnonzero(_eligible(design, batch, compiled)))
        found.append(keep)
        count += len(keep)
    merged = Population(
        found[0].preset, pd.concat([p.characteristics for p in found], ignore_index=True)
    )
    return merged.take(np.arange(n)), screened, count


def randomize(
    design: TrialDesign, repeats: int, n: int, rng: np.random.Generator
) -> NDArray[np.intp]:
    """Arms in permuted blocks along enrolment, independently per repeat, (repeats, n)."""
    per_block = design.block // design.ratio_sum
    block = np.repeat(np.arange(len(design.arms)), [a.ratio * per_block for a in design.arms])
    blocks = -(-n // design.block)
    pattern = np.broadcast_to(block, (repeats, blocks, design.block))
    arms: NDArray[np.intp] = rng.permuted(pattern, axis=2).reshape(repeats, -1)[:, :n]
    return arms


def _save_every_days(design: TrialDesign) -> float:
    if design.save_every_days is not None:
        return design.save_every_days
    compares = {e.compare for e in design.endpoints}
    if "time_to_below" in compares:
        return DEFAULT_THRESHOLD_SAVE_DAYS
    if "event" in compares:
        return min(DEFAULT_EVENT_SAVE_DAYS, design.duration_days)
    return design.duration_days


def _on_hemodialysis(design: TrialDesign) -> bool:
    return preset(design.population.preset).dialysis == "hemodialysis"


def save_grid_days(design: TrialDesign) -> FloatArray:
    """The save times of the trial's simulation, days (start and end included).

    On hemodialysis: every session start from the baseline pre-dialysis sample on (pre-dialysis
    values; `save_every_days` does not apply)."""
    if _on_hemodialysis(design):
        times_h = pre_dialysis_times_h(Schedule(), design.duration_days * HOURS_PER_DAY)
        return times_h / HOURS_PER_DAY
    step = _save_every_days(design)
    return np.unique(np.append(np.arange(0.0, design.duration_days, step), design.duration_days))


def arm_interventions(design: TrialDesign) -> list[list[Intervention]]:
    """Each arm's interventions, checked: a treatment not built yet is `NotAvailableError`; a
    dialysate Mg outside the accepted range, or given to patients not on hemodialysis, is a
    `ScenarioError` naming the arm."""
    duration_h = design.duration_days * HOURS_PER_DAY
    for arm in design.arms:
        if arm.dialysate_mg_mmol_l is not None:
            where = f"arms.{arm.name}.dialysate_mg_mmol_l"
            if not _on_hemodialysis(design):
                raise ScenarioError(
                    f"{where}: preset {design.population.preset!r} is not on hemodialysis"
                )
            try:
                Prescription(dialysate_mg_mmol_l=arm.dialysate_mg_mmol_l)
            except ScenarioError as error:
                reason = str(error).removeprefix("dialysate_mg_mmol_l: ")
                raise ScenarioError(f"{where}: {reason}") from None
        try:
            intervention_schedule(arm.interventions, duration_h=duration_h)
        except ScenarioError as error:
            raise NotAvailableError(f"arms.{arm.name}: {error}") from None
    return [list(arm.interventions) for arm in design.arms]


def check_endpoints(
    design: TrialDesign, compiled: CompiledModel, *, skip_unavailable: bool
) -> dict[str, str]:
    """Endpoints that cannot be computed, with why (raises unless `skip_unavailable`)."""
    skipped: dict[str, str] = {}
    for i, spec in enumerate(design.endpoints):
        where = f"endpoints.{i} ({spec.name})"
        m = measure(spec.measure, where)
        if m.ends_only and spec.compare in ("time_to_below", "event"):
            raise ScenarioError(
                f"{where}: measure {m.name!r} is computed at the start and end only; compare "
                "follow_up, change or percent_change"
            )
        try:
            m.require(compiled, where)
        except NotAvailableError as error:
            if not skip_unavailable:
                raise
            skipped[spec.name] = str(error)
    if len(skipped) == len(design.endpoints):
        raise NotAvailableError(f"no endpoint of the trial can be computed: {skipped}")
    return skipped


def _internal(spec: EndpointSpec, value: float, unit: str) -> float:
    """A threshold in the measure's internal unit."""
    m = measure(spec.measure, spec.name)
    if m.analyte is not None:
        return float(convert(value, unit, m.unit, analyte=m.analyte))
    return float(quantity(value, unit).to(m.unit).magnitude)


@dataclass(slots=True)
class _Collected:
    """Per endpoint, per patient (flattened over repeats): what the analyses need."""

    baseline: FloatArray
    follow_up: FloatArray
    time_days: FloatArray
    reached: NDArray[np.bool_]
    exposure: FloatArray


def _collect(
    spec: EndpointSpec, values: FloatArray, grid_days: FloatArray, into: _Collected, at: slice
) -> None:
    into.baseline[at], into.follow_up[at] = values[0], values[-1]
    if spec.threshold is not None:
        limit = _internal(spec, spec.threshold.value, spec.threshold.unit)
        crossed = np.nan_to_num(values, nan=np.inf) <= limit
        reached = crossed.any(axis=0)
        time = np.where(reached, grid_days[np.argmax(crossed, axis=0)], grid_days[-1])
        into.time_days[at] = np.where(np.isfinite(values[-1]), time, np.nan)
        into.reached[at] = reached
    if spec.compare == "event":
        with np.errstate(all="ignore"):
            into.exposure[at] = np.mean(values, axis=0)


_EXPOSURE_FIELDS = {"serum_mg_total": "mg_mmol_l", "phosphate": "phosphate_mmol_l"}
"""Measures that can be the exposure of an outcome effect, and the `Cohort` field they fill."""


def _events(
    spec: EndpointSpec,
    exposure: FloatArray,
    population: Population,
    duration_days: float,
    rng: np.random.Generator,
) -> FloatArray:
    """1/0 events drawn from each patient's risk over the trial (NaN without an estimate)."""
    effect = effect_size(str(spec.effect))
    field = _EXPOSURE_FIELDS.get(spec.measure)
    if field is None or field not in effect.fields:
        raise ScenarioError(
            f"endpoint {spec.name!r}: effect {effect.id!r} reads {', '.join(effect.fields)}; "
            f"measure {spec.measure!r} cannot supply it"
        )
    chars = population.characteristics
    cohort = Cohort(
        dialysis=chars["dialysis"].to_numpy(),
        patient_id=tuple(chars["patient_id"]),
        diabetes=population.column("diabetes"),
        egfr_ml_min_1_73m2=population.column("egfr_ml_min_1_73m2"),
        **{field: exposure},
    )
    found = risk(
        cohort,
        effect,
        rng=rng,
        draws=2,
        allow_outside_population=spec.allow_outside_population,
    ).to_frame()
    relative = found["relative_risk"].to_numpy(dtype=np.float64)
    if spec.control_risk is not None:
        probability = absolute_risk(spec.control_risk, relative, effect.measure)
    else:
        baseline = effect.baseline_risk()
        if baseline is None or effect.horizon.value is None:
            raise ScenarioError(
                f"endpoint {spec.name!r}: effect {effect.id!r} publishes no baseline risk over a "
                "fixed horizon; give control_risk (the reference category's risk over the trial)"
            )
        horizon_days = float(quantity(effect.horizon.value, str(effect.horizon.unit)).to("d").m)
        over_horizon = absolute_risk(baseline, relative, effect.measure)
        probability = 1.0 - (1.0 - over_horizon) ** (duration_days / horizon_days)
    draw = rng.random(probability.size)
    out: FloatArray = np.where(np.isfinite(probability), (draw < probability) * 1.0, np.nan)
    return out


@dataclass(frozen=True, eq=False)
class _Units:
    """What is simulated: unit k is patient `patient[k]` of the enrolled population in arm
    `arm[k]`; slot (r, i) of the trials reads unit `of_slot[r, i]`."""

    patient: NDArray[np.intp]
    arm: NDArray[np.intp]
    of_slot: NDArray[np.intp]


def _units(
    design: TrialDesign, arm: NDArray[np.intp], pool: int | None, rng: np.random.Generator
) -> _Units:
    """Distinct patients in their own arm, or (with a pool) every pool patient in every arm,
    each trial drawing its patients from the pool without replacement."""
    repeats, n = arm.shape
    if pool is None:
        flat = np.arange(repeats * n)
        return _Units(flat, arm.ravel(), flat.reshape(repeats, n))
    drawn = rng.permuted(np.tile(np.arange(pool), (repeats, 1)), axis=1)[:, :n]
    arms = len(design.arms)
    return _Units(
        np.tile(np.arange(pool), arms), np.repeat(np.arange(arms), pool), arm * pool + drawn
    )


def simulate_trial(
    design: TrialDesign,
    *,
    repeats: int,
    n: int,
    seed: int,
    skip_unavailable: bool = False,
) -> TrialData:
    """Simulate `repeats` virtual trials of `n` patients each (see the module docstring)."""
    compiled = resolve_model(design.model)
    skipped = check_endpoints(design, compiled, skip_unavailable=skip_unavailable)
    groups = arm_interventions(design)
    pool = design.pool_patients
    if pool is not None and pool < n:
        raise UserInputError(
            f"pool_patients {pool} is smaller than the {n} patients of a trial; raise it"
        )
    rng = np.random.default_rng(seed)
    population, screened, eligible = enrol(design, pool or repeats * n, compiled, rng)
    arm = randomize(design, repeats, n, rng)
    units = _units(design, arm, pool, rng)
    grid = save_grid_days(design)
    specs = [e for e in design.endpoints if e.name not in skipped]
    total = units.patient.size
    collected = {
        e.name: _Collected(
            baseline=np.full(total, np.nan),
            follow_up=np.full(total, np.nan),
            time_days=np.full(total, np.nan),
            reached=np.zeros(total, dtype=bool),
            exposure=np.full(total, np.nan),
        )
        for e in specs
    }
    failed = np.zeros(total, dtype=bool)
    reference = preset(design.population.preset).reference_plasma
    dialysate = [a.dialysate_mg_mmol_l for a in design.arms]
    for start in range(0, total, CHUNK_PATIENTS):
        at = slice(start, min(start + CHUNK_PATIENTS, total))
        result = simulate_population(
            population.take(units.patient[at]),
            compiled,
            duration_h=design.duration_days * HOURS_PER_DAY,
            save_at_h=grid * HOURS_PER_DAY,
            groups=groups,
            group_of=units.arm[at],
            dialysate_mg_mmol_l=dialysate,
        )
        failed[at] = ~result.succeeded
        context = MeasureContext(result, reference)
        for spec in specs:
            values = measure(spec.measure, spec.name).values(context)
            _collect(spec, values, grid, collected[spec.name], at)
    slots = units.of_slot
    endpoints = {}
    for spec in specs:
        c = collected[spec.name]
        event = (
            _events(
                spec,
                c.exposure[slots.ravel()],
                population.take(units.patient[slots.ravel()]),
                design.duration_days,
                rng,
            )
            if spec.compare == "event"
            else np.full(slots.size, np.nan)
        )
        endpoints[spec.name] = EndpointData(
            spec,
            baseline=c.baseline[slots],
            follow_up=c.follow_up[slots],
            time_days=c.time_days[slots],
            reached=c.reached[slots],
            event=event.reshape(repeats, n),
        )
    return TrialData(
        design=design,
        arm=arm,
        endpoints=endpoints,
        grid_days=grid,
        screened=screened,
        eligible=eligible,
        failed=failed[slots],
        skipped=skipped,
        seed=seed,
    )
