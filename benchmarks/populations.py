"""Cohort benchmarks (issue 8): patient-years per second of the batched solver beside a
per-patient libroadrunner loop over the exported SBML, at matched accuracy, with memory.

Run with ``make bench`` (all benchmarks) or ``.venv/bin/python benchmarks/populations.py``
(``--full-hd`` also runs the whole 142,555 patient-years of the session scenario instead of
extrapolating from a measured batch). Scenarios, one year each:

- **ckd**: the ``ckd_g1_g5`` preset on the Mg model (no events: smooth). The whole 142,555
  patient-years run through `run_cohort` on a Dask LocalCluster (one worker per CPU).
- **sessions**: the ``jsdt_hd`` preset on the Mg model with thrice-weekly 4-h windows
  (Mon/Wed/Fri from 8:00; a window at exactly t = 0 is applied differently by libroadrunner)
  that raise the patient's GFR to a dialyzer-like clearance. A STAND-IN for
  hemodialysis: the same event load (312 discontinuities a year) and fast transients as
  sessions, without the dialyzer's physics. HOOK: when `mgckd.dialysis` offers a session
  schedule for a population, `session_scenario` builds the real one (same measurement).

Accuracy: every solver is compared per patient with a tight reference (Rodas4, rtol 1e-10) on
plasma total Mg at the save times; the tolerances used are those that keep the worst patient
within 0.1 %.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib.util
import io
import platform
import pstats
import resource
import tempfile
import time
import tracemalloc
from collections.abc import Callable

import numpy as np

from mgckd._pint import quantity
from mgckd.model import CompiledModel, Window, compile_model
from mgckd.physiology import magnesium_model
from mgckd.populations import sample_population
from mgckd.populations._cohort import CohortSpec
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
PEER_RTOL, PEER_ATOL = 1e-6, 1e-9
CHUNK = 5000
SESSION_BATCH = 1000
PEER_PATIENTS = 40
MG = "plasma_mg_total_mmol_l"


def ckd_scenario(compiled: CompiledModel, n: int, seed: int) -> Scenario:
    """`n` patients of the CKD G1-G5 preset, one year, from their steady state."""
    population = sample_population("ckd_g1_g5", n, rng=seed)
    return Scenario(YEAR_H, n, patient_parameters(population, compiled))


def session_scenario(compiled: CompiledModel, n: int, seed: int) -> Scenario:
    """`n` hemodialysis patients, one year, thrice-weekly 4-h session windows (stand-in)."""
    population = sample_population("jsdt_hd", n, rng=seed)
    clearance = float(quantity(SESSION_CLEARANCE_ML_MIN, "mL/min").to("L/h").magnitude)
    weeks = int(YEAR_H // WEEK_H) + 1
    windows = tuple(
        Window(
            "gfr_start_l_h", clearance, start_h=s, duration_h=SESSION_H, every_h=WEEK_H, count=weeks
        )
        for s in SESSION_STARTS_H
    )
    return Scenario(YEAR_H, n, patient_parameters(population, compiled), schedule=windows)


def _saves() -> np.ndarray:
    return np.linspace(0.0, YEAR_H, SAVES)


def _run(compiled: CompiledModel, scenario: Scenario, rtol: float) -> SimulationResult:
    return simulate(compiled, scenario, save_at=_saves(), solver=Rodas4(rtol=rtol), throw=False)


def _timed(function: Callable[[], object]) -> tuple[object, float]:
    start = time.perf_counter()
    value = function()
    return value, time.perf_counter() - start


def _worst_error(found: np.ndarray, reference: np.ndarray) -> float:
    return float(np.nanmax(np.abs(found / reference - 1.0)))


def peer_loop(compiled: CompiledModel, scenario: Scenario, k: int) -> tuple[np.ndarray, float]:
    """libroadrunner (CVODE) on the exported SBML, patient after patient, for the first `k`
    patients: one loaded runner, per patient its parameters and steady state set after
    ``resetAll()`` (``init()`` would recompile). Returns plasma total Mg (saves, k) and seconds."""
    from mgckd.model._roadrunner import load_roadrunner, run_roadrunner  # noqa: PLC0415
    from mgckd.simulate._simulate import initial_states  # noqa: PLC0415

    p = compiled.parameter_array(scenario.parameters, scenario.n_patients)
    initial, _ = initial_states(compiled, scenario, p)
    runner = load_roadrunner(
        export_sbml(compiled, scenario, patient=0), rtol=PEER_RTOL, atol=PEER_ATOL
    )
    varying = list(scenario.parameters)
    volume = compiled.parameters.index("ecf_volume_l")
    out = np.empty((SAVES, k))

    def loop() -> None:
        for j in range(k):
            runner.resetAll()
            for name in varying:
                runner[name] = p[compiled.parameters.index(name), j]
            for i, name in enumerate(compiled.species):
                runner[name] = initial[i, j]
            trace = run_roadrunner(runner, _saves(), ["mg_ecf"])
            out[:, j] = trace["mg_ecf"] / p[volume, j]

    _, seconds = _timed(loop)
    return out, seconds


def _memory_of_a_chunk(compiled: CompiledModel) -> float:
    """tracemalloc peak (MB) of one CKD chunk's vectorized solve."""
    scenario = ckd_scenario(compiled, CHUNK, seed=99)
    tracemalloc.start()
    _run(compiled, scenario, BATCH_RTOL)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1e6


