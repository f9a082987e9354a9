"""The analyses of a virtual trial, vectorized over repeated trials.

Every function takes values of shape (repeats, patients) — NaN for patients without a value
(a failed solve) — and each patient's arm (0 reference, 1 treatment), and returns one estimate
(treatment minus reference, or their ratio), a two-sided p-value and a 95 % interval per repeat,
with the statistic of each arm.

- ``welch_t``: difference in means, Welch's t-test and its interval.
- ``ancova``: follow-up regressed on arm and baseline (least squares), the arm coefficient.
- ``median_difference``: difference in medians; p from the Mann-Whitney U test (normal
  approximation with continuity correction; simulated values have no ties); no interval.
- ``logrank``: time to an event on the save grid: Kaplan-Meier medians per arm, their
  difference, the log-rank test.
- ``risk_ratio``: risk per arm, their ratio, Wald interval and test on the log scale (0.5 added
  to every cell of a repeat with an empty one, Haldane).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import stats

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

Z_95 = float(stats.norm.ppf(0.975))
_ARMS = 2


@dataclass(frozen=True, slots=True)
class Analysis:
    """Per repeat: estimate, p-value, 95 % interval, and per arm the statistic and patients.

    Shapes: estimate, p, low, high (R,); arm_statistic, arm_n (R, 2).
    """

    estimate: FloatArray
    p: FloatArray
    low: FloatArray
    high: FloatArray
    arm_statistic: FloatArray
    arm_n: FloatArray


def _split(values: FloatArray, arm: IntArray) -> tuple[FloatArray, FloatArray]:
    """The values of each arm, NaN elsewhere."""
    return np.where(arm == 0, values, np.nan), np.where(arm == 1, values, np.nan)


def _count(values: FloatArray) -> FloatArray:
    out: FloatArray = np.sum(np.isfinite(values), axis=1).astype(np.float64)
    return out


def _mean_var(values: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Per row: mean and sample variance of the finite values (NaN when too few)."""
    n = _count(values)
    with np.errstate(all="ignore"):
        mean = np.nansum(values, axis=1) / n
        var = np.nansum((values - mean[:, None]) ** 2, axis=1) / (n - 1)
    return np.where(n > 0, mean, np.nan), np.where(n > 1, var, np.nan)


def _median(values: FloatArray) -> FloatArray:
    """Per row: median of the finite values (NaN when none)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN row gives NaN
        out: FloatArray = np.nanmedian(values, axis=1)
    return out


def welch_t(values: FloatArray, arm: IntArray) -> Analysis:
    """Difference in means (treatment − reference) with Welch's t-test."""
    x0, x1 = _split(values, arm)
    n0, n1 = _count(x0), _count(x1)
    (m0, var0), (m1, var1) = _mean_var(x0), _mean_var(x1)
    with np.errstate(all="ignore"):
        v0, v1 = var0 / n0, var1 / n1
        se = np.sqrt(v0 + v1)
        df = (v0 + v1) ** 2 / (v0**2 / (n0 - 1) + v1**2 / (n1 - 1))
        estimate = m1 - m0
        t = estimate / se
    p = 2.0 * stats.t.sf(np.abs(t), df)
    half = stats.t.ppf(0.975, df) * se
    return Analysis(
        estimate, p, estimate - half, estimate + half, np.stack([m0, m1], 1), np.stack([n0, n1], 1)
    )


def ancova(follow_up: FloatArray, baseline: FloatArray, arm: IntArray) -> Analysis:
    """The arm coefficient of follow_up ~ 1 + arm + baseline, per repeat (least squares)."""
    weight = (np.isfinite(follow_up) & np.isfinite(baseline)).astype(np.float64)
    y = np.nan_to_num(follow_up)
    design = np.stack([np.ones_like(y), arm.astype(np.float64), np.nan_to_num(baseline)], -1)
    weighted = design * weight[..., None]
    with np.errstate(all="ignore"):
        gram = np.einsum("rni,rnj->rij", weighted, design)
        inverse = np.linalg.inv(gram)
        beta = np.einsum("rij,rj->ri", inverse, np.einsum("rni,rn->ri", weighted, y))
        residual = (y - np.einsum("rni,ri->rn", design, beta)) * weight
        n = weight.sum(axis=1)
        df = n - design.shape[-1]
        sigma2 = np.sum(residual**2, axis=1) / df
        se = np.sqrt(sigma2 * inverse[:, 1, 1])
        t = beta[:, 1] / se
    p = 2.0 * stats.t.sf(np.abs(t), df)
    half = stats.t.ppf(0.975, df) * se
    means = welch_t(follow_up, arm)
    return Analysis(
        beta[:, 1], p, beta[:, 1] - half, beta[:, 1] + half, means.arm_statistic, means.arm_n
    )


