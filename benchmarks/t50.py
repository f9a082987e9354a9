"""T50 curve analyzer benchmarks: a 384-well plate, and a per-well scipy curve_fit loop on it.

Run with ``make bench`` (all benchmarks) or ``.venv/bin/python benchmarks/t50.py``. The plate is
`mgckd.cpp.synthetic_plate` (128 sera in triplicate, 121 readings over 600 min, noise 1 % of the
rise, seed 2012). Timed: the fit alone (`fit_wells`), the analysis (fit, QC, replicates), the
command's work without and with the figure (read a MARS table-view CSV, analyze, write wells.csv
and samples.csv atomically; then the plate PNG). The peer is what a lab script does: a loop of
``scipy.optimize.curve_fit`` over the wells with the same 4PL, timed in the same run; their T50s
are compared well by well.
"""

from __future__ import annotations

import io
import platform
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import curve_fit
from timing import best_of  # benchmarks/timing.py, beside this file

from mgckd._atomic import write_bytes_atomic, write_text_atomic
from mgckd.cpp import (
    PlateReadings,
    T50Analysis,
    analyze_plate,
    fit_wells,
    plate_figure,
    read_plate,
    synthetic_plate,
)

SEED = 2012
REPEATS = 5
PEER_REPEATS = 2


def _plate() -> tuple[PlateReadings, pd.DataFrame]:
    return synthetic_plate(
        n_samples=128, replicates=3, wells_per_plate=384, rng=np.random.default_rng(SEED)
    )


def _mars_text(plate: PlateReadings) -> str:
    """The plate as a MARS table view (``Well,Content`` title, ``Time [s]`` line)."""
    times = ",".join(f"{60 * t:g}" for t in plate.time_min)
    body = [
        f"{w},{c}," + ",".join(f"{v:.0f}" for v in row)
        for w, c, row in zip(plate.wells, plate.content, plate.signal, strict=True)
    ]
    title = ",".join(["Well", "Content", *["Raw Data (Nephelometry)"] * plate.time_min.size])
    return "\n".join(
        ["User: USER,Test name: bench", "Nephelometry", title, f",Time [s],{times}", *body]
    )


def _logistic(t: np.ndarray, bottom: float, top: float, t50: float, slope: float) -> np.ndarray:
    return bottom + (top - bottom) / (1.0 + np.exp(-slope * (t - t50)))


def _peer(time_min: np.ndarray, signal: np.ndarray) -> tuple[np.ndarray, int]:
    """T50 per well by scipy's curve_fit, with the initial guesses a lab script would use."""
    t50 = np.full(len(signal), np.nan)
    failures = 0
    for i, y in enumerate(signal):
        low, high = float(y.min()), float(y.max())
        half = time_min[np.argmax(y >= 0.5 * (low + high))]
        try:
            params, _ = curve_fit(
                _logistic, time_min, y, p0=(low, high, half, 8.0 / time_min[-1]), maxfev=2000
            )
        except RuntimeError:
            failures += 1
            continue
        t50[i] = params[2]
    return t50, failures


def analyzer() -> list[tuple[str, float, str]]:
    """mgckd on the 384-well plate: fit, analysis, read + analyze + write, the figure."""
    plate, truth = _plate()
    wells = len(plate.wells)
    fit_auto = best_of(lambda: fit_wells(plate.time_min, plate.signal), REPEATS)
    fit_4pl = best_of(
        lambda: fit_wells(plate.time_min, plate.signal, model="4pl"),
        REPEATS,
    )
    flat = 2000.0 + 0.01 * 10000.0 * np.random.default_rng(SEED).standard_normal(
        plate.signal.shape
    )  # no transition anywhere: every well iterates to the cap (the worst case)
    fit_flat = best_of(lambda: fit_wells(plate.time_min, flat), 3)
    analysis = best_of(lambda: analyze_plate(plate), REPEATS)
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "plate384_mars.csv"
        source.write_text(_mars_text(plate), encoding="utf-8")

        def command() -> T50Analysis:
            result = analyze_plate(read_plate(source))
            write_text_atomic(Path(folder) / "wells.csv", result.wells.to_csv(index=False))
            write_text_atomic(Path(folder) / "samples.csv", result.samples.to_csv(index=False))
            return result

        end_to_end = best_of(command, REPEATS)
        result = command()

        def figure() -> None:
            buffer = io.BytesIO()
            plate_figure(result).savefig(buffer, format="png", dpi=150)
            write_bytes_atomic(Path(folder) / "plate.png", buffer.getvalue())

        png = best_of(figure, 3)
    fits = fit_wells(plate.time_min, plate.signal)
    error = np.abs(fits.t50_min - truth["t50_min"].to_numpy())
    return [
        (
            f"fit_wells {wells} wells x 121 readings, auto",
            fit_auto,
            f"{wells / fit_auto:.3g} wells/s",
        ),
        (f"fit_wells {wells} wells, 4pl only", fit_4pl, f"{wells / fit_4pl:.3g} wells/s"),
        (
            f"fit_wells {wells} flat wells (no transition)",
            fit_flat,
            f"{wells / fit_flat:.3g} wells/s",
        ),
        ("analyze_plate (fit, QC, replicates)", analysis, ""),
        ("read MARS CSV + analyze + write 2 CSVs", end_to_end, ""),
        ("plate PNG (384 cells, 150 dpi)", png, ""),
        ("recovery: max |T50 - truth| (auto)", 0.0, f"{error.max():.2f} min"),
    ]


def peer() -> list[tuple[str, float, str]]:
    """scipy.optimize.curve_fit per well (the 4PL) beside mgckd's 4PL on the same wells."""
    plate, _ = _plate()
    time_min, signal = plate.time_min, plate.signal
    seconds = best_of(lambda: _peer(time_min, signal), PEER_REPEATS)
    theirs, failures = _peer(time_min, signal)
    ours_seconds = best_of(lambda: fit_wells(time_min, signal, model="4pl"), REPEATS)
    ours = fit_wells(time_min, signal, model="4pl").t50_min
    agree = np.nanmax(np.abs(ours - theirs))
    return [
        (
            f"scipy curve_fit loop, {len(signal)} wells (4pl)",
            seconds,
            f"{len(signal) / seconds:.3g} wells/s; {failures} failed; mgckd "
            f"{seconds / ours_seconds:.0f}x faster",
        ),
        ("agreement mgckd 4pl vs curve_fit", 0.0, f"max |diff T50| {agree:.1e} min"),
    ]


def main() -> None:
    """Run the T50 benchmarks and print a table."""
    print(f"machine: {platform.machine()}, Python {platform.python_version()}")
    for name, seconds, rate in analyzer() + peer():
        print(f"{name:55s} {seconds:8.3f} s   {rate}")


if __name__ == "__main__":
    main()
