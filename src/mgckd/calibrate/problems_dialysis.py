"""The dialysis calibration: how much Mg and phosphate the reference hemodialysis patient eats.

Free: the dietary Mg and phosphate intake of the reference hemodialysis patient (anuric, on the
reference prescription: 3 × 4 h a week, dialysate Mg 0.5 mmol/L). Targets: the steady
pre-dialysis serum Mg of hemodialysis cohorts on 0.5 mmol/L dialysate
(``L-hd-cohorts-predialysis-mg``) and the phosphate a 4-h session removes
(``L-hd-phosphate-removal-per-session``), both read from the periodic steady state of the
whole-body model with dialysis. Everything intradialytic — post-dialysis values, rebound, the
mass moved by each session, the response to other dialysate levels — is predicted
(docs/dialysis.md#calibration).
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
MG_DIET = "hemodialysis_reference_diet_mg_mmol_d"
PHOSPHATE_DIET = "hemodialysis_reference_diet_phosphate_mmol_d"

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
            diet_mg_mmol_d=values[MG_DIET], diet_phosphate_mmol_d=values[PHOSPHATE_DIET]
        ),
    )
    steady = periodic_steady_state(hd, guess=_LAST.get(base))
    _LAST[base] = steady
    week = simulate_dialysis(hd, duration_h=hd.schedule.period_h, initial=steady.states)
    frame = week.sessions_frame(chemistry=False)
    session = int(reference("predialysis_sampling_session", "1"))
    mg = float(frame.loc[frame["session"] == session, "mg_total_pre_mmol_l"].iloc[0])
    return [mg, float(np.mean(frame["pi_removed_mmol"]))]


@problem("dialysis")
def dialysis() -> Problem:
    """Dietary Mg and phosphate of the reference hemodialysis patient, on cohort pre-dialysis Mg
    and phosphate removal per session."""
    return Problem(
        name="dialysis",
        description="reference hemodialysis patient's Mg and phosphate intake, on pre-dialysis "
        "Mg (dialysate 0.5 mmol/L) and phosphate removed per session",
        # fixed starts near the optimum: each evaluation is a periodic steady state of the
        # whole-body model (seconds), and a far start (8 and 30 mmol/d) doubles the evaluations
        # for the same result (to 1e-9 mmol/d)
        free=(
            Free(MG_DIET, lower=1.0, upper=40.0, start=24.0),
            Free(PHOSPHATE_DIET, lower=5.0, upper=120.0, start=15.0),
        ),
        targets=(Target(MG_CLAIM), Target(PHOSPHATE_CLAIM)),
        model=model,
    )
