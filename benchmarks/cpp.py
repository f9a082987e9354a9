"""In-silico T50 benchmarks: sera per second through the whole test, and the ODE beside SciPy.

Run with ``make bench`` (all benchmarks) or ``.venv/bin/python benchmarks/cpp.py``. The sera are
`mgckd.chemistry.random_plasma` draws (seed 2024) with the reference normal fetuin-A and
pyrophosphate. `simulate_t50` runs everything a sample needs (speciation of the well, the ODE,
the light-scattering signal, the curve analyzer); the peer comparison integrates the same ODE
with SciPy's ``solve_ivp`` (DOP853, the same tolerances), one sample at a time, and reports
samples per second and each solver's error in the half-conversion time against a tight-tolerance
solution (rtol 1e-11).
"""

from __future__ import annotations

import platform

import numpy as np
from scipy.integrate import solve_ivp
from timing import best_of  # benchmarks/timing.py, beside this file

from mgckd.chemistry import random_plasma, speciate
from mgckd.cpp import AssayProtocol, DormandPrince, KineticParameters, serum, simulate_t50
from mgckd.cpp._kinetics import (
    fluxes,
    initial_states,
    integrate,
    mineral_drive,
    stoichiometry,
    supersaturation_offsets,
)

N_SAMPLES = 2000
PEER_SAMPLES = 50
REPEATS = 3
SEED = 2024


def throughput() -> list[tuple[str, float, str]]:
    """`simulate_t50` on N random sera in one batch."""
    sample = serum(random_plasma(N_SAMPLES, rng=np.random.default_rng(SEED)))
    result = simulate_t50(sample, throw=False)
    seconds = best_of(lambda: simulate_t50(sample, throw=False), REPEATS)
    names, numbers = np.unique(result.status, return_counts=True)
    counts = ", ".join(f"{n} {s}" for s, n in zip(names.tolist(), numbers.tolist(), strict=True))
    return [
        (
            f"simulate_t50, {N_SAMPLES} random sera (speciation, ODE, analyzer)",
            seconds,
            f"{N_SAMPLES / seconds:.3g} samples/s; {counts}",
        )
    ]


def peer() -> list[tuple[str, float, str]]:
    """The ODE alone: mgckd's batch solver vs SciPy's DOP853 sample by sample."""
    protocol, params = AssayProtocol.from_registry(), KineticParameters.from_registry()
    sample = serum(random_plasma(PEER_SAMPLES, rng=np.random.default_rng(SEED)))
    phi = protocol.serum_volume_fraction
    drive = mineral_drive(
        speciate(protocol.well(sample.composition)),
        phi * sample.fetuin_a_g_l,
        phi * sample.pyrophosphate_umol_l,
        params,
    )
    times = np.concatenate([[0.0], protocol.read_times_min()])
    solver = DormandPrince()
    ours_seconds = best_of(lambda: integrate(drive, params, times, solver), REPEATS)
    ours = integrate(drive, params, times, solver).y
    matrix, offsets, y0 = stoichiometry(), supersaturation_offsets(drive), initial_states(drive)

    def scipy_all() -> list[np.ndarray]:
        out = []
        for i in range(PEER_SAMPLES):

            def rhs(_t: float, y: np.ndarray, i: int = i) -> np.ndarray:
                j = fluxes(y[:, None], offsets[:, [i]], drive.inhibition[[i]], params)
                return (matrix @ j)[:, 0]

            out.append(
                solve_ivp(
                    rhs,
                    (0.0, times[-1]),
                    y0[:, i],
                    method="DOP853",
                    t_eval=times,
                    rtol=solver.rtol,
                    atol=solver.atol,
                ).y
            )
        return out

    peer_seconds = best_of(scipy_all, 1)
    theirs = np.stack(scipy_all(), axis=1)
    tight = integrate(drive, params, times, DormandPrince(rtol=1e-11, atol=1e-15)).y
    reference = _half_conversion(tight, times)
    our_error = np.max(np.abs(_half_conversion(ours, times) - reference))
    their_error = np.max(np.abs(_half_conversion(theirs, times) - reference))
    return [
        (
            f"SciPy solve_ivp DOP853, {PEER_SAMPLES} sera one by one (ODE only)",
            peer_seconds,
            f"{PEER_SAMPLES / peer_seconds:.3g} samples/s; half-conversion time off by up to "
            f"{their_error:.2g} min",
        ),
        (
            f"mgckd DormandPrince, the same {PEER_SAMPLES} sera in one batch (ODE only)",
            ours_seconds,
            f"{PEER_SAMPLES / ours_seconds:.3g} samples/s "
            f"({peer_seconds / ours_seconds:.0f}x SciPy); half-conversion time off by up to "
            f"{our_error:.2g} min",
        ),
    ]


def _half_conversion(y: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Per sample, the time CPP2 reaches half the particle calcium (linear between reads)."""
    converted = y[3] / np.maximum(y[2] + y[3], np.finfo(float).tiny)
    return np.array([np.interp(0.5, row, times) for row in converted])


def main() -> None:
    """Run the CPP benchmarks and print a table."""
    print(f"machine: {platform.machine()}, Python {platform.python_version()}")
    for name, seconds, rate in throughput() + peer():
        print(f"{name:70s} {seconds:8.3f} s   {rate}")


if __name__ == "__main__":
    main()
