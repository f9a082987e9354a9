"""The peer: Peterson & Riggs 2010 (BioModels BIOMD0000000613, CC0) in libroadrunner.

The packaged SBML (``data/BIOMD0000000613.xml``, public domain under CC0 1.0, see
``data/BIOMD0000000613.NOTICE.txt``) is the BioModels file as published. Two changes are made in
memory before a run, and nothing else:

- its one event, a teriparatide dosing regimen switched on by default, is removed (a clean
  untreated baseline);
- ``GFR`` (L/h, a constant with an initial assignment 100/16.667) becomes an assignment rule
  following a `GfrCourse`, the only way the model represents CKD.

Outputs are converted from the model's amounts in its 14 L extracellular volume (``V1``) to
concentrations: total Ca and phosphate in mmol/L, PTH and calcitriol in pmol/L.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from mgckd._pint import quantity
from mgckd.exceptions import MgckdError
from mgckd.model import TIME, sym
from mgckd.model._roadrunner import load_roadrunner, run_roadrunner
from mgckd.model._sbml import libsbml, math_ast
from mgckd.physiology._ckd import GfrCourse, gfr_expression

FloatArray = NDArray[np.float64]

SBML_FILE = "BIOMD0000000613.xml"
PEER_NAME = "Peterson & Riggs 2010 (BIOMD0000000613)"
_GFR = "GFR"
_VOLUME = "V1"
_SPECIES = {"calcium": "P", "phosphate": "ECCPhos", "pth": "PTH", "calcitriol": "B"}
_GLAND = "PTmax"
_COURSE_PARAMETERS = ("gfr_course_start_l_h", "gfr_course_floor_l_h", "gfr_course_rate_per_h")


def peterson_riggs_source() -> str:
    """The packaged SBML text as published on BioModels."""
    return resources.files("mgckd.physiology").joinpath("data", SBML_FILE).read_text("utf-8")


def peterson_riggs_sbml(course: GfrCourse) -> str:
    """The peer's SBML, its teriparatide event removed and its GFR following `course`."""
    sbml = libsbml()
    document = sbml.readSBMLFromString(peterson_riggs_source())
    model = document.getModel()
    while model.getNumEvents():
        model.removeEvent(0)
    if model.removeInitialAssignment(_GFR) is None:
        raise MgckdError(f"{PEER_NAME}: no initial assignment of {_GFR}; not the expected file")
    model.getParameter(_GFR).setConstant(False)
    values = (
        quantity(course.start_ml_min, "mL/min").to("L/h").magnitude,
        quantity(course.floor_ml_min, "mL/min").to("L/h").magnitude,
        course.rate_per_h(),
    )
    for name, value in zip(_COURSE_PARAMETERS, values, strict=True):
        parameter = model.createParameter()
        parameter.setId(name)
        parameter.setValue(float(value))
        parameter.setConstant(True)
    start, floor, rate = (sym(n) for n in _COURSE_PARAMETERS)
    rule = model.createAssignmentRule()
    rule.setVariable(_GFR)
    rule.setMath(math_ast(gfr_expression(start, floor, rate, TIME)))
    text: str = sbml.writeSBMLToString(document)
    return text


@dataclass(frozen=True, eq=False)
class PeerTrajectory:
    """The peer's course, one value per time.

    Attributes
    ----------
    time_h : hours.
    gfr_ml_min : GFR, mL/min.
    calcium_total_mmol_l, phosphate_mmol_l : extracellular total Ca and phosphate, mmol/L.
    pth_pmol_l, calcitriol_pmol_l : plasma PTH and calcitriol, pmol/L.
    gland_capacity : the parathyroid maximal capacity ``PTmax`` (1 at baseline; the published
        file keeps it there, see docs/physiology.md#the-peer).
    """

    time_h: FloatArray
    gfr_ml_min: FloatArray
    calcium_total_mmol_l: FloatArray
    phosphate_mmol_l: FloatArray
    pth_pmol_l: FloatArray
    calcitriol_pmol_l: FloatArray
    gland_capacity: FloatArray

    def to_frame(self) -> pd.DataFrame:
        """One row per time, one column per quantity."""
        return pd.DataFrame({name: getattr(self, name) for name in self.__dataclass_fields__})


def run_peterson_riggs(course: GfrCourse, times_h: ArrayLike) -> PeerTrajectory:
    """Run the peer from its published baseline under `course`, saving at `times_h` (hours,
    increasing, the first 0)."""
    times = np.asarray(times_h, dtype=np.float64)
    runner = load_roadrunner(peterson_riggs_sbml(course), rtol=1e-8, atol=1e-10)
    volume = float(runner[_VOLUME])
    out = run_roadrunner(runner, times, [*_SPECIES.values(), _GLAND, _GFR])
    per_litre = {key: out[name] / volume for key, name in _SPECIES.items()}
    return PeerTrajectory(
        time_h=out["time"],
        gfr_ml_min=quantity(out[_GFR], "L/h").to("mL/min").magnitude,
        calcium_total_mmol_l=per_litre["calcium"],
        phosphate_mmol_l=per_litre["phosphate"],
        pth_pmol_l=per_litre["pth"],
        calcitriol_pmol_l=per_litre["calcitriol"],
        gland_capacity=out[_GLAND],
    )
