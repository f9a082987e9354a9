"""The calcification calibration: the CAC progression rate and the drive threshold, on S0-10.

Free: k, the rate of the transformed score per unit of drive above the threshold, and D0, the
drive at which deposition and removal balance. Targets: the median % change of the Agatston
score over 2 years in the MgO and control arms of S0-10 (`sakaguchi_2019_arms`: typical
patients built from the seed's serum Mg and documented assumptions). Two numbers, two
constants: the fit is exact. Everything else the calcification model says is predicted
(docs/calcification.md#calibration).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from mgckd.calcification import CalcificationParameters, sakaguchi_2019_arms, simulate_cac
from mgckd.calibrate._problem import Free, Problem, Target, problem

MGO = "median % change in CAC score over 2 years, MgO"
CONTROL = "median % change in CAC score over 2 years, control"


def model(values: Mapping[str, float]) -> Sequence[float]:
    """[% change of the MgO arm, % change of the control arm] over the trial."""
    arms = sakaguchi_2019_arms()
    params = CalcificationParameters.from_registry(values)
    return [
        float(
            simulate_cac(
                course, baseline_agatston=arms.baseline_agatston, params=params
            ).percent_change[0]
        )
        for course in (arms.treated, arms.control)
    ]


@problem("calcification", after=("cpp",))
def calcification() -> Problem:
    """CAC progression rate and drive threshold, on the two arms of the MgO trial."""
    return Problem(
        name="calcification",
        description="CAC progression rate and drive threshold, on the MgO-CAC trial (S0-10)",
        free=(
            Free("cac_progression_rate", lower=0.01, upper=1000.0, start=5.0),
            Free("cac_drive_threshold", lower=0.0, upper=2.0, start=0.5),
        ),
        targets=(Target("S0-10", MGO), Target("S0-10", CONTROL)),
        model=model,
    )
