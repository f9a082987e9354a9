"""Side by side: the whole-body model and the Peterson & Riggs 2010 peer under one CKD course."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from mgckd._pint import quantity
from mgckd.physiology import GfrCourse, run_peterson_riggs, whole_body_model
from mgckd.simulate._scenario import Scenario
from mgckd.simulate._simulate import simulate

PEER_COLUMNS = ("calcium_total_mmol_l", "phosphate_mmol_l", "pth_pmol_l", "calcitriol_pmol_l")
OURS_COLUMNS = (
    "plasma_ca_total_mmol_l",
    "plasma_pi_mmol_l",
    "plasma_pth_pmol_l",
    "plasma_calcitriol_pmol_l",
    "plasma_mg_total_mmol_l",
    "plasma_fgf23_relative",
)


def side_by_side(course: GfrCourse, times_h: ArrayLike) -> pd.DataFrame:
    """One row per time: GFR, the peer's Ca, phosphate, PTH and calcitriol (prefixed
    ``peer_``) and the whole-body model's outputs under the same course (prefixed ``mgckd_``).

    The first four columns of each side are the same quantities (docs/physiology.md#the-peer
    explains where and why they differ); Mg and FGF23 have no counterpart in the peer.
    """
    times = np.asarray(times_h, dtype=float)
    peer = run_peterson_riggs(course, times)
    to_l_h = quantity(1.0, "mL/min").to("L/h").magnitude
    scenario = Scenario(
        duration_h=float(times[-1]),
        parameters={
            "gfr_start_l_h": course.start_ml_min * to_l_h,
            "gfr_floor_l_h": course.floor_ml_min * to_l_h,
            "gfr_decline_per_h": course.rate_per_h(),
        },
    )
    ours = simulate(whole_body_model(), scenario, save_at=times)
    frame = pd.DataFrame({"time_h": times, "gfr_ml_min": course.gfr_ml_min(times)})
    for column in PEER_COLUMNS:
        frame[f"peer_{column}"] = getattr(peer, column)
    for column in OURS_COLUMNS:
        frame[f"mgckd_{column}"] = ours.rule(column)[:, 0]
    return frame
