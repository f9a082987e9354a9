"""The dialysate-Mg trial (S0-16, Bressendorff et al. 2018) in the dialysis model: the
pre-dialysis plasma of its two arms at follow-up.

The reference hemodialysis patient starts from the long run of the standard dialysate Mg (1.0
mEq/L, 0.5 mmol/L); one arm stays on it, the other is dialysed against 2.0 mEq/L; at the first
session on or after the trial's last day, each arm's pre-dialysis plasma is the reference
hemodialysis plasma with the simulated totals of Mg, Ca and phosphate. The T50 path (the CPP
calibration and the S0-16 check) reads its arms here, so the between-arm serum Mg gap is
predicted, never assumed.

>>> arms = dialysate_trial_arms()
>>> bool(arms.plasma.magnesium_mmol_l[1] > arms.plasma.magnesium_mmol_l[0])
True
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
from numpy.typing import NDArray

from mgckd.chemistry import PlasmaComposition, reference_plasma
from mgckd.dialysis._chemistry import with_totals
from mgckd.dialysis._model import dialyzed_elements
from mgckd.dialysis._patients import hemodialysis
from mgckd.dialysis._periodic import periodic_steady_state
from mgckd.dialysis._prescription import Prescription
from mgckd.dialysis._reference import reference_model
from mgckd.dialysis._run import simulate_dialysis
from mgckd.params import parameters

FloatArray = NDArray[np.float64]

_TIME_MATCH_H = 1e-9
"""Session starts within this of the trial's end count as on it (round-off of hours)."""


@dataclass(frozen=True, eq=False)
class TrialArms:
    """The two arms of the dialysate-Mg trial at follow-up.

    Attributes
    ----------
    dialysate_mg_mmol_l : each arm's dialysate Mg, (2,): standard, high.
    plasma : each arm's pre-dialysis plasma (two samples, same order).
    """

    dialysate_mg_mmol_l: FloatArray
    plasma: PlasmaComposition


@cache
def dialysate_trial_arms() -> TrialArms:
    """The arms of Bressendorff 2018 (dialysate Mg and trial length from the registry,
    ``bressendorff_2018_dialysate_mg_mmol_l``, ``bressendorff_2018_trial_days``) in the reference
    model (the whole-body model with dialysis), the reference hemodialysis patient in both."""
    registry = parameters()
    levels = registry["bressendorff_2018_dialysate_mg_mmol_l"].quantity.to("mmol/L").magnitude
    standard, high = (float(x) for x in levels)
    model = reference_model()
    start = periodic_steady_state(hemodialysis(model, Prescription(dialysate_mg_mmol_l=standard)))
    arms = hemodialysis(
        model, [Prescription(dialysate_mg_mmol_l=standard), Prescription(dialysate_mg_mmol_l=high)]
    )
    days = registry["bressendorff_2018_trial_days"].to("h")
    period = arms.schedule.period_h
    # through the first session of the week that follows the trial's end (its pre-dialysis
    # sample is the follow-up)
    duration = float(np.ceil(days / period) * period) + arms.schedule.duration_h
    run = simulate_dialysis(arms, duration_h=duration, initial=np.repeat(start.states, 2, axis=1))
    frame = run.sessions_frame(chemistry=False)
    follow_up = frame[frame["start_h"] >= days - _TIME_MATCH_H]
    first = follow_up[follow_up["session"] == follow_up["session"].min()].sort_values("patient")
    totals = {
        e.element: first[f"{e.short}_total_pre_mmol_l"].to_numpy(dtype=np.float64)
        for e in dialyzed_elements(model)
    }
    plasma = with_totals(reference_plasma("hemodialysis").take(np.zeros(2, dtype=np.intp)), totals)
    return TrialArms(dialysate_mg_mmol_l=np.array([standard, high]), plasma=plasma)
