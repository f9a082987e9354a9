"""One entry point for a measured plate: readings (+ layout) → well fits → sample T50s."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mgckd.cpp._curves import STATUSES, Model, WellFits, fit_wells
from mgckd.cpp._plate_io import OVERFLOW, PlateReadings
from mgckd.cpp._replicates import summarize_replicates
from mgckd.exceptions import InputFileError

WELL_COLUMNS = (
    "well",
    "sample",
    "content",
    "t50_min",
    "censored",
    "t50_report",
    "t50_se_min",
    "status",
    "flags",
    "used",
    "outlier",
    "model",
    "bottom",
    "top",
    "slope_per_min",
    "asymmetry",
    "r_squared",
    "rmse",
    "noise_sd",
    "n_readings",
)


@dataclass(frozen=True)
class T50Analysis:
    """A plate's T50 analysis: the readings, the well fits and the tidy well and sample tables.

    Attributes
    ----------
    plate : the readings analyzed.
    fits : the per-well fits (`fit_wells`).
    sample : per well, the sample it belongs to (``""``: not summarized).
    wells : one row per well, `WELL_COLUMNS` (docs/t50.md#outputs).
    samples : one row per sample (`mgckd.cpp.summarize_replicates`).
    model : the model option the wells were fitted with.
    """

    plate: PlateReadings
    fits: WellFits
    sample: tuple[str, ...]
    wells: pd.DataFrame
    samples: pd.DataFrame
    model: str

    def status_counts(self) -> dict[str, int]:
        """How many wells have each status (every status listed, zeros included)."""
        counts = pd.Series(self.fits.status).value_counts()
        return {s: int(counts.get(s, 0)) for s in STATUSES}

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary: plate facts, settings, the well and sample tables."""
        return {
            "source": self.plate.source,
            "format": self.plate.format,
            "metadata": dict(self.plate.metadata),
            "model": self.model,
            "n_wells": len(self.plate.wells),
            "n_readings": int(self.plate.time_min.size),
            "t_start_min": self.fits.t_start_min,
            "t_end_min": self.fits.t_end_min,
            "status_counts": self.status_counts(),
            "samples": _records(self.samples),
            "wells": _records(self.wells),
        }


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    rows = frame.to_dict(orient="records")
    return [
        {
            str(key): (None if isinstance(value, float) and not math.isfinite(value) else value)
            for key, value in row.items()
        }
        for row in rows
    ]


def analyze_plate(
    plate: PlateReadings, *, layout: Mapping[str, str] | None = None, model: Model = "auto"
) -> T50Analysis:
    """Fit every well of `plate`, read off T50 and summarize the replicates of each sample.

    Parameters
    ----------
    plate : readings from `read_plate`.
    layout : well → sample (`read_layout`); wells of one sample are replicates, wells it leaves
        out (or gives an empty sample) are fitted but not summarized. Without a layout the file's
        own labels are the samples (MARS ``Content``, long ``sample``), and a well without one is
        its own sample.
    model : ``"auto"``, ``"4pl"`` or ``"5pl"`` (see `fit_wells`).

    Raises
    ------
    InputFileError
        When the layout names a well the plate does not have.

    Examples
    --------
    >>> from mgckd.cpp import synthetic_plate
    >>> plate, truth = synthetic_plate(n_samples=4, replicates=3, rng=np.random.default_rng(0))
    >>> result = analyze_plate(plate)
    >>> result.samples[["sample", "n_used", "status"]].head(2).to_string(index=False)
    '  sample  n_used status\\nsample 1       3     ok\\nsample 2       3     ok'
    """
    if layout is not None:
        absent = sorted(set(layout) - set(plate.wells))
        if absent:
            raise InputFileError(
                f"the layout names well(s) the plate has no readings for: {', '.join(absent[:8])}"
                + (f" and {len(absent) - 8} more" if len(absent) > 8 else "")
            )
        sample = tuple(layout.get(w, "") for w in plate.wells)
    else:
        sample = tuple(c or w for w, c in zip(plate.wells, plate.content, strict=True))
    fits = fit_wells(plate.time_min, plate.signal, model=model)
    summary = summarize_replicates(sample, fits, plate.wells)
    wells = fits.to_frame(plate.wells)
    overflow = np.asarray(np.asarray(plate.overflow).any(axis=1), dtype=bool)
    wells["flags"] = [
        ";".join([*filter(None, [flags]), OVERFLOW]) if overflow[i] else flags
        for i, flags in enumerate(wells["flags"])
    ]
    wells.insert(1, "sample", list(sample))
    wells.insert(2, "content", list(plate.content))
    wells["used"] = summary.used
    wells["outlier"] = summary.outlier
    return T50Analysis(
        plate=plate,
        fits=fits,
        sample=sample,
        wells=wells.loc[:, list(WELL_COLUMNS)],
        samples=summary.samples,
        model=model,
    )
