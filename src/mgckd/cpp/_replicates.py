"""Replicate wells → one T50 per sample: mean, SD, CV, an outlier rule and honest censoring."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mgckd.cpp._curves import (
    CENSORED,
    EXCLUDED,
    FAILED,
    FLAGGED,
    OK,
    FloatArray,
    WellFits,
    registry_rules,
)

BoolArray = NDArray[np.bool_]
_PERCENT = 100.0

# Sample status, from the rules of docs/t50.md#replicates.
SAMPLE_OK = "ok"
SAMPLE_SINGLE = "single_well"  # one usable well: no SD
SAMPLE_DISAGREE = "replicates_disagree"  # no consensus: two wells apart, or no single outlier
SAMPLE_CENSORED = "censored"  # every well without a T50 is censored: T50 > last reading
SAMPLE_PARTLY_CENSORED = "partly_censored"  # some wells censored: the mean is a lower bound
SAMPLE_NO_WELL = "no_usable_well"

SAMPLE_COLUMNS = (
    "sample",
    "wells",
    "n_wells",
    "n_used",
    "n_censored",
    "n_excluded",
    "outlier_wells",
    "t50_mean_min",
    "t50_sd_min",
    "t50_cv_percent",
    "t50_median_min",
    "t50_lower_bound_min",
    "censored",
    "status",
    "t50_report",
    "well_flags",
)


@dataclass(frozen=True)
class ReplicateRules:
    """The outlier rule's thresholds (``t50_outlier_*`` in the registry's ``cpp.toml``)."""

    outlier_fraction: float
    outlier_floor_min: float

    @classmethod
    def from_registry(cls) -> ReplicateRules:
        """The registry's values."""
        return registry_rules(cls)


@dataclass(frozen=True)
class ReplicateSummary:
    """Per-sample T50 statistics and, per well, whether it entered them.

    Attributes
    ----------
    samples : one row per sample, columns `SAMPLE_COLUMNS` (docs/t50.md#outputs).
    used : per well, True when its T50 entered the sample mean.
    outlier : per well, True when the outlier rule set it aside.
    """

    samples: pd.DataFrame
    used: BoolArray
    outlier: BoolArray


def summarize_replicates(
    sample: Sequence[str], fits: WellFits, wells: Sequence[str]
) -> ReplicateSummary:
    """Combine the replicate wells of each sample (wells with the same `sample` label).

    Parameters
    ----------
    sample : per well, its sample label; ``""`` leaves the well out of the summary.
    fits : the wells' fits (`fit_wells`), in the same order.
    wells : the well labels, same order.

    Notes
    -----
    Wells whose status is ok or flagged carry an observed T50; censored wells say only
    T50 > last reading; excluded and failed wells are counted but not used. Among observed T50s of
    n >= 3 wells, the well farthest from the median of the *other* wells is an outlier when that
    distance exceeds max(``t50_outlier_floor_min``, ``t50_outlier_fraction`` × that median) and the
    remaining wells then all pass the same test; if they do not, no well is set aside and the
    sample is ``replicates_disagree``. Two wells that fail the test against each other also
    disagree (neither is set aside). A sample with a censored well gets no mean (its mean is not
    estimable): ``t50_lower_bound_min`` is the mean with each censored well at the last reading,
    a lower bound of the true mean, and ``t50_report`` reads ``> bound``.
    """
    rules = ReplicateRules.from_registry()
    labels = np.asarray(sample, dtype=object)
    rows = np.flatnonzero(labels != "")
    used = np.zeros(len(labels), dtype=bool)
    outlier = np.zeros(len(labels), dtype=bool)
    if not rows.size:
        return ReplicateSummary(pd.DataFrame(columns=list(SAMPLE_COLUMNS)), used, outlier)
    codes, names = pd.factorize(labels[rows])
    n_samples = len(names)
    status = fits.status[rows]
    observed = np.isin(status, [OK, FLAGGED])
    position = pd.Series(codes).groupby(codes).cumcount().to_numpy()
    t50 = np.full((n_samples, position.max() + 1), np.nan)
    t50[codes, position] = np.where(observed, fits.t50_min[rows], np.nan)

    deviant, consistent = _deviation(t50, rules)
    count = np.isfinite(t50).sum(axis=1)
    farthest = np.argmax(np.where(np.isfinite(deviant), deviant, -np.inf), axis=1)
    exceeds = np.take_along_axis(deviant, farthest[:, None], axis=1)[:, 0] > 1.0
    kept = t50.copy()
    set_aside = exceeds & (count >= 3)
    kept[np.flatnonzero(set_aside), farthest[set_aside]] = np.nan
    _, rest_consistent = _deviation(kept, rules)
    is_outlier = set_aside & rest_consistent
    disagree = (set_aside & ~rest_consistent) | ((count == 2) & ~consistent)
    kept = np.where(is_outlier[:, None], kept, t50)

    well_outlier = is_outlier[codes] & (position == farthest[codes])
    outlier[rows] = well_outlier
    used[rows] = observed & ~well_outlier
    frame = _sample_frame(
        names=[str(n) for n in names],
        kept=kept,
        codes=codes,
        wells=np.asarray(wells, dtype=object)[rows],
        status=status,
        flags=[fits.flags[i] for i in rows],
        outlier=well_outlier,
        disagree=disagree,
        t_end=fits.t_end_min,
    )
    return ReplicateSummary(frame, used, outlier)


