"""Cohort benchmarks (issue 8): patient-years per second of the batched solver beside a
per-patient libroadrunner loop over the exported SBML, at matched accuracy, with memory.

Run with ``make bench`` (all benchmarks) or ``.venv/bin/python benchmarks/populations.py``
(``--full-hd`` also runs the whole 142,555 patient-years of the session scenario instead of
extrapolating from a measured batch). Scenarios, one year each:

- **ckd**: the ``ckd_g1_g5`` preset on the Mg model (no events: smooth). The whole 142,555
  patient-years run through `run_cohort` on a Dask LocalCluster (one worker per CPU).
- **sessions**: the ``jsdt_hd`` preset on the Mg model with `mgckd.dialysis`: every patient
  on their own prescription (thrice-weekly 4-h sessions, 312 events a year), from the long-run
  cycle of that prescription (periodic steady state, timed on its own line).

Accuracy: every solver is compared per patient with a tight reference (Rodas4, rtol 1e-10) on
the ECF Mg amount at the save times. mgckd's sessions follow the envelope of the weekly cycle
(`Rodas4(envelope_rtol=...)`); the peer runs each patient's own exported SBML (sessions as
events) at the loosest of its tolerances that keeps its worst patient within 0.1 % (matched
accuracy: both within 0.1 %, the peer as fast as it can be there).
"""

from __future__ import annotations

import argparse
import importlib.util
import platform
import resource
import tempfile
import time
import tracemalloc
from collections.abc import Callable

import numpy as np

from mgckd._pint import quantity
from mgckd.dialysis import dialysis_scenario, periodic_steady_state
from mgckd.model import CompiledModel, compile_model
from mgckd.physiology import magnesium_model
from mgckd.populations import sample_population
from mgckd.populations._cohort import CohortSpec
from mgckd.populations._hemodialysis import hemodialysis_batch
from mgckd.populations._parameters import patient_parameters
from mgckd.populations._runner import run_cohort
from mgckd.simulate import Rodas4, Scenario, SimulationResult, export_sbml, simulate

TARGET_PATIENT_YEARS = 142_555  # the JSDT cohort of S0-18, one year each
TARGET_SECONDS = 60.0
TARGET_RATIO = 50.0
YEAR_H = float(quantity(1.0, "year").to("h").magnitude)
WEEK_H = float(quantity(1.0, "week").to("h").magnitude)
SESSION_STARTS_H = (8.0, 56.0, 104.0)  # Mon, Wed, Fri at 8:00
SESSION_H = 4.0
SESSION_CLEARANCE_ML_MIN = 200.0  # dialyzer-like clearance of the stand-in windows
SAVES = 5
ACCURACY = 1e-3  # 0.1 % per patient on plasma total Mg
REFERENCE_RTOL = 1e-10
BATCH_RTOL = 1e-6
SESSION_SOLVER = Rodas4(rtol=1e-5, envelope_rtol=1e-4)
PEER_RTOLS = (1e-4, 1e-5, 1e-6)  # loosest first: the first within 0.1 % is timed
PEER_ATOL = 1e-9
CHUNK = 5000
SESSION_BATCH = 1000
PEER_PATIENTS = 40
SPECIES = "mg_ecf"  # ECF Mg amount: the rule's volume moves with fluid gain between sessions


def ckd_scenario(compiled: CompiledModel, n: int, seed: int) -> Scenario:
    """`n` patients of the CKD G1-G5 preset, one year, from their steady state."""
    population = sample_population("ckd_g1_g5", n, rng=seed)
    return Scenario(YEAR_H, n, patient_parameters(population, compiled))


def session_case(compiled: CompiledModel, n: int, seed: int) -> tuple[CompiledModel, Scenario]:
    """`n` patients of the ``jsdt_hd`` preset on thrice-weekly hemodialysis for one year, from
    their own prescription's long-run cycle (`mgckd.dialysis`): the model with dialysis and the
    scenario (sessions as windows)."""
    population = sample_population("jsdt_hd", n, rng=seed)
    hd = hemodialysis_batch(population, compiled)
    steady = periodic_steady_state(hd, throw=False)
    scenario, _ = dialysis_scenario(hd, duration_h=YEAR_H, initial=steady.states)
    return compile_model(hd.model), scenario


