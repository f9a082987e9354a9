"""Run a cohort in chunks: locally (a Dask LocalCluster by default), on an existing Dask cluster
(``scheduler`` address), or serially in this process (``workers=0``).

Every chunk is written by the worker that computed it, atomically (a temporary file renamed
into place), as ``chunk-<index>.parquet`` beside a ``manifest.json`` holding the run's spec. A
chunk file that exists is finished: a killed run restarted with the same spec and directory
computes only the chunks that are missing. The client keeps at most a few chunks in flight and
receives only their sizes, so memory is bounded by the chunk size, not the cohort size.
"""

from __future__ import annotations

import importlib
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq  # type: ignore[import-untyped]

from mgckd._atomic import write_bytes_atomic, write_text_atomic
from mgckd._version import __version__
from mgckd.exceptions import InputFileError, UserInputError
from mgckd.populations._cohort import CohortSpec, chunk_frame
from mgckd.populations._presets import preset

MANIFEST = "manifest.json"
IN_FLIGHT_PER_WORKER = 2
"""Chunks submitted per worker thread at a time (one running, one queued)."""

Progress = Callable[[int, int], None]
"""Called with (chunks finished, chunks in the run) as chunks finish (skipped ones included)."""


def chunk_path(out_dir: Path, index: int) -> Path:
    """The file of chunk `index`."""
    return out_dir / f"chunk-{index:05d}.parquet"


def write_chunk(spec_json: str, index: int, out_dir: str) -> tuple[int, int, float]:
    """Compute chunk `index` and write it atomically; returns (index, rows, seconds).

    The task a Dask worker runs: plain arguments in, three numbers out.
    """
    start = time.perf_counter()
    spec = CohortSpec.model_validate_json(spec_json)
    frame = chunk_frame(spec, index)
    write_bytes_atomic(chunk_path(Path(out_dir), index), frame.to_parquet(index=False))
    return index, len(frame), time.perf_counter() - start


def _expected_rows(spec: CohortSpec, index: int) -> int:
    return spec.chunk_patients(index) * spec.save_at_h().size


def finished_chunks(spec: CohortSpec, out_dir: Path) -> list[int]:
    """Chunks whose file exists with the rows the spec expects."""
    done = []
    for index in range(spec.n_chunks):
        path = chunk_path(out_dir, index)
        if path.is_file() and pq.read_metadata(path).num_rows == _expected_rows(spec, index):
            done.append(index)
    return done


def _prepare(spec: CohortSpec, out_dir: Path) -> None:
    """Create the directory and its manifest, or check that an existing manifest matches."""
    if out_dir.exists() and not out_dir.is_dir():
        raise UserInputError(f"--out {out_dir}: exists and is not a directory")
    if not out_dir.parent.is_dir():
        raise UserInputError(f"--out {out_dir}: directory {out_dir.parent} does not exist")
    out_dir.mkdir(exist_ok=True)
    manifest = out_dir / MANIFEST
    wanted = spec.model_dump(mode="json")
    if manifest.is_file():
        try:
            found = json.loads(manifest.read_text(encoding="utf-8"))["spec"]
        except (json.JSONDecodeError, KeyError):
            raise InputFileError(f"{manifest}: not a cohort manifest") from None
        changed = sorted(k for k in wanted.keys() | found.keys() if wanted.get(k) != found.get(k))
        if changed:
            diffs = "; ".join(
                f"{k}: {found.get(k)!r} there, {wanted.get(k)!r} now" for k in changed
            )
            raise UserInputError(
                f"{out_dir} holds another cohort run ({diffs}); resume it with the same options "
                "or write to a new directory"
            )
        return
    text = json.dumps({"mgckd_version": __version__, "spec": wanted}, indent=2)
    write_text_atomic(manifest, text)


