"""Whole-body model (Mg, Ca, phosphate, hormones) benchmarks: one patient for 2 years, and
batches of patients, with the native solvers and with libroadrunner on the exported SBML, in
the same run.

Run with ``make bench`` (all benchmarks) or ``.venv/bin/python benchmarks/physiology.py``. The
scenario: the published CKD course (Riggs 2012: GFR 100 → 10 mL/min at 0.27/year) with Mg oxide
(330 mg twice a day as a daily average) from day 30; the batch spreads the course's start GFR
over 20–120 mL/min. Timings are the best of `REPEATS`; the model is compiled before timing
(its one-off costs, in an empty and in a filled cache, are reported on their own lines).
"""

from __future__ import annotations

import importlib.util
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from timing import best_of  # benchmarks/timing.py, beside this file

from mgckd._pint import quantity
from mgckd.interventions import Intervention, intervention_schedule
from mgckd.model import compile_model
from mgckd.model._kernel import CACHE_ENVIRONMENT_VARIABLE
from mgckd.physiology import GfrCourse, whole_body_model
from mgckd.simulate import Rodas4, Scenario, ScipySolver, export_sbml, simulate
from mgckd.simulate._simulate import initial_states

REPEATS = 3
YEAR_H = quantity(1.0, "year").to("h").magnitude
BATCHES = (1_000, 10_000)
PEER_PATIENTS = 200
SAVES = 25


def scenario(n_patients: int, years: float) -> Scenario:
    """`n_patients` on the Riggs course from start GFRs spread over 20–120 mL/min, with MgO."""
    course = GfrCourse.riggs_2012()
    start = np.linspace(20.0, 120.0, n_patients) if n_patients > 1 else np.array([100.0])
    to_l_h = quantity(1.0, "mL/min").to("L/h").magnitude
    duration = years * YEAR_H
    return Scenario(
        duration_h=duration,
        n_patients=n_patients,
        parameters={
            "gfr_start_l_h": start * to_l_h,
            "gfr_floor_l_h": np.minimum(course.floor_ml_min, start) * to_l_h,
            "gfr_decline_per_h": course.rate_per_h(),
        },
        schedule=intervention_schedule(
            [Intervention(drug="magnesium_oxide", dose_mg=330, doses_per_day=2, start_day=30)],
            duration_h=duration,
        ),
    )


_FRESH_PROCESS = """
import sys, time
sys.path.insert(0, {here!r})
import physiology
from mgckd.simulate import simulate
start = time.perf_counter()
simulate(physiology.whole_body_model(), physiology.scenario(1, 2.0))
print(time.perf_counter() - start)
"""


def compilation() -> list[tuple[str, float, str]]:
    """Generating the model's code (sympy, numba) in an empty cache, loading it from a filled
    one, and a fresh process's first 2-year simulation after import, cache filled."""
    model = whole_body_model()
    with tempfile.TemporaryDirectory() as empty:
        os.environ[CACHE_ENVIRONMENT_VARIABLE] = empty
        try:
            compile_model.cache_clear()
            start = time.perf_counter()
            compile_model(model).kernel  # noqa: B018  (loading is the point)
            cold_s = time.perf_counter() - start
        finally:
            del os.environ[CACHE_ENVIRONMENT_VARIABLE]
    compile_model.cache_clear()
    compile_model(model).kernel  # noqa: B018  (fills the user's cache if it is empty)
    compile_model.cache_clear()
    start = time.perf_counter()
    compile_model(model).kernel  # noqa: B018
    warm_s = time.perf_counter() - start
    fresh = subprocess.run(
        [sys.executable, "-c", _FRESH_PROCESS.format(here=str(Path(__file__).parent))],
        capture_output=True,
        text=True,
        check=True,
    )
    return [
        ("generate the model's code, empty cache (sympy, numba)", cold_s, "once per model"),
        ("load the model's code from the cache", warm_s, ""),
        (
            "fresh process: 1 patient × 2 years after import",
            float(fresh.stdout.split()[-1]),
            "cache filled; incl. steady state",
        ),
    ]


