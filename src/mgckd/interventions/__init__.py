"""Interventions: drugs and supplements as schedules of events for the physiology model.

>>> from mgckd.interventions import Intervention
>>> round(Intervention(drug="magnesium_oxide", dose_mg=330).mg_per_dose_mmol(), 2)
8.19
"""

from mgckd.interventions._catalogue import (
    BINDERS,
    MG_SALTS,
    PARAMETER_EFFECTS,
    RENAL_EFFECTS,
    SALT_CONTENT,
    Drug,
    Intervention,
    intervention_schedule,
)

__all__ = [
    "BINDERS",
    "MG_SALTS",
    "PARAMETER_EFFECTS",
    "RENAL_EFFECTS",
    "SALT_CONTENT",
    "Drug",
    "Intervention",
    "intervention_schedule",
]