def median_difference(values: FloatArray, arm: IntArray) -> Analysis:
    """Difference in medians; p-value of the Mann-Whitney U test (normal approximation)."""
    x0, x1 = _split(values, arm)
    n0, n1 = _count(x0), _count(x1)
    with np.errstate(all="ignore"):
        med0, med1 = _median(x0), _median(x1)
        ranks = stats.rankdata(values, axis=1, nan_policy="omit")
        u1 = np.nansum(np.where(arm == 1, ranks, np.nan), axis=1) - n1 * (n1 + 1) / 2
        mean_u = n0 * n1 / 2
        sd_u = np.sqrt(n0 * n1 * (n0 + n1 + 1) / 12)
        z = (np.abs(u1 - mean_u) - 0.5) / sd_u
    p = np.minimum(1.0, 2.0 * stats.norm.sf(z))
    nan = np.full(p.shape, np.nan)
    return Analysis(med1 - med0, p, nan, nan, np.stack([med0, med1], 1), np.stack([n0, n1], 1))


def _km_median(grid: FloatArray, events: FloatArray, at_risk: FloatArray) -> FloatArray:
    """Kaplan-Meier median on the grid, (R,); NaN when survival never reaches 0.5."""
    with np.errstate(all="ignore"):
        survival = np.cumprod(1.0 - np.where(at_risk > 0, events / at_risk, 0.0), axis=-1)
    reached = survival <= 0.5
    first = np.argmax(reached, axis=-1)
    out: FloatArray = np.where(reached.any(axis=-1), grid[first], np.nan)
    return out


def logrank(
    time: FloatArray, event: NDArray[np.bool_], arm: IntArray, grid: FloatArray
) -> Analysis:
    """Kaplan-Meier medians per arm (their difference) and the log-rank test.

    `time` is each patient's event or censoring time on `grid` (NaN: no value); `event` True
    where the event happened.
    """
    valid = np.isfinite(time)
    at_time = (time[..., None] == grid) & valid[..., None]  # (R, n, K)
    still = (time[..., None] >= grid) & valid[..., None]
    happened = at_time & event[..., None]
    d = np.stack([np.sum(happened & (arm == a)[..., None], axis=1) for a in range(_ARMS)], 1)
    r = np.stack([np.sum(still & (arm == a)[..., None], axis=1) for a in range(_ARMS)], 1)
    d, r = d.astype(np.float64), r.astype(np.float64)  # (R, 2, K)
    medians = _km_median(grid, d, r)  # (R, 2)
    total_d, total_r = d.sum(axis=1), r.sum(axis=1)
    with np.errstate(all="ignore"):
        expected = np.where(total_r > 0, total_d * r[:, 1] / total_r, 0.0)
        variance = np.where(
            total_r > 1,
            total_d * r[:, 1] * r[:, 0] * (total_r - total_d) / (total_r**2 * (total_r - 1)),
            0.0,
        )
        chi2 = (d[:, 1].sum(-1) - expected.sum(-1)) ** 2 / variance.sum(-1)
    p = stats.chi2.sf(chi2, 1)
    nan = np.full(p.shape, np.nan)
    n_arm = np.stack([np.sum(valid & (arm == a), axis=1) for a in range(_ARMS)], 1)
    return Analysis(medians[:, 1] - medians[:, 0], p, nan, nan, medians, n_arm.astype(float))


def risk_ratio(event: FloatArray, arm: IntArray) -> Analysis:
    """Risk per arm, their ratio with a Wald interval and test on the log scale.

    `event` is 1 (event), 0 (none) or NaN (no value)."""
    x0, x1 = _split(event, arm)
    n0, n1 = _count(x0), _count(x1)
    e0, e1 = np.nansum(x0, axis=1), np.nansum(x1, axis=1)
    empty = (e0 == 0) | (e1 == 0) | (e0 == n0) | (e1 == n1)
    add = np.where(empty, 0.5, 0.0)
    a, b = e1 + add, e0 + add
    m1, m0 = n1 + 2 * add, n0 + 2 * add
    with np.errstate(all="ignore"):
        log_rr = np.log((a / m1) / (b / m0))
        se = np.sqrt(1 / a - 1 / m1 + 1 / b - 1 / m0)
    p = 2.0 * stats.norm.sf(np.abs(log_rr / se))
    return Analysis(
        np.exp(log_rr),
        p,
        np.exp(log_rr - Z_95 * se),
        np.exp(log_rr + Z_95 * se),
        np.stack([e0 / n0, e1 / n1], 1),
        np.stack([n0, n1], 1),
    )
