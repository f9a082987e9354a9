"""The dialysis calibration: how much of its measured Mg and phosphate intake the reference
hemodialysis patient takes up.

Free: the reference hemodialysis patient's fractional Mg absorption relative to the healthy curve
and the fraction of dietary phosphate that reaches the gut unbound (binders, bioavailability).
Their intakes are measured (registry), the dialyzer, the dialyzable fractions and the tissue
exchange of Mg and phosphate come from measurements. Targets: the steady pre-dialysis serum Mg of
hemodialysis cohorts on 0.5 mmol/L dialysate (``L-hd-cohorts-predialysis-mg``) and the phosphate
a 4-h session removes (``L-hd-phosphate-removal-per-session``), both read from the periodic steady
state of the whole-body model with dialysis (anuric, 3 × 4 h a week).

Why the gut and not a kinetic parameter: both targets are balance quantities. In the long run an
anuric patient's dialysis removes what the gut absorbs, so the phosphate removed per session does
not depend on any kinetic parameter (the tissue mobilization clearance changes it by about 1 %), and
the pre-dialysis Mg is set mostly by how much Mg is absorbed against how fast the dialyzer can
take it out. Everything intradialytic — post-dialysis values, rebound, the post-on-pre slope, the
response to other dialysate levels — is predicted (docs/dialysis.md#calibration).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from mgckd.calibrate._problem import Free, Problem, Target, problem
from mgckd.dialysis import (
    DialysisPatients,
    PeriodicSteadyState,
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
"""The previous evaluation's periodic steady state, by model: the start of the next one (the
fit's evaluations lie close together, so one or two Newton iterations suffice)."""


def model(values: Mapping[str, float]) -> Sequence[float]:
    """[pre-dialysis total Mg at the sampling session (mmol/L), mean phosphate removed per
    session (mmol)] at the periodic steady state of the reference hemodialysis patient."""
    base = reference_model()
    hd = hemodialysis(
        base,
        patients=DialysisPatients(
            mg_absorption_factor=values[MG_ABSORPTION],
            phosphate_unbound_fraction=values[PHOSPHATE_UNBOUND],
        ),
    )
    steady = periodic_steady_state(hd, guess=_LAST.get(base))
    _LAST[base] = steady
    week = simulate_dialysis(hd, duration_h=hd.schedule.period_h, initial=steady.states)
    frame = week.sessions_frame(chemistry=False)
    session = int(reference("predialysis_sampling_session", "1"))
    mg = float(frame.loc[frame["session"] == session, "mg_total_pre_mmol_l"].iloc[0])
    return [mg, float(np.mean(frame["pi_removed_mmol"]))]


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
