"""Hemodialysis: sessions, the dialyzer and the interdialytic interval in the one model definition.

`with_dialysis(model)` adds the dialyzer to any model with an extracellular Mg (Ca, phosphate)
species; a `Prescription` (dialysate, flows, modality, `Schedule`) and `DialysisPatients` make a
`Hemodialysis` batch (`hemodialysis`), whose long-run cycle `periodic_steady_state` finds and
`simulate_dialysis` runs session by session; `dialysate_trial_arms` simulates the dialysate-Mg
trial's arms (S0-16). See docs/dialysis.md.

>>> from mgckd.dialysis import Prescription
>>> Prescription(dialysate_mg_mmol_l=0.75).schedule.starts_h
(0.0, 48.0, 96.0)
"""

from mgckd.dialysis._model import (
    ELEMENTS,
    DialyzedElement,
    dialyzable_fractions,
    dialyzed_elements,
    dialyzer_koa_l_h,
    koa_from_clearance,
    michaels_clearance,
    with_dialysis,
)
from mgckd.dialysis._patients import DialysisPatients, Hemodialysis, hemodialysis
from mgckd.dialysis._periodic import Match, PeriodicSteadyState, periodic_steady_state
from mgckd.dialysis._prescription import WEEKDAYS, Prescription, Schedule
from mgckd.dialysis._run import DialysisResult, dialysis_scenario, simulate_dialysis
from mgckd.dialysis._sessions import Session, session_windows, sessions
from mgckd.dialysis._trial import TrialArms, dialysate_trial_arms

__all__ = [
    "ELEMENTS",
    "WEEKDAYS",
    "DialysisPatients",
    "DialysisResult",
    "DialyzedElement",
    "Hemodialysis",
    "Match",
    "PeriodicSteadyState",
    "Prescription",
    "Schedule",
    "Session",
    "TrialArms",
    "dialysate_trial_arms",
    "dialysis_scenario",
    "dialyzable_fractions",
    "dialyzed_elements",
    "dialyzer_koa_l_h",
    "hemodialysis",
    "koa_from_clearance",
    "michaels_clearance",
    "periodic_steady_state",
    "session_windows",
    "sessions",
    "simulate_dialysis",
    "with_dialysis",
]
