"""Synthetic T50 plates with known sigmoid parameters: test data for the curve analyzer.

Not a model of CPP kinetics: the curves are the analyzer's own 4PL/5PL shape with chosen
parameters and Gaussian noise, so that tests and benchmarks know the right answer.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mgckd.cpp._curves import t50_curve
from mgckd.cpp._plate_io import MAX_COLUMN, ROWS, PlateReadings
from mgckd.exceptions import UserInputError

_PLATE_SHAPES = {96: (8, 12), 384: (16, MAX_COLUMN)}


def synthetic_plate(
    *,
    n_samples: int = 32,
    replicates: int = 3,
    rng: np.random.Generator,
    wells_per_plate: int = 96,
    n_readings: int = 121,
    t_end_min: float = 600.0,
    t50_range_min: tuple[float, float] = (150.0, 450.0),
    replicate_cv: float = 0.02,
    slope_range_per_min: tuple[float, float] = (0.03, 0.08),
    asymmetry_range: tuple[float, float] = (1.0, 1.0),
    bottom_range: tuple[float, float] = (1500.0, 2500.0),
    rise_range: tuple[float, float] = (8000.0, 15000.0),
    noise_fraction: float = 0.01,
) -> tuple[PlateReadings, pd.DataFrame]:
    """A plate of `n_samples` × `replicates` wells (row by row from A01) with known T50s.

    Each sample draws a T50 uniformly from `t50_range_min`; each replicate well scatters it by
    `replicate_cv` (relative SD) and draws its own slope, asymmetry (5PL exponent, 1 = 4PL),
    baseline and rise uniformly from the given ranges; readings get Gaussian noise of SD
    `noise_fraction` × rise. Readings are equally spaced from 0 to `t_end_min`.

    Returns
    -------
    (PlateReadings, DataFrame)
        The plate (``content`` = ``"sample <i>"``) and the truth per well: well, sample,
        t50_min, slope_per_min, asymmetry, bottom, top, noise_sd.

    Examples
    --------
    >>> plate, truth = synthetic_plate(n_samples=2, replicates=2, rng=np.random.default_rng(1))
    >>> plate.wells, plate.signal.shape
    (('A01', 'A02', 'A03', 'A04'), (4, 121))
    """
    n_rows, n_columns = _PLATE_SHAPES[wells_per_plate]
    n_wells = n_samples * replicates
    if n_wells > n_rows * n_columns:
        raise UserInputError(f"{n_wells} wells do not fit a {wells_per_plate}-well plate")
    wells = tuple(f"{ROWS[i // n_columns]}{i % n_columns + 1:02d}" for i in range(n_wells))
    sample = np.repeat(np.arange(1, n_samples + 1), replicates)
    sample_t50 = rng.uniform(*t50_range_min, n_samples)
    t50 = np.repeat(sample_t50, replicates) * (1.0 + replicate_cv * rng.standard_normal(n_wells))
    slope = rng.uniform(*slope_range_per_min, n_wells)
    asymmetry = rng.uniform(*asymmetry_range, n_wells)
    bottom = rng.uniform(*bottom_range, n_wells)
    top = bottom + rng.uniform(*rise_range, n_wells)
    noise_sd = noise_fraction * (top - bottom)
    time_min = np.linspace(0.0, t_end_min, n_readings)
    signal = t50_curve(
        time_min[None, :],
        t50_min=t50[:, None],
        bottom=bottom[:, None],
        top=top[:, None],
        slope_per_min=slope[:, None],
        asymmetry=asymmetry[:, None],
    ) + noise_sd[:, None] * rng.standard_normal((n_wells, n_readings))
    labels = tuple(f"sample {s}" for s in sample)
    plate = PlateReadings(
        time_min=time_min,
        signal=signal,
        wells=wells,
        content=labels,
        overflow=np.zeros(signal.shape, dtype=bool),
        source="synthetic",
        format="synthetic",
    )
    truth = pd.DataFrame(
        {
            "well": wells,
            "sample": labels,
            "t50_min": t50,
            "slope_per_min": slope,
            "asymmetry": asymmetry,
            "bottom": bottom,
            "top": top,
            "noise_sd": noise_sd,
        }
    )
    return plate, truth