def accuracy_and_peer(
    compiled: CompiledModel, name: str, scenario: Scenario
) -> tuple[list[str], float]:
    """Per-patient error of the batch and the peer against the reference, and their speeds."""
    k = PEER_PATIENTS
    head = Scenario(
        scenario.duration_h,
        k,
        {n: np.asarray(v)[:k] for n, v in scenario.parameters.items()},
        scenario.schedule,
    )
    reference = _run(compiled, head, REFERENCE_RTOL).rule(MG)
    batch, batch_s = _timed(lambda: _run(compiled, head, BATCH_RTOL))
    peer, peer_s = peer_loop(compiled, head, k)
    batch_error = _worst_error(batch.rule(MG), reference)  # type: ignore[attr-defined]
    peer_error = _worst_error(peer, reference)
    lines = [
        f"{name}: worst per-patient error on {MG}, {k} patients: batch (rtol {BATCH_RTOL:g}) "
        f"{batch_error:.1e}, libroadrunner (rtol {PEER_RTOL:g}) {peer_error:.1e} "
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
    """One vectorized solve of the session scenario (or the whole target with `full`)."""
    n = TARGET_PATIENT_YEARS if full else SESSION_BATCH
    scenario = session_scenario(compiled, n, seed=2024)
    result, seconds = _timed(lambda: _run(compiled, scenario, BATCH_RTOL))
    stats = result.stats  # type: ignore[attr-defined]
    rate = n / seconds
    projected = TARGET_PATIENT_YEARS / rate
    return [
        f"sessions (stand-in): {n} patients × 1 year, one vectorized solve: {seconds:.1f} s, "
        f"{rate:.3g} patient-years/s; {stats.accepted_steps / n:.0f} accepted and "
        f"{stats.rejected_steps / n:.0f} rejected steps per patient-year; "
        f"{TARGET_PATIENT_YEARS} patient-years {'took' if full else 'would take'} "
        f"{projected:.0f} s (target ≤ {TARGET_SECONDS:g} s: "
        f"{'met' if projected <= TARGET_SECONDS else 'NOT met'})"
    ], rate


def profile_sessions(compiled: CompiledModel) -> list[str]:
    """Where the time of the session scenario goes (cProfile, top functions by own time)."""
    scenario = session_scenario(compiled, 200, seed=7)
    profiler = cProfile.Profile()
    profiler.enable()
    _run(compiled, scenario, BATCH_RTOL)
    profiler.disable()
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(8)
    return [
        "sessions profile (200 patients, top 8 by own time):",
        *text.getvalue().splitlines()[-14:],
    ]


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
        for name, scenario, rate in (
            ("ckd", ckd_scenario(compiled, PEER_PATIENTS, seed=1), ckd_rate),
            ("sessions", session_scenario(compiled, PEER_PATIENTS, seed=1), session_rate),
        ):
            found, peer_rate = accuracy_and_peer(compiled, name, scenario)
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
    lines += profile_sessions(compiled)
    for line in lines:
        print(line)


if __name__ == "__main__":
    main()