@dataclass(frozen=True, slots=True)
class CohortRun:
    """A finished cohort run.

    Attributes
    ----------
    out_dir : where the manifest and the chunk files are.
    spec : what was simulated.
    computed : chunks computed by this call.
    skipped : chunks found finished and not recomputed.
    seconds : wall time of this call.
    """

    out_dir: Path
    spec: CohortSpec
    computed: tuple[int, ...]
    skipped: tuple[int, ...]
    seconds: float

    def frame(self) -> pd.DataFrame:
        """Every chunk's rows, in chunk order (reads the files)."""
        return read_cohort_run(self.out_dir)


def read_cohort_run(out_dir: str | Path) -> pd.DataFrame:
    """The rows of every finished chunk of the run in `out_dir`, in chunk order."""
    directory = Path(out_dir)
    files = sorted(directory.glob("chunk-*.parquet"))
    if not files:
        raise InputFileError(f"{directory}: no finished chunks (chunk-*.parquet)")
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)


def _dask() -> Any:
    try:
        return importlib.import_module("distributed")
    except ImportError:
        raise UserInputError(
            "Dask is needed to distribute a cohort: pip install 'mgckd[dist]' (or run serially "
            "with workers=0, --workers 0)"
        ) from None


def _run_distributed(
    spec: CohortSpec,
    out_dir: Path,
    todo: list[int],
    *,
    scheduler: str | None,
    workers: int | None,
    processes: bool,
    on_done: Callable[[int], None],
) -> None:
    distributed = _dask()
    if scheduler is None:
        cluster = distributed.LocalCluster(
            n_workers=workers or os.cpu_count() or 1,
            threads_per_worker=1,
            processes=processes,
            dashboard_address=None,
        )
        client = distributed.Client(cluster)
    else:
        cluster, client = None, distributed.Client(scheduler)
    spec_json = spec.model_dump_json()
    try:
        limit = max(1, IN_FLIGHT_PER_WORKER * sum(client.nthreads().values()))
        queue: Iterator[int] = iter(todo)
        futures = distributed.as_completed()

        def submit() -> None:
            index = next(queue, None)
            if index is not None:
                key = f"mgckd-cohort-chunk-{index}-{os.getpid()}-{time.time_ns()}"
                futures.add(
                    client.submit(write_chunk, spec_json, index, str(out_dir), key=key, pure=False)
                )

        for _ in range(limit):
            submit()
        for future in futures:
            index, _, _ = future.result()
            on_done(index)
            submit()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def run_cohort(
    spec: CohortSpec,
    out_dir: str | Path,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    processes: bool = True,
    progress: Progress | None = None,
) -> CohortRun:
    """Simulate a cohort chunk by chunk into `out_dir`, resuming a run found there.

    Parameters
    ----------
    spec : what to simulate.
    out_dir : the run's directory (created; a run found there must have the same spec).
    scheduler : address of an existing Dask scheduler (``tcp://host:8786``); default: start a
        Dask LocalCluster for this run.
    workers : workers of the LocalCluster (default: one per CPU); 0 runs every chunk serially
        in this process, without Dask.
    processes : LocalCluster workers as processes (default) or threads of this process.
    progress : called with (finished, total) chunks as chunks finish.

    Returns
    -------
    CohortRun

    Raises
    ------
    UserInputError
        A directory holding another run, or an unknown preset.
    """
    preset(spec.preset)
    start = time.perf_counter()
    directory = Path(out_dir)
    _prepare(spec, directory)
    skipped = finished_chunks(spec, directory)
    todo = [k for k in range(spec.n_chunks) if k not in set(skipped)]
    finished = len(skipped)
    computed: list[int] = []

    def on_done(index: int) -> None:
        nonlocal finished
        finished += 1
        computed.append(index)
        if progress is not None:
            progress(finished, spec.n_chunks)

    if progress is not None:
        progress(finished, spec.n_chunks)
    if workers == 0:
        for index in todo:
            write_chunk(spec.model_dump_json(), index, str(directory))
            on_done(index)
    elif todo:
        _run_distributed(
            spec,
            directory,
            todo,
            scheduler=scheduler,
            workers=workers,
            processes=processes,
            on_done=on_done,
        )
    return CohortRun(
        directory, spec, tuple(sorted(computed)), tuple(skipped), time.perf_counter() - start
    )
