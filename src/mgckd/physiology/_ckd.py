"""The CKD course: GFR over time, an exponential approach from a starting GFR to a floor
(the form of Riggs et al. 2012), as a sympy expression for the model and as numbers."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy
from numpy.typing import ArrayLike, NDArray

from mgckd._pint import quantity
from mgckd.exceptions import ScenarioError
from mgckd.params import parameters

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class GfrCourse:
    """GFR(t) = floor + (start − floor)·exp(−rate·t).

    Attributes
    ----------
    start_ml_min : GFR at time 0, mL/min.
    floor_ml_min : the GFR it approaches, mL/min.
    rate_per_year : the exponential rate of the approach, 1/year (0: constant GFR).

    >>> course = GfrCourse.riggs_2012()
    >>> round(float(course.gfr_ml_min(120 * 730.5)), 1)  # month 120
    16.0
    """

    start_ml_min: float
    floor_ml_min: float
    rate_per_year: float

    def __post_init__(self) -> None:
        for name in ("start_ml_min", "floor_ml_min", "rate_per_year"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ScenarioError(
                    f"gfr_course.{name}: must be a finite number ≥ 0, not {value!r}"
                )
        if self.floor_ml_min > self.start_ml_min:
            raise ScenarioError(
                f"gfr_course.floor_ml_min: {self.floor_ml_min} mL/min is above the start "
                f"{self.start_ml_min} mL/min (a course declines)"
            )

    @classmethod
    def riggs_2012(cls) -> GfrCourse:
        """The published CKD course: 100 → 10 mL/min at 0.27 per year."""
        registry = parameters()
        return cls(
            start_ml_min=registry["ckd_course_gfr_start_ml_min"].to("mL/min"),
            floor_ml_min=registry["ckd_course_gfr_floor_ml_min"].to("mL/min"),
            rate_per_year=registry["ckd_course_gfr_rate_per_year"].to("1/year"),
        )

    @classmethod
    def constant(cls, gfr_ml_min: float) -> GfrCourse:
        """A GFR that does not change."""
        return cls(gfr_ml_min, gfr_ml_min, 0.0)

    def rate_per_h(self) -> float:
        """The rate in 1/h (a year of 365.25 days)."""
        return float(quantity(self.rate_per_year, "1/year").to("1/h").magnitude)

    def gfr_ml_min(self, time_h: ArrayLike) -> FloatArray:
        """GFR at `time_h` (hours), mL/min."""
        t = np.asarray(time_h, dtype=np.float64)
        decay = np.exp(-self.rate_per_h() * t)
        out: FloatArray = self.floor_ml_min + (self.start_ml_min - self.floor_ml_min) * decay
        return out


def gfr_expression(
    start: sympy.Expr, floor: sympy.Expr, rate_per_h: sympy.Expr, time: sympy.Expr
) -> sympy.Expr:
    """The course as a sympy expression (in the unit of `start` and `floor`)."""
    return floor + (start - floor) * sympy.exp(-rate_per_h * time)
