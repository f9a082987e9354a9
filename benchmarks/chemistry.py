"""Speciation benchmarks: 10⁶ plasma compositions with mgckd, and PHREEQC on the same ones.

Run with ``make bench`` (all benchmarks) or ``.venv/bin/python benchmarks/chemistry.py``. The
compositions are `mgckd.chemistry.random_plasma` draws (seed 2024). The peer comparison runs both
codes with the same constants (mgckd's ``phreeqc`` set, albumin off) on the first
`PEER_SAMPLES` compositions in one PHREEQC run (its fastest use: one input, many SOLUTIONs), and
reports samples per second and their agreement; mgckd's 10⁶-sample throughput is set against it.
"""

from __future__ import annotations

import importlib.util
import platform

import numpy as np
from timing import best_of  # benchmarks/timing.py, beside this file

from mgckd.chemistry import PlasmaComposition, random_plasma, speciate

N_SAMPLES = 1_000_000
PEER_SAMPLES = 2_000
REPEATS = 3
SEED = 2024


def _first(composition: PlasmaComposition, n: int) -> PlasmaComposition:
    return composition.take(np.arange(n))


def speciation() -> list[tuple[str, float, str]]:
    """10⁶ compositions through `speciate`, with and without the protein terms."""
    rng = np.random.default_rng(SEED)
    plasma = random_plasma(N_SAMPLES, rng=rng)
    bare = random_plasma(N_SAMPLES, rng=np.random.default_rng(SEED), albumin=False)
    rows = []
    for label, comp, constants in (
        ("plasma set (albumin, uremic anions)", plasma, "plasma"),
        ("phreeqc set (albumin off)", bare, "phreeqc"),
    ):
        result = speciate(comp, constants=constants)
        assert result.converged.all()
        seconds = best_of(
            lambda comp=comp, constants=constants: speciate(comp, constants=constants), REPEATS
        )
        rows.append(
            (
                f"speciate 1e6 compositions, {label}",
                seconds,
                f"{N_SAMPLES / seconds:.3g} samples/s; max {result.iterations.max()} iterations",
            )
        )
    return rows


def peer() -> list[tuple[str, float, str]]:
    """PHREEQC (phreeqpython) and mgckd on the same compositions, same constants."""
    if importlib.util.find_spec("phreeqpython") is None:
        return [("phreeqpython not installed (pip install -e '.[peers]'): peer skipped", 0.0, "")]
    from mgckd.chemistry._phreeqc import Phreeqc, phreeqc_speciate, solutions  # noqa: PLC0415

    bare = random_plasma(N_SAMPLES, rng=np.random.default_rng(SEED), albumin=False)
    subset = _first(bare, PEER_SAMPLES)
    engine = Phreeqc()
    text = solutions(subset)
    peer_seconds = best_of(lambda: engine.run(text), REPEATS)
    ours_small = best_of(lambda: speciate(subset, constants="phreeqc"), REPEATS)
    ours_large = best_of(lambda: speciate(bare, constants="phreeqc"), REPEATS)
    theirs = phreeqc_speciate(subset)
    mine = speciate(subset, constants="phreeqc").to_frame()
    ca = np.max(np.abs(mine["ca_ionized_mmol_l"] / theirs["ca_ionized_mmol_l"] - 1))
    mg = np.max(np.abs(mine["mg_ionized_mmol_l"] / theirs["mg_ionized_mmol_l"] - 1))
    hap = np.max(np.abs(mine["si_hydroxyapatite"] - theirs["si_hydroxyapatite"]))
    peer_rate = PEER_SAMPLES / peer_seconds
    return [
        (
            f"PHREEQC (phreeqpython) {PEER_SAMPLES} compositions, one run",
            peer_seconds,
            f"{peer_rate:.3g} samples/s",
        ),
        (
            f"mgckd, the same {PEER_SAMPLES} compositions",
            ours_small,
            f"{PEER_SAMPLES / ours_small:.3g} samples/s ({peer_seconds / ours_small:.0f}x PHREEQC)",
        ),
        (
            "mgckd, 1e6 compositions (same draw, phreeqc set)",
            ours_large,
            f"{N_SAMPLES / ours_large:.3g} samples/s "
            f"({N_SAMPLES / ours_large / peer_rate:.0f}x PHREEQC's throughput)",
        ),
        (
            "agreement on the peer compositions",
            0.0,
            f"max |rel. diff| free Ca {ca:.1e}, free Mg {mg:.1e}; max |diff| HAP SI {hap:.1e}",
        ),
    ]


def main() -> None:
    """Run the chemistry benchmarks and print a table."""
    print(f"machine: {platform.machine()}, Python {platform.python_version()}")
    for name, seconds, rate in speciation() + peer():
        print(f"{name:55s} {seconds:8.3f} s   {rate}")


if __name__ == "__main__":
    main()