def _deviation(t50: FloatArray, rules: ReplicateRules) -> tuple[FloatArray, BoolArray]:
    """Each T50's distance from the median of its sample's other T50s, in units of the
    threshold (> 1 fails); and per sample whether every T50 passes."""
    width = t50.shape[1]
    others = np.repeat(t50[:, None, :], width, axis=1)
    others[:, np.arange(width), np.arange(width)] = np.nan
    has_other = np.asarray(np.isfinite(others).any(axis=2), dtype=bool)
    filled = np.where(has_other[..., None], others, 0.0)
    with np.errstate(invalid="ignore"):
        median = np.where(has_other, np.nanmedian(filled, axis=2), np.nan)
        threshold = np.maximum(rules.outlier_floor_min, rules.outlier_fraction * median)
        deviant = np.abs(t50 - median) / threshold
    consistent = ~(np.where(np.isfinite(deviant), deviant, 0.0) > 1.0).any(axis=1)
    return deviant, np.asarray(consistent, dtype=bool)


def _sample_frame(
    *,
    names: list[str],
    kept: FloatArray,
    codes: NDArray[np.intp],
    wells: NDArray[np.object_],
    status: NDArray[np.str_],
    flags: list[tuple[str, ...]],
    outlier: BoolArray,
    disagree: BoolArray,
    t_end: float,
) -> pd.DataFrame:
    n_samples = len(names)
    n_used = np.isfinite(kept).sum(axis=1)
    n_censored = np.bincount(codes, status == CENSORED, n_samples).astype(int)
    n_excluded = np.bincount(codes, np.isin(status, [EXCLUDED, FAILED]), n_samples).astype(int)
    total = np.where(np.isfinite(kept), kept, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n_used > 0, total / np.maximum(n_used, 1), np.nan)
        spread = np.where(np.isfinite(kept), (kept - mean[:, None]) ** 2, 0.0).sum(axis=1)
        sd = np.where(n_used > 1, np.sqrt(spread / np.maximum(n_used - 1, 1)), np.nan)
        lower = (total + n_censored * t_end) / (n_used + n_censored)
    median = np.full(n_samples, np.nan)
    any_used = n_used > 0
    median[any_used] = np.nanmedian(kept[any_used], axis=1)
    censored = n_censored > 0
    sample_status = np.select(
        [
            censored & (n_used == 0),
            censored,
            n_used == 0,
            disagree,
            n_used == 1,
        ],
        [SAMPLE_CENSORED, SAMPLE_PARTLY_CENSORED, SAMPLE_NO_WELL, SAMPLE_DISAGREE, SAMPLE_SINGLE],
        SAMPLE_OK,
    )
    per_well = pd.DataFrame(
        {
            "code": codes,
            "well": wells,
            "outlier": np.where(outlier, wells, ""),
            "flag": [list(f) for f in flags],
        }
    )
    grouped = per_well.groupby("code", sort=True)
    well_lists = grouped["well"].agg(";".join).reindex(range(n_samples))
    outliers = grouped["outlier"].agg(lambda w: ";".join(x for x in w if x))
    exploded = per_well.explode("flag").dropna(subset=["flag"])
    flag_lists = (
        exploded.groupby("code")["flag"]
        .agg(lambda f: ";".join(sorted(set(f))))
        .reindex(range(n_samples), fill_value="")
    )
    frame = pd.DataFrame(
        {
            "sample": names,
            "wells": well_lists.to_numpy(),
            "n_wells": np.bincount(codes, minlength=n_samples),
            "n_used": n_used,
            "n_censored": n_censored,
            "n_excluded": n_excluded,
            "outlier_wells": outliers.to_numpy(),
            "t50_mean_min": np.where(censored, np.nan, mean),
            "t50_sd_min": np.where(censored, np.nan, sd),
            "t50_cv_percent": np.where(censored, np.nan, _PERCENT * sd / mean),
            "t50_median_min": np.where(censored, np.nan, median),
            "t50_lower_bound_min": np.where(censored, lower, np.nan),
            "censored": censored,
            "status": sample_status,
            "well_flags": flag_lists.to_numpy(),
        }
    )
    frame.insert(SAMPLE_COLUMNS.index("t50_report"), "t50_report", _reports(frame, t_end=t_end))
    return frame.loc[:, list(SAMPLE_COLUMNS)]


def _reports(frame: pd.DataFrame, *, t_end: float) -> list[str]:
    """``"331.2 ± 4.1"`` (SD), ``"331.2"`` (one well), ``"> 600"``, ``"> 512.3"``, or why none."""
    mean, sd, lower = (
        frame[c].to_numpy() for c in ("t50_mean_min", "t50_sd_min", "t50_lower_bound_min")
    )
    status = frame["status"].to_numpy()
    reports = np.select(
        [
            status == SAMPLE_CENSORED,
            status == SAMPLE_PARTLY_CENSORED,
            status == SAMPLE_NO_WELL,
            np.isfinite(sd),
        ],
        [
            np.full(len(frame), f"> {t_end:g}"),
            np.char.add("> ", np.char.mod("%.1f", lower)),
            np.full(len(frame), "no usable well"),
            np.char.add(np.char.add(np.char.mod("%.1f", mean), " ± "), np.char.mod("%.1f", sd)),
        ],
        np.char.mod("%.1f", mean),
    )
    return [str(report) for report in reports]
