"""The CPP calibration: nucleation and Mg inhibition of the CPP1 → CPP2 conversion.

Free: the nucleation rate constant at the reference supersaturation, the classical-nucleation
barrier, and the free Mg²⁺ that halves nucleation and growth. Targets: the T50 of the reference
normal, CKD and hemodialysis sera against the population means of PREVEND, CRIC and ISAR, and
the between-arm T50 difference of the dialysate-Mg trial (S0-16), whose arms are the pre-dialysis
plasma the dialysis model predicts after 28 days on each dialysate (`trial_arms`). Everything
else the CPP model says is predicted (docs/cpp.md#calibration).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from mgckd.calibrate._problem import Free, Problem, Target, problem
from mgckd.cpp import KineticParameters, Serum, reference_serum, simulate_t50
from mgckd.cpp._serum import concat_serum
from mgckd.dialysis import dialysate_trial_arms
from mgckd.dialysis._chemistry import hemodialysis_serum

POPULATIONS = (
    ("normal", "L-eelderink-2020-t50-general-population"),
    ("ckd", "L-bundy-2019-t50-ckd"),
    ("hemodialysis", "L-lorenz-2017-t50-hemodialysis"),
)
"""Reference serum → the calibration claim of its population's mean T50."""


def trial_arms() -> Serum:
    """The two arms of S0-16 at follow-up (dialysate Mg 1.0 and 2.0 mEq/L): the pre-dialysis
    plasma `mgckd.dialysis.dialysate_trial_arms` simulates, with the reference hemodialysis
    fetuin-A and pyrophosphate."""
    return hemodialysis_serum(dialysate_trial_arms().plasma)


def _samples() -> Serum:
    """normal, ckd, hemodialysis, then the trial's standard and high-Mg arms."""
    return concat_serum([*(reference_serum(name) for name, _ in POPULATIONS), trial_arms()])


def model(values: Mapping[str, float]) -> Sequence[float]:
    """[T50 normal, T50 CKD, T50 hemodialysis, T50 high-Mg arm − standard arm], min."""
    result = simulate_t50(_samples(), params=KineticParameters.from_registry(values))
    normal, ckd, hd, standard, high = (float(t) for t in result.t50_min)
    return [normal, ckd, hd, high - standard]


@problem("cpp", after=("chemistry", "dialysis"))
def cpp() -> Problem:
    """Nucleation rate and barrier of the crystalline phase, and Mg's half-inhibiting level."""
    return Problem(
        name="cpp",
        description="CPP1 -> CPP2 nucleation (rate, barrier) and Mg inhibition, on T50",
        free=(
            Free("cpp_nucleation_ln_rate_reference", lower=-40.0, upper=10.0, start=-16.0),
            Free("cpp_nucleation_barrier", lower=100.0, upper=30000.0, start=8000.0),
            Free("cpp_mg_half_inhibition", lower=0.01, upper=2.0, start=0.1),
        ),
        targets=(
            *(Target(claim_id) for _, claim_id in POPULATIONS),
            Target("S0-16"),
        ),
        model=model,
    )