def one_patient() -> list[tuple[str, float, str]]:
    """One patient, 2 years: Rodas4, SciPy BDF, libroadrunner on the exported SBML."""
    model = whole_body_model()
    one = scenario(1, 2.0)
    times = np.linspace(0.0, one.duration_h, SAVES)
    native = simulate(model, one, save_at=times)
    rows = [
        (
            "1 patient × 2 years, Rodas4 (incl. steady state)",
            best_of(lambda: simulate(model, one, save_at=times), REPEATS),
            f"{native.stats.accepted_steps} steps",
        ),
        (
            "1 patient × 2 years, SciPy BDF",
            best_of(lambda: simulate(model, one, save_at=times, solver=ScipySolver()), REPEATS),
            "",
        ),
    ]
    if importlib.util.find_spec("roadrunner") is None:
        return [*rows, ("libroadrunner not installed: peer skipped", 0.0, "")]
    from mgckd.model._roadrunner import load_roadrunner, run_roadrunner  # noqa: PLC0415

    sbml = export_sbml(model, one)
    start = time.perf_counter()
    runner = load_roadrunner(sbml, rtol=1e-8, atol=1e-10)
    load_s = time.perf_counter() - start

    def run() -> dict[str, np.ndarray]:
        runner.resetAll()
        return run_roadrunner(runner, times, model.species_names)

    peer = run()
    worst = max(
        float(np.max(np.abs(peer[name] / native.states[:, i, 0] - 1)))
        for i, name in enumerate(model.species_names)
    )
    return [
        *rows,
        ("libroadrunner: load the exported SBML (JIT)", load_s, ""),
        (
            "1 patient × 2 years, libroadrunner (CVODE)",
            best_of(run, REPEATS),
            f"max relative difference to Rodas4 {worst:.1e}",
        ),
    ]


def batches() -> list[tuple[str, float, str]]:
    """Batches of patients for 1 year: Rodas4 (the compiled kernel, slices of the batch in
    threads), SciPy BDF on the flattened batch, libroadrunner one patient after another."""
    model = whole_body_model()
    rows = []
    for n in BATCHES:
        batch = scenario(n, 1.0)
        for label, solver in (("Rodas4", Rodas4()), ("SciPy BDF", ScipySolver())):
            seconds = best_of(
                lambda batch=batch, solver=solver: simulate(
                    model, batch, save_at=[0.0, batch.duration_h], solver=solver
                ),
                1,
            )
            rows.append(
                (f"{n} patients × 1 year, {label}", seconds, f"{n / seconds:.3g} patient-years/s")
            )
    if importlib.util.find_spec("roadrunner") is None:
        return rows
    from mgckd.model._roadrunner import load_roadrunner, run_roadrunner  # noqa: PLC0415

    peer = scenario(PEER_PATIENTS, 1.0)
    compiled = compile_model(model)
    p = compiled.parameter_array(peer.parameters, PEER_PATIENTS)
    initial, _ = initial_states(compiled, peer, p)
    runner = load_roadrunner(export_sbml(model, peer, patient=0))
    varying = ("gfr_start_l_h", "gfr_floor_l_h")

    def run_all() -> None:
        """One loaded runner; per patient: its parameters and steady state, then simulate."""
        for k in range(PEER_PATIENTS):
            runner.resetAll()
            for name in varying:
                runner[name] = p[compiled.parameters.index(name), k]
            for i, name in enumerate(model.species_names):
                runner[name] = initial[i, k]  # the current amount: init() would recompile
            run_roadrunner(runner, [0.0, peer.duration_h], model.species_names)

    seconds = best_of(run_all, 1)
    rows.append(
        (
            f"{PEER_PATIENTS} patients × 1 year, libroadrunner, one runner, patient by patient",
            seconds,
            f"{PEER_PATIENTS / seconds:.3g} patient-years/s",
        )
    )
    return rows


def main() -> None:
    """Run every physiology benchmark and print a table."""
    print(f"\nwhole-body model ({platform.machine()}, Python {platform.python_version()})")
    for name, seconds, note in compilation() + one_patient() + batches():
        print(f"{name:62s} {seconds * 1e3:10.1f} ms   {note}")


if __name__ == "__main__":
    main()