def _saves() -> np.ndarray:
    return np.linspace(0.0, YEAR_H, SAVES)


def _run(compiled: CompiledModel, scenario: Scenario, solver: Rodas4) -> SimulationResult:
    return simulate(compiled, scenario, save_at=_saves(), solver=solver, throw=False)


def _timed(function: Callable[[], object]) -> tuple[object, float]:
    start = time.perf_counter()
    value = function()
    return value, time.perf_counter() - start


def _worst_error(found: np.ndarray, reference: np.ndarray) -> float:
    return float(np.nanmax(np.abs(found / reference - 1.0)))


def peer_loop(compiled: CompiledModel, scenario: Scenario, rtol: float) -> tuple[np.ndarray, float]:
    """libroadrunner (CVODE) on each patient's own exported SBML (its parameters, initial state
    and sessions), patient after patient. Only the simulations are timed, not the loading (JIT)
    of each file: generous to the peer. Returns ECF Mg (saves, patients) and seconds."""
    from mgckd.model._roadrunner import load_roadrunner, run_roadrunner  # noqa: PLC0415

    runners = [
        load_roadrunner(export_sbml(compiled, scenario, patient=j), rtol=rtol, atol=PEER_ATOL)
        for j in range(scenario.n_patients)
    ]
    out = np.empty((SAVES, scenario.n_patients))

    def loop() -> None:
        for j, runner in enumerate(runners):
            out[:, j] = run_roadrunner(runner, _saves(), [SPECIES])[SPECIES]

    _, seconds = _timed(loop)
    return out, seconds


def _memory_of_a_chunk(compiled: CompiledModel) -> float:
    """tracemalloc peak (MB) of one CKD chunk's vectorized solve."""
    scenario = ckd_scenario(compiled, CHUNK, seed=99)
    tracemalloc.start()
    _run(compiled, scenario, Rodas4(rtol=BATCH_RTOL))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1e6


def accuracy_and_peer(
    compiled: CompiledModel, name: str, scenario: Scenario, solver: Rodas4
) -> tuple[list[str], float]:
    """Per-patient error of the batch and the peer against the reference, and their speeds."""
    k = scenario.n_patients
    row = compiled.species.index(SPECIES)
    reference = _run(compiled, scenario, Rodas4(rtol=REFERENCE_RTOL)).states[:, row]
    batch, batch_s = _timed(lambda: _run(compiled, scenario, solver))
    batch_error = _worst_error(batch.states[:, row], reference)  # type: ignore[attr-defined]
    for rtol in PEER_RTOLS:
        peer, peer_s = peer_loop(compiled, scenario, rtol)
        peer_error = _worst_error(peer, reference)
        if peer_error <= ACCURACY:
            break
    lines = [
        f"{name}: worst per-patient error on {SPECIES}, {k} patients: batch ({solver}) "
        f"{batch_error:.1e}, libroadrunner (rtol {rtol:g}, its loosest within 0.1 %) "
        f"{peer_error:.1e} "
        f"({'both within' if max(batch_error, peer_error) <= ACCURACY else 'NOT within'} 0.1 %)",
        f"{name}: libroadrunner loop {k / peer_s:8.3g} patient-years/s "
        f"({peer_s:.2f} s for {k}); batch of the same {k}: {k / batch_s:.3g} patient-years/s",
    ]
    return lines, k / peer_s


def ckd_full(compiled: CompiledModel) -> tuple[list[str], float]:
    """The whole target on the CKD scenario through the Dask runner."""
    spec = CohortSpec(
        preset="ckd_g1_g5",
        n_patients=TARGET_PATIENT_YEARS,
        duration_days=float(quantity(1.0, "year").to("d").magnitude),
        chunk_size=CHUNK,
        seed=2024,
    )
    with tempfile.TemporaryDirectory() as directory:
        run = run_cohort(spec, directory)
    rate = TARGET_PATIENT_YEARS / run.seconds
    del compiled
    return [
        f"ckd: {TARGET_PATIENT_YEARS} patient-years through run_cohort (Dask LocalCluster, "
        f"chunks of {CHUNK}): {run.seconds:.1f} s, {rate:.3g} patient-years/s "
        f"(target ≤ {TARGET_SECONDS:g} s: {'met' if run.seconds <= TARGET_SECONDS else 'NOT met'})"
    ], rate


