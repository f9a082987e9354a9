"""Calcification benchmarks: CAC over a cohort's plasma course, and the decomposition of Mg's
effect, both vectorized over (patient, save time).

Run with ``make bench`` (all benchmarks) or ``cd benchmarks && ../.venv/bin/python
calcification.py``. Cohort: 1000 patients, 2 years saved weekly (105 times), plasma Mg and
phosphate spread over their CKD range (seed 2019), the rest the reference CKD plasma. No peer:
no other package computes CAC from plasma chemistry. Timings are the best of `REPEATS`.
"""

from __future__ import annotations

import platform

import numpy as np
from timing import best_of  # benchmarks/timing.py, beside this file

from mgckd._pint import quantity
from mgckd.calcification import decompose_mg_effect, plasma_course, simulate_cac

REPEATS = 3
SEED = 2019
N_PATIENTS = 1000
N_TIMES = 105
MG_RANGE_MMOL_L = (0.7, 1.1)
PHOSPHATE_RANGE_MMOL_L = (0.9, 2.0)
MG_RISE_MMOL_L = 0.13


def calcification() -> list[tuple[str, float, str]]:
    """`simulate_cac` and `decompose_mg_effect` on N patients x T weekly saves."""
    rng = np.random.default_rng(SEED)
    time_h = np.linspace(0.0, quantity(2.0, "year").to("h").magnitude, N_TIMES)
    mg = rng.uniform(*MG_RANGE_MMOL_L, (1, N_PATIENTS))
    phosphate = rng.uniform(*PHOSPHATE_RANGE_MMOL_L, (1, N_PATIENTS))
    control = plasma_course(time_h, {"magnesium_mmol_l": mg, "phosphate_mmol_l": phosphate})
    treated = control.with_values(magnesium_mmol_l=mg + MG_RISE_MMOL_L)
    rows = N_PATIENTS * N_TIMES
    single = best_of(lambda: simulate_cac(treated), REPEATS)
    split = best_of(lambda: decompose_mg_effect(treated, control), REPEATS)
    residual = np.abs(decompose_mg_effect(treated, control).residual).max()
    return [
        (
            f"simulate_cac, {N_PATIENTS} patients x {N_TIMES} times",
            single,
            f"{rows / single:.3g} patient-times/s",
        ),
        (
            f"decompose_mg_effect, same cohort (3 speciations), max |residual| {residual:.1e}",
            split,
            f"{rows / split:.3g} patient-times/s",
        ),
    ]


def main() -> None:
    """Print the calcification benchmarks."""
    print(f"calcification ({platform.machine()}, Python {platform.python_version()})")
    for name, seconds, rate in calcification():
        print(f"{name:75s} {seconds * 1e3:10.1f} ms   {rate}")


if __name__ == "__main__":
    main()
