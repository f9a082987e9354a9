"""Cohort runs in chunks: serial and on a Dask LocalCluster, atomic Parquet chunks, a manifest,
and a killed run that resumes without recomputing its finished chunks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from mgckd.exceptions import UserInputError
from mgckd.populations._cohort import CohortSpec, chunk_frame
from mgckd.populations._runner import MANIFEST, chunk_path, read_cohort_run, run_cohort

SMALL = CohortSpec(preset="ckd_g1_g5", n_patients=50, duration_days=30, chunk_size=20, seed=5)


def test_serial_run_writes_chunks_and_a_manifest(tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []
    run = run_cohort(SMALL, tmp_path / "run", workers=0, progress=lambda a, b: seen.append((a, b)))
    assert run.computed == (0, 1, 2)
    assert seen[-1] == (3, 3)
    frame = read_cohort_run(tmp_path / "run")
    assert len(frame) == SMALL.n_patients * 2  # start and end saved
    assert frame["patient_id"].nunique() == SMALL.n_patients
    assert (frame["status"] == "success").all()
    manifest = json.loads((tmp_path / "run" / MANIFEST).read_text())
    assert manifest["spec"]["seed"] == SMALL.seed
    again = run_cohort(SMALL, tmp_path / "run", workers=0)
    assert again.computed == ()
    assert again.skipped == (0, 1, 2)


def test_a_chunk_is_the_same_wherever_it_runs(tmp_path: Path) -> None:
    pd.testing.assert_frame_equal(chunk_frame(SMALL, 1), chunk_frame(SMALL, 1))
    run_cohort(SMALL, tmp_path / "run", workers=0)
    stored = pd.read_parquet(chunk_path(tmp_path / "run", 2))
    pd.testing.assert_frame_equal(stored, chunk_frame(SMALL, 2), check_dtype=False)


def test_a_directory_of_another_run_is_refused(tmp_path: Path) -> None:
    run_cohort(SMALL, tmp_path / "run", workers=0)
    with pytest.raises(UserInputError, match="seed: 5 there, 6 now"):
        run_cohort(SMALL.model_copy(update={"seed": 6}), tmp_path / "run", workers=0)


def test_a_truncated_chunk_is_recomputed(tmp_path: Path) -> None:
    run_cohort(SMALL, tmp_path / "run", workers=0)
    path = chunk_path(tmp_path / "run", 1)
    pd.read_parquet(path).iloc[:3].to_parquet(path)
    assert run_cohort(SMALL, tmp_path / "run", workers=0).computed == (1,)


def test_hemodialysis_cohorts_run_from_their_long_run_cycle(tmp_path: Path) -> None:
    spec = SMALL.model_copy(
        update={"preset": "jsdt_hd", "n_patients": 6, "chunk_size": 3, "duration_days": 7}
    )
    run = run_cohort(spec, tmp_path / "run", workers=0)
    assert run.computed == (0, 1)
    frame = run.frame()
    assert (frame["status"] == "success").all()
    assert sorted(set(frame["time_days"])) == [0.0, 7.0]
    start = frame[frame["time_days"] == 0.0].sort_values("patient_id")
    end = frame[frame["time_days"] == 7.0].sort_values("patient_id")
    # a week later, the same session of the week on the same long-run cycle: the same sample
    assert end["plasma_mg_total_mmol_l"].to_numpy() == pytest.approx(
        start["plasma_mg_total_mmol_l"].to_numpy(), rel=1e-4
    )


def test_a_hemodialysis_year_through_the_envelope_matches_every_step() -> None:
    """Cohorts follow the envelope of the weekly cycle by default; a year of sessions agrees
    with integrating every step to 0.1 % (the issue's per-patient accuracy)."""
    spec = SMALL.model_copy(
        update={"preset": "jsdt_hd", "n_patients": 4, "chunk_size": 4, "duration_days": 365}
    )
    assert spec.envelope_rtol is not None
    envelope = chunk_frame(spec, 0)
    every_step = chunk_frame(spec.model_copy(update={"envelope_rtol": None}), 0)
    assert envelope["plasma_mg_total_mmol_l"].to_numpy() == pytest.approx(
        every_step["plasma_mg_total_mmol_l"].to_numpy(), rel=1e-3
    )


def test_dask_local_cluster_runs_the_chunks(tmp_path: Path) -> None:
    run = run_cohort(SMALL, tmp_path / "run", workers=1, processes=False)
    assert run.computed == (0, 1, 2)
    pd.testing.assert_frame_equal(
        pd.read_parquet(chunk_path(tmp_path / "run", 0)), chunk_frame(SMALL, 0), check_dtype=False
    )


KILLED = CohortSpec(preset="ckd_g1_g5", n_patients=2400, duration_days=365, chunk_size=100, seed=11)
_RUN = """
import sys
from mgckd.populations._cohort import CohortSpec
from mgckd.populations._runner import run_cohort
spec = CohortSpec.model_validate_json(sys.argv[1])
run_cohort(spec, sys.argv[2], workers=1, processes=False)
"""


def _finished(directory: Path) -> dict[str, tuple[int, int]]:
    return {
        p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in directory.glob("chunk-*.parquet")
    }


def test_a_killed_dask_run_resumes_without_recomputing(tmp_path: Path) -> None:
    directory = tmp_path / "run"
    process = subprocess.Popen(
        [sys.executable, "-c", _RUN, KILLED.model_dump_json(), str(directory)],
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while len(_finished(directory)) < 2 and process.poll() is None:
            time.sleep(0.05)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    before = _finished(directory)
    assert 2 <= len(before) < KILLED.n_chunks, "the run must be killed mid-way"
    run = run_cohort(KILLED, directory, workers=1, processes=False)
    kept = {chunk_path(directory, k).name for k in run.skipped}
    assert kept == set(before)
    assert {k: v for k, v in _finished(directory).items() if k in before} == before
    assert set(run.computed) | set(run.skipped) == set(range(KILLED.n_chunks))
    assert not set(run.computed) & set(run.skipped)
    frame = read_cohort_run(directory)
    assert frame["patient_id"].nunique() == KILLED.n_patients
    last = KILLED.n_chunks - 1
    pd.testing.assert_frame_equal(
        frame[frame["chunk"] == last].reset_index(drop=True),
        chunk_frame(KILLED, last),
        check_dtype=False,
    )


def test_a_bad_envelope_tolerance_is_a_user_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from mgckd.cli import main  # noqa: PLC0415

    args = ["cohort", "run", "ckd_g1_g5", "--n", "2", "--envelope-rtol", "-1"]
    assert main([*args, "--out", str(tmp_path / "run")]) == 2
    assert "envelope_rtol" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()
