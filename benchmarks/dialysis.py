"""Hemodialysis benchmarks: one patient-year of thrice-weekly dialysis (156 sessions) with the
native solver and with libroadrunner on the exported SBML (sessions as SBML events), in the same
run; the periodic steady state; a batch for throughput.

Run with ``make bench`` (all benchmarks) or ``.venv/bin/python benchmarks/dialysis.py``. The
patient is the reference hemodialysis patient (anuric, Mon/Wed/Fri 4 h, dialysate Mg 0.5 mmol/L)
starting from the long-run state. Timings are the best of `REPEATS`; models are compiled before
timing (their one-off cost is reported on its own line).
"""

from __future__ import annotations

import importlib.util
import platform
import time

import numpy as np
from timing import best_of  # benchmarks/timing.py, beside this file

from mgckd._pint import quantity
from mgckd.dialysis import (
    Prescription,
    dialysis_scenario,
    hemodialysis,
    periodic_steady_state,
    simulate_dialysis,
    with_dialysis,
)
from mgckd.model import Model, compile_model
from mgckd.physiology import magnesium_model, whole_body_model
from mgckd.simulate import export_sbml

REPEATS = 3
YEAR_H = float(quantity(1.0, "year").to("h").magnitude)
WEEK_H = 168.0
BATCH = 100


def _one_year(label: str, base: Model) -> list[tuple[str, float, str]]:
    start = time.perf_counter()
    compile_model(with_dialysis(base))
    rows = [(f"{label}: compile the model with dialysis (once)", time.perf_counter() - start, "")]
    hd = hemodialysis(base)
    steady = periodic_steady_state(hd)
    rows.append(
        (
            f"{label}: periodic steady state, 1 patient",
            best_of(lambda: periodic_steady_state(hd), 1),
            f"{steady.iterations} Newton iterations",
        )
    )
    duration = 52 * WEEK_H
    native = simulate_dialysis(hd, duration_h=duration, initial=steady.states)
    rows.append(
        (
            f"{label}: 1 patient-year (156 sessions), Rodas4",
            best_of(
                lambda: simulate_dialysis(hd, duration_h=duration, initial=steady.states), REPEATS
            ),
            f"{native.simulation.stats.accepted_steps} steps",
        )
    )
    if importlib.util.find_spec("roadrunner") is None:
        return [*rows, ("libroadrunner not installed: peer skipped", 0.0, "")]
    from mgckd.model._roadrunner import load_roadrunner, run_roadrunner  # noqa: PLC0415

    scenario, _ = dialysis_scenario(hd, duration_h=duration, initial=steady.states)
    sbml = export_sbml(hd.model, scenario)
    start = time.perf_counter()
    runner = load_roadrunner(sbml, rtol=1e-8, atol=1e-10)
    load_s = time.perf_counter() - start
    times = native.simulation.time_h
    names = [n for n in hd.model.species_names if n != "ecf_excess_water_l"]

    def run() -> dict[str, np.ndarray]:
        runner.resetAll()
        return run_roadrunner(runner, times, names)

    peer = run()
    worst = max(
        float(np.nanmax(np.abs(peer[n] / native.simulation.species(n)[:, 0] - 1))) for n in names
    )
    return [
        *rows,
        (f"{label}: libroadrunner, load the SBML ({sbml.count('<event ')} events)", load_s, ""),
        (
            f"{label}: 1 patient-year, libroadrunner (CVODE)",
            best_of(run, REPEATS),
            f"max relative difference to Rodas4 {worst:.1e} (at every session start and end)",
        ),
    ]


def batch() -> list[tuple[str, float, str]]:
    """`BATCH` Mg-model patients on dialysate 0.25-1.0 mmol/L for one year, one vectorized solve."""
    levels = np.linspace(0.25, 1.0, BATCH)
    hd = hemodialysis(magnesium_model(), [Prescription(dialysate_mg_mmol_l=x) for x in levels])
    steady = periodic_steady_state(hd)
    seconds = best_of(
        lambda: simulate_dialysis(hd, duration_h=52 * WEEK_H, initial=steady.states), 1
    )
    return [
        (
            f"Mg model: {BATCH} patients × 1 year, Rodas4",
            seconds,
            f"{BATCH / seconds:.3g} patient-years/s",
        )
    ]


def main() -> None:
    """Run every dialysis benchmark and print a table."""
    print(f"\nhemodialysis ({platform.machine()}, Python {platform.python_version()})")
    rows = _one_year("Mg model", magnesium_model())
    rows += _one_year("whole-body model", whole_body_model())
    rows += batch()
    for name, seconds, note in rows:
        print(f"{name:70s} {seconds * 1e3:10.1f} ms   {note}")


if __name__ == "__main__":
    main()
