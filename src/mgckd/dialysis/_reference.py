"""The reference model and the reference hemodialysis patient of the dialysis layer's checks,
calibration and commands."""

from __future__ import annotations

from mgckd.dialysis._model import with_dialysis
from mgckd.model import Model
from mgckd.physiology import whole_body_model


def reference_model() -> Model:
    """The whole-body model (Mg, Ca, phosphate, hormones) with hemodialysis."""
    return with_dialysis(whole_body_model())
