"""The dialysis calibration: how much of its measured Mg and phosphate intake the reference
hemodialysis patient takes up.

Free: the reference hemodialysis patient's fractional Mg absorption relative to the healthy curve
and the fraction of dietary phosphate that reaches the gut unbound (binders, bioavailability).
Their intakes are measured (registry), the dialyzer, the dialyzable fractions and the tissue
exchange of Mg and phosphate come from measurements. Targets: the steady pre-dialysis serum Mg of
hemodialysis cohorts on 0.5 mmol/L dialysate (``L-hd-cohorts-predialysis-mg``) and the phosphate
a 4-h session removes (``L-hd-phosphate-removal-per-session``), both read from the periodic steady
state of the whole-body model with dialysis (anuric, 3 × 4 h a week). Each target is simulated
under the prescription of the cohort it was measured in (`TARGET_PRESCRIPTIONS`): the removal
cohort's blood flow (180–300 mL/min, low-flux dialyzers) is a covariate of that target; the Mg
cohorts' prescriptions are not in the sources, so theirs is the reference.

Why the gut and not a kinetic parameter: both targets are balance quantities. In the long run an
anuric patient's dialysis removes what the gut absorbs, so the phosphate removed per session does
not depend on any kinetic parameter (the tissue mobilization clearance changes it by about 1 %)
nor much on the prescription (the removal cohort's against the reference: 0.3 %), while the
pre-dialysis phosphate at which it is removed does; the pre-dialysis Mg is set mostly by how much
Mg is absorbed against how fast the dialyzer can take it out. Everything intradialytic —
post-dialysis values, rebound, the post-on-pre slope, the response to other dialysate levels —
is predicted (docs/dialysis.md#calibration).
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
PHOSPHATE_CLAIM = "L-hd-phosphate-removal-per-session"
MG_ABSORPTION = "hemodialysis_mg_absorption_factor"
PHOSPHATE_UNBOUND = "hemodialysis_phosphate_unbound_fraction"

_LAST: dict[object, PeriodicSteadyState] = {}
"""The previous evaluation's periodic steady state, by model and prescriptions: the start of the
next one (the fit's evaluations lie close together, so one or two Newton iterations suffice)."""


def removal_cohort_prescription() -> Prescription:
    """The prescription of the cohort whose phosphate removal per session is the target
    (Wang et al. 2012: 4-h sessions, blood flow 180–300 mL/min; registry
    ``wang_2012_blood_flow_ml_min``)."""
    return Prescription(blood_flow_ml_min=reference("wang_2012_blood_flow_ml_min", "mL/min"))


def target_prescriptions() -> dict[str, Prescription]:
    """Each target's prescription: that of the cohort it was measured in."""
    return {MG_CLAIM: Prescription(), PHOSPHATE_CLAIM: removal_cohort_prescription()}


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
    """[pre-dialysis total Mg at the sampling session (mmol/L), mean phosphate removed per
    session (mmol)] at the periodic steady state of the reference hemodialysis patient, each on
    its target's prescription (`target_sessions`)."""
    frame = target_sessions(values, prescriptions)
    session = int(reference("predialysis_sampling_session", "1"))
    mg_rows = frame[(frame["claim"] == MG_CLAIM) & (frame["session"] == session)]
    removal = frame.loc[frame["claim"] == PHOSPHATE_CLAIM, "pi_removed_mmol"]
    return [float(mg_rows["mg_total_pre_mmol_l"].iloc[0]), float(np.mean(removal))]


@problem("dialysis", after=("physiology", "chemistry"))
def dialysis() -> Problem:
    """Mg absorption and unbound dietary phosphate of the reference hemodialysis patient, on
    cohort pre-dialysis Mg and phosphate removal per session."""
    return Problem(
        name="dialysis",
        description="reference hemodialysis patient's Mg absorption and unbound dietary "
        "phosphate, on pre-dialysis Mg (dialysate 0.5 mmol/L) and phosphate removed per session",
        # fixed starts near the optimum: each evaluation is a periodic steady state of the
        # whole-body model
        free=(
            Free(MG_ABSORPTION, lower=0.05, upper=1.5, start=0.9),
            Free(PHOSPHATE_UNBOUND, lower=0.05, upper=1.0, start=0.45),
        ),
        targets=(Target(MG_CLAIM), Target(PHOSPHATE_CLAIM)),
        model=model,
    )
