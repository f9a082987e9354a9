"""The result of a CAC simulation: the score and both pathways' drive over a plasma course."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mgckd._pint import quantity
from mgckd.calcification._course import PlasmaCourse
from mgckd.calcification._params import CalcificationParameters

if TYPE_CHECKING:
    from matplotlib.axes import Axes

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Pathways:
    """Which pathways run, and whether Mg acts on each.

    Attributes
    ----------
    passive : the CPP2 pathway (calcium phosphate deposited from maturing CPP, including
        CPP2-induced VSMC calcification, which Mg does not prevent once CPP2 exist).
    active : the VSMC pathway (phosphate-induced osteogenic conversion, slowed by Mg via TRPM7).
    mg_passive : False removes Mg's effect on the passive pathway: CPP2 formation is evaluated
        with the total Mg of a reference course (the control), everything else the patient's.
    mg_active : False removes Mg's effect on the active pathway: the VSMC see the ionized Mg of
        the reference course.
    """

    passive: bool = True
    active: bool = True
    mg_passive: bool = True
    mg_active: bool = True

    @property
    def needs_reference(self) -> bool:
        """True when a reference course must supply the Mg."""
        return not (self.mg_passive and self.mg_active)


@dataclass(frozen=True, eq=False)
class CACResult:
    """Agatston score and drive of N patients over a plasma course.

    Attributes
    ----------
    course : the plasma course (times, patients).
    baseline_agatston : the score at the first time, (N,).
    agatston : the score at every time, (T, N).
    relative_cpp2_formation : CPP2 formation relative to normal plasma the passive pathway saw.
    vsmc_activity : osteogenic VSMC conversion relative to normal plasma the active pathway saw.
    passive_drive, active_drive : each pathway's part of the drive D (0 when switched off).
    params : the constants used; pathways : the switches.
    """

    course: PlasmaCourse
    baseline_agatston: FloatArray
    agatston: FloatArray
    relative_cpp2_formation: FloatArray
    vsmc_activity: FloatArray
    passive_drive: FloatArray
    active_drive: FloatArray
    params: CalcificationParameters
    pathways: Pathways

    @property
    def time_h(self) -> FloatArray:
        """The times, hours, (T,)."""
        return self.course.time_h

    @property
    def drive(self) -> FloatArray:
        """The drive D = passive + active, (T, N); 1 at the reference normal plasma."""
        total: FloatArray = self.passive_drive + self.active_drive
        return total

    @property
    def final_agatston(self) -> FloatArray:
        """The score at the last time, (N,)."""
        last: FloatArray = self.agatston[-1]
        return last

    @property
    def percent_change(self) -> FloatArray:
        """100 × (final / baseline − 1), (N,); NaN for a baseline of 0 (undefined)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            change = 100.0 * (self.final_agatston / self.baseline_agatston - 1.0)
        result: FloatArray = np.where(self.baseline_agatston > 0, change, np.nan)
        return result

    @property
    def sqrt_change_per_year(self) -> FloatArray:
        """(√final − √baseline) per year, (N,): the square-root measure of CAC progression."""
        years = quantity(self.time_h[-1] - self.time_h[0], "h").to("year").magnitude
        result: FloatArray = (
            np.sqrt(self.final_agatston) - np.sqrt(self.baseline_agatston)
        ) / years
        return result

    def to_frame(self) -> pd.DataFrame:
        """One row per (patient, time): score, drive and what each pathway saw."""
        n, t = self.course.n_patients, self.course.n_times
        return pd.DataFrame(
            {
                "patient_id": np.tile(np.array(self.course.patient_ids, dtype=object), t),
                "time_h": np.repeat(self.time_h, n),
                "agatston": self.agatston.ravel(),
                "drive": self.drive.ravel(),
                "passive_drive": self.passive_drive.ravel(),
                "active_drive": self.active_drive.ravel(),
                "relative_cpp2_formation": self.relative_cpp2_formation.ravel(),
                "vsmc_activity": self.vsmc_activity.ravel(),
            }
        )

    def summary(self) -> pd.DataFrame:
        """One row per patient: baseline and final score, change, % change, √ change per year,
        the time-averaged drive and the passive pathway's share of it."""
        weights = np.diff(self.time_h)[:, None]

        def mean(values: FloatArray) -> FloatArray:
            middle = 0.5 * (values[1:] + values[:-1])
            averaged: FloatArray = (middle * weights).sum(axis=0) / weights.sum()
            return averaged

        drive = mean(self.drive)
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(drive > 0, mean(self.passive_drive) / drive, np.nan)
        return pd.DataFrame(
            {
                "patient_id": list(self.course.patient_ids),
                "baseline_agatston": self.baseline_agatston,
                "final_agatston": self.final_agatston,
                "change_agatston": self.final_agatston - self.baseline_agatston,
                "percent_change": self.percent_change,
                "sqrt_change_per_year": self.sqrt_change_per_year,
                "mean_drive": drive,
                "passive_share_of_drive": share,
            }
        )


def plot_cac(result: CACResult, labels: list[str] | None = None, ax: Axes | None = None) -> Axes:
    """The Agatston score of each patient over the course (years); returns the axes."""
    if ax is None:
        from matplotlib.figure import Figure  # noqa: PLC0415  (plotting is optional)

        ax = Figure(figsize=(6.4, 4.0)).add_subplot()
    years = quantity(result.time_h, "h").to("year").magnitude
    for i, name in enumerate(labels or list(result.course.patient_ids)):
        ax.plot(years, result.agatston[:, i], label=name)
    ax.set_xlabel("time (years)")
    ax.set_ylabel("coronary calcium (Agatston)")
    ax.legend(loc="upper left", fontsize=8)
    return ax
