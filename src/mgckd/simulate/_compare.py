"""Side by side: the whole-body model and the Peterson & Riggs 2010 peer under one CKD course."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from mgckd._pint import quantity
from mgckd.physiology import GfrCourse, magnesium_model, run_peterson_riggs
from mgckd.simulate._scenario import Scenario
from mgckd.simulate._simulate import simulate

PEER_COLUMNS = ("calcium_total_mmol_l", "phosphate_mmol_l", "pth_pmol_l", "calcitriol_pmol_l")
OURS_COLUMNS = ("plasma_mg_total_mmol_l", "fe_mg_percent", "urine_mg_mmol_d")


def side_by_side(course: GfrCourse, times_h: ArrayLike) -> pd.DataFrame:
    """One row per time: GFR, the peer's Ca, phosphate, PTH and calcitriol (prefixed
    ``peer_``) and the whole-body model's outputs under the same course (prefixed ``mgckd_``).

    The whole-body model has no Ca, phosphate or PTH yet (issue 5, pending): its columns are the
    Mg ones; the Ca/phosphate/PTH comparison waits for those modules.
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
    ours = simulate(magnesium_model(), scenario, save_at=times)
    frame = pd.DataFrame({"time_h": times, "gfr_ml_min": course.gfr_ml_min(times)})
    for column in PEER_COLUMNS:
        frame[f"peer_{column}"] = getattr(peer, column)
    for column in OURS_COLUMNS:
        frame[f"mgckd_{column}"] = ours.rule(column)[:, 0]
    return frame