def sessions_batch(compiled: CompiledModel, full: bool) -> tuple[list[str], float]:
    """The hemodialysis cohort: sampling and long-run cycles, then one year simulated with
    every step and through the envelope (the whole target with `full`: the envelope only)."""
    n = TARGET_PATIENT_YEARS if full else SESSION_BATCH
    start = time.perf_counter()
    with_dialysis, scenario = session_case(compiled, n, seed=2024)
    setup_s = time.perf_counter() - start
    lines = [
        f"sessions: {n} jsdt_hd patients, sampling and long-run cycles (periodic steady state) "
        f"{setup_s:.1f} s ({TARGET_PATIENT_YEARS * setup_s / n:.0f} s for {TARGET_PATIENT_YEARS})"
    ]
    solvers = (SESSION_SOLVER,) if full else (Rodas4(rtol=BATCH_RTOL), SESSION_SOLVER)
    rate = 0.0
    for solver in solvers:
        result, seconds = _timed(lambda s=solver: _run(with_dialysis, scenario, s))
        stats = result.stats  # type: ignore[attr-defined]
        rate = n / seconds
        projected = TARGET_PATIENT_YEARS / rate
        lines.append(
            f"sessions, {solver}: 1 year {seconds:.1f} s, {rate:.3g} patient-years/s; "
            f"{stats.accepted_steps / n:.0f} accepted and {stats.rejected_steps / n:.0f} "
            f"rejected steps per patient-year; {TARGET_PATIENT_YEARS} patient-years "
            f"{'took' if full else 'would take'} {projected:.0f} s (target ≤ "
            f"{TARGET_SECONDS:g} s: {'met' if projected <= TARGET_SECONDS else 'NOT met'})"
        )
    return lines, rate


def main(argv: list[str] | None = None) -> None:
    """Run the cohort benchmarks and print the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--full-hd", action="store_true", help="run all 142,555 session patient-years"
    )
    args = parser.parse_args(argv)
    print(f"\ncohorts ({platform.machine()}, Python {platform.python_version()})")
    compiled = compile_model(magnesium_model())
    lines: list[str] = []
    ckd_lines, ckd_rate = ckd_full(compiled)
    lines += ckd_lines
    session_lines, session_rate = sessions_batch(compiled, args.full_hd)
    lines += session_lines
    if importlib.util.find_spec("roadrunner") is None:
        lines.append("libroadrunner not installed: peer skipped")
    else:
        for name, (model, scenario), solver, rate in (
            (
                "ckd",
                (compiled, ckd_scenario(compiled, PEER_PATIENTS, seed=1)),
                Rodas4(rtol=BATCH_RTOL),
                ckd_rate,
            ),
            (
                "sessions",
                session_case(compiled, PEER_PATIENTS, seed=1),
                SESSION_SOLVER,
                session_rate,
            ),
        ):
            found, peer_rate = accuracy_and_peer(model, name, scenario, solver)
            lines += found
            ratio = rate / peer_rate
            verdict = "met" if ratio >= TARGET_RATIO else "NOT met"
            lines.append(
                f"{name}: batched/libroadrunner throughput ratio {ratio:.3g}× "
                f"(target ≥ {TARGET_RATIO:g}×: {verdict})"
            )
    chunk_mb = _memory_of_a_chunk(compiled)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    lines.append(f"memory: tracemalloc peak of one {CHUNK}-patient chunk {chunk_mb:.0f} MB")
    lines.append(f"memory: peak RSS of this process {rss_mb:.0f} MB")
    for line in lines:
        print(line)


if __name__ == "__main__":
    main()
