"""Whole-body physiology of Mg, Ca and phosphate in CKD with their hormones, declared once with
`mgckd.model`; the CKD course; the Peterson & Riggs 2010 peer. See docs/physiology.md.

>>> from mgckd.physiology import GfrCourse
>>> GfrCourse.constant(60.0).gfr_ml_min(1000.0).item()
60.0
"""

from mgckd.physiology._ckd import GfrCourse, gfr_expression
from mgckd.physiology._magnesium import MG_SALT_INPUTS, MODEL_NAME, magnesium_model
from mgckd.physiology._peterson import (
    PeerTrajectory,
    peterson_riggs_sbml,
    peterson_riggs_source,
    run_peterson_riggs,
)
from mgckd.physiology._whole_body import WHOLE_BODY_MODEL_NAME, whole_body_model

__all__ = [
    "MG_SALT_INPUTS",
    "MODEL_NAME",
    "WHOLE_BODY_MODEL_NAME",
    "GfrCourse",
    "PeerTrajectory",
    "gfr_expression",
    "magnesium_model",
    "peterson_riggs_sbml",
    "peterson_riggs_source",
    "run_peterson_riggs",
    "whole_body_model",
]
