"""The dialysis calibration: how much of its measured Mg and phosphate intake the reference
hemodialysis patient takes up.

Free: the reference hemodialysis patient's fractional Mg absorption relative to the healthy curve
and the fraction of dietary phosphate that reaches the gut unbound (binders, bioavailability).
Their intakes are measured (registry), the dialyzer, the dialyzable fractions and the tissue
exchange of Mg and phosphate come from measurements. Targets: the steady pre-dialysis serum Mg of
hemodialysis cohorts on 0.5 mmol/L dialysate (``L-hd-cohorts-predialysis-mg``, mid-week) and the
pre-dialysis serum phosphate of a cohort whose phosphate removal per session was measured in the
same sessions (``L-elias-2018-predialysis-phosphate``, first session of the week), both read from
the periodic steady state of the whole-body model with dialysis (anuric, 3 × 4 h a week). Each
target is simulated under the prescription of the cohort it was measured in
(`target_prescriptions`); neither cohort's prescription is in the sources reached, so both are
the reference.

Why the pre-dialysis level and not the removal (docs/dialysis.md#calibration): in the long run an
anuric patient's sessions remove what the gut absorbs, so a removal target fixes the net uptake
and leaves the pre-dialysis phosphate to the model's session efficiency (removal per unit of
pre-dialysis phosphate), which is kinetic and was about a quarter above measured sessions; a
pre-dialysis target fixes the level every other layer reads (Mg and Ca complexation, T50, binder
thresholds) and leaves the efficiency's error in the removal, which is held out
(``L-elias-2018-phosphate-removal``, ``L-hd-phosphate-removal-per-session``). Why the gut and not a
kinetic parameter: the pre-dialysis Mg is set mostly by how much Mg is absorbed against how fast
the dialyzer can take it out, and the phosphate level by the uptake against the measured dialyzer
and mobilization clearances. Everything intradialytic — post-dialysis values, rebound, the
post-on-pre slope, the removal and its hourly profile, the response to other dialysate levels —
is predicted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from mgckd.calibrate._problem import Free, Problem, Target, problem
from mgckd.dialysis import (
    DialysisPatients,
    PeriodicSteadyState,
    Prescription,
    hemodialysis,
    periodic_steady_state,
    simulate_dialysis,
)
from mgckd.dialysis._prescription import reference
from mgckd.dialysis._reference import reference_model

MG_CLAIM = "L-hd-cohorts-predialysis-mg"
PHOSPHATE_CLAIM = "L-elias-2018-predialysis-phosphate"
REMOVAL_CLAIM = "L-hd-phosphate-removal-per-session"
MG_ABSORPTION = "hemodialysis_mg_absorption_factor"
PHOSPHATE_UNBOUND = "hemodialysis_phosphate_unbound_fraction"

_LAST: dict[object, PeriodicSteadyState] = {}
"""The previous evaluation's periodic steady state, by model and prescriptions: the start of the
next one (the fit's evaluations lie close together, so one or two Newton iterations suffice)."""


def removal_cohort_prescription() -> Prescription:
    """The prescription of the low-flux cohort whose phosphate removal per session is held out
    (Wang et al. 2012: 4-h sessions, blood flow 180–300 mL/min; registry
    ``wang_2012_blood_flow_ml_min``)."""
    return Prescription(blood_flow_ml_min=reference("wang_2012_blood_flow_ml_min", "mL/min"))


def target_prescriptions() -> dict[str, Prescription]:
    """Each target's prescription: that of the cohort it was measured in (neither cohort's is in
    the sources reached: the reference)."""
    return {MG_CLAIM: Prescription(), PHOSPHATE_CLAIM: Prescription()}


def phosphate_sampling_session() -> int:
    """The session of the week the phosphate target's cohort was sampled at (1-based: Elias et
    al. 2018 drew the first session of the week; registry ``elias_2018_sampling_session``)."""
    return int(reference("elias_2018_sampling_session", "1"))


def target_sessions(
    values: Mapping[str, float], prescriptions: Mapping[str, Prescription] | None = None
) -> pd.DataFrame:
    """The long-run week of the reference hemodialysis patient with trial `values`, once per
    target on that target's prescription (default `target_prescriptions`): the sessions frame
    with a ``claim`` column."""
    chosen = dict(prescriptions or target_prescriptions())
    base = reference_model()
    hd = hemodialysis(
        base,
        list(chosen.values()),
        DialysisPatients(
            mg_absorption_factor=values[MG_ABSORPTION],
            phosphate_unbound_fraction=values[PHOSPHATE_UNBOUND],
        ),
    )
    key = (base, tuple(chosen.values()))
    steady = periodic_steady_state(hd, guess=_LAST.get(key))
    _LAST[key] = steady
    week = simulate_dialysis(hd, duration_h=hd.schedule.period_h, initial=steady.states)
    frame = week.sessions_frame(chemistry=False)
    frame["claim"] = np.asarray(list(chosen))[frame["patient"].to_numpy()]
    return frame


def model(
    values: Mapping[str, float], prescriptions: Mapping[str, Prescription] | None = None
) -> Sequence[float]:
    """[pre-dialysis total Mg at the usual sampling session (mmol/L), pre-dialysis phosphate at
    the phosphate cohort's sampling session (mmol/L)] at the periodic steady state of the
    reference hemodialysis patient, each on its target's prescription (`target_sessions`)."""
    frame = target_sessions(values, prescriptions)
    mg_session = int(reference("predialysis_sampling_session", "1"))
    mg_rows = frame[(frame["claim"] == MG_CLAIM) & (frame["session"] == mg_session)]
    pi_rows = frame[
        (frame["claim"] == PHOSPHATE_CLAIM) & (frame["session"] == phosphate_sampling_session())
    ]
    return [
        float(mg_rows["mg_total_pre_mmol_l"].iloc[0]),
        float(pi_rows["pi_total_pre_mmol_l"].iloc[0]),
    ]


@problem("dialysis", after=("physiology", "chemistry"))
def dialysis() -> Problem:
    """Mg absorption and unbound dietary phosphate of the reference hemodialysis patient, on
    cohort pre-dialysis Mg and pre-dialysis phosphate."""
    return Problem(
        name="dialysis",
        description="reference hemodialysis patient's Mg absorption and unbound dietary "
        "phosphate, on pre-dialysis Mg (dialysate 0.5 mmol/L) and pre-dialysis phosphate",
        # fixed starts near the optimum: each evaluation is a periodic steady state of the
        # whole-body model
        free=(
            Free(MG_ABSORPTION, lower=0.05, upper=1.5, start=0.9),
            Free(PHOSPHATE_UNBOUND, lower=0.05, upper=1.0, start=0.6),
        ),
        targets=(Target(MG_CLAIM), Target(PHOSPHATE_CLAIM)),
        model=model,
    )
