"""T50 curves: 4PL/5PL sigmoid fits of nephelometry readings, all wells at once, with QC flags.

This module is the one place that turns a time course of light scattering into a T50. The plate
analyzer (`analyze_plate`) and the in-silico T50 test both call `fit_wells`, so a simulated curve
is read exactly as a measured one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Literal, TypeVar, get_args

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats

from mgckd.exceptions import UserInputError
from mgckd.params import parameters

FloatArray = NDArray[np.float64]
Rules = TypeVar("Rules")
BoolArray = NDArray[np.bool_]
Model = Literal["auto", "4pl", "5pl"]
MODELS: tuple[str, ...] = get_args(Model)

# Well status, from worst to best: what a well's T50 may be used for.
FAILED = "failed"  # no estimate (too few readings, constant signal): t50_min is NaN
EXCLUDED = "excluded"  # an estimate exists but is not trusted (poor fit, ...): not summarized
CENSORED = "censored"  # no half-way transition before the last reading: T50 > t50_min
FLAGGED = "flagged"  # T50 observed, with warnings (noisy, non_monotone, ...)
OK = "ok"
STATUSES = (FAILED, EXCLUDED, CENSORED, FLAGGED, OK)

# Flags and the status they impose (a warning flag leaves the status at `flagged`).
FAILURE_FLAGS = ("failed:too_few_readings", "failed:constant_signal")
CENSORING_FLAGS = ("no_transition", "transition_incomplete")
EXCLUSION_FLAGS = ("poor_fit", "decreasing_signal", "early_transition", "not_converged")
WARNING_FLAGS = (
    "noisy",
    "non_monotone",
    "no_lower_plateau",
    "no_upper_plateau",
    "spikes",
    "missing_readings",
)

# Levenberg–Marquardt settings (numerics, not model choices). The fit runs on time scaled to
# [0, 1] over the read and each well's signal scaled to [0, 1] over its own range.
_MAX_ITERATIONS = 100  # good starts converge in about 25; flat wells wander to the box
_LAMBDA_START = 1e-3
_LAMBDA_STEP = 10.0
_LAMBDA_GIVE_UP = 1e12  # no step improves the cost even this damped: a minimum to precision
_COST_RTOL = 1e-10  # relative cost change below which a well has converged
_STALL_ITERATIONS = 10  # ... or when the cost fell by less than _STALL_RTOL over this many
_STALL_RTOL = 1e-6  # iterations (a flat well's sigmoid crawling along a ridge of noise)
_STEP_ATOL = 1e-10  # or a largest parameter step below this (scaled units)
_DIAGONAL_FLOOR = 1e-12  # Marquardt scaling for parameters the data do not inform
_F_TEST_FLOOR = 1e-10  # RSS gains below this fraction of the total sum of squares are round-off
# Parameter box in scaled units: plateaus within ten ranges of the readings; half-way between -1
# and 4 read lengths; rate constant between 0.5 and 5000 per read length; asymmetry 1/20 to 20.
# A flat well's fit runs into the box (its sigmoid fits noise) and stops there.
_PLATEAU_RANGE = (-10.0, 11.0)  # plateaus within ten observed ranges of the readings
_MIDPOINT_RANGE = (-1.0, 4.0)
_LOG_RATE_RANGE = (math.log(0.5), math.log(5000.0))
_LOG_ASYMMETRY_RANGE = (math.log(0.05), math.log(20.0))
_LOWER, _UPPER = np.array(
    [_PLATEAU_RANGE, _PLATEAU_RANGE, _MIDPOINT_RANGE, _LOG_RATE_RANGE, _LOG_ASYMMETRY_RANGE]
).T
_PLATEAU_FRACTION = 0.1  # first / last 10 % of readings: the initial plateau guesses
_MIN_PLATEAU_READINGS = 3
_RISE_10_90 = math.log(81.0)  # (t90 - t10) * slope of a logistic
# Robust noise SD from second differences d2 = y[i+1] - 2 y[i] + y[i-1] of white noise: var 6 s².
_SECOND_DIFFERENCE_VARIANCE = 6.0
_MAD_TO_SD = 1.482602218505602  # 1 / Phi^-1(3/4)
_MEAN_ABS_TO_SD = math.sqrt(math.pi / 2.0)

_N_4PL = 4
_N_5PL = 5


def registry_rules(cls: type[Rules]) -> Rules:
    """A frozen rules dataclass filled from the registry: field ``x`` is parameter ``t50_x``.

    Fields ending in ``_min`` are read in minutes, others as dimensionless numbers; ``int``
    fields are rounded.
    """
    p = parameters()
    values: dict[str, float | int] = {}
    for field in fields(cls):  # type: ignore[arg-type]
        value = p[f"t50_{field.name}"].to("min" if field.name.endswith("_min") else "1")
        values[field.name] = round(value) if field.type in (int, "int") else value
    return cls(**values)


@dataclass(frozen=True)
class QualityRules:
    """The QC thresholds of `fit_wells`, from the parameter registry (``t50_*`` in ``cpp.toml``;
    meaning and reasoning in docs/t50.md#quality-control)."""

    min_readings: int
    smoothing_window_readings: int
    spike_snr: float
    min_rise_snr: float
    noisy_fraction: float
    min_r_squared: float
    non_monotone_drop_fraction: float
    plateau_fraction: float
    model_selection_alpha: float
    transition_alpha: float

    @classmethod
    def from_registry(cls) -> QualityRules:
        """The registry's values."""
        return registry_rules(cls)


@dataclass(frozen=True)
class WellFits:
    """Per-well sigmoid fits of one plate (arrays of length n_wells, in the wells' order).

    Attributes
    ----------
    t50_min : T50, min: the time at which the fitted curve is half-way between its fitted lower
        (``bottom``) and upper (``top``) plateau, i.e. y(T50) = (bottom + top) / 2. For the 4PL
        this is its midpoint; for the 5PL it is *not* the inflection point. Right-censored wells
        (``censored``) hold the last reading's time: their T50 is greater than this. Failed wells
        hold NaN (their flags say why).
    t50_se_min : standard error of T50 from the fit's covariance, min (NaN when censored or failed).
    bottom, top : fitted lower and upper plateau, signal units (e.g. RNU).
    slope : rate constant of the logistic, 1/min (see `t50_curve`); the steepest rise is
        about (top - bottom) * slope / 4 per min.
    asymmetry : the 5PL exponent; exactly 1 for 4PL fits.
    model : ``"4pl"`` or ``"5pl"``, the model reported for each well.
    r_squared : coefficient of determination of the reported fit over the finite readings.
    rmse : root-mean-square residual of the reported fit, signal units.
    noise_sd : model-free noise SD from second differences of the readings, signal units.
    n_readings : finite readings per well.
    censored : True when the curve does not pass half-way before the last reading (no
        transition, or one still under way): right-censored, T50 > ``t50_min``.
    status : per well, one of failed, excluded, censored, flagged, ok (see docs/t50.md).
    flags : per well, the QC flags raised (a tuple of names; empty when none).
    t_start_min, t_end_min : first and last reading time, min.
    t50_fit_min : the fitted curve's own half-way time, min, also where it lies beyond the read
        (censored wells) or is not trusted (excluded wells); NaN for failed wells.
    """

    t50_min: FloatArray
    t50_se_min: FloatArray
    bottom: FloatArray
    top: FloatArray
    slope: FloatArray
    asymmetry: FloatArray
    model: NDArray[np.str_]
    r_squared: FloatArray
    rmse: FloatArray
    noise_sd: FloatArray
    n_readings: NDArray[np.int64]
    censored: BoolArray
    status: NDArray[np.str_]
    flags: tuple[tuple[str, ...], ...]
    t_start_min: float
    t_end_min: float
    t50_fit_min: FloatArray

    def __len__(self) -> int:
        return int(self.t50_min.size)

    @property
    def t50_report(self) -> list[str]:
        """T50 per well as text: ``"312.4"``, ``"> 600"`` (censored), ``excluded``, ``failed``."""
        return [
            status if status in (FAILED, EXCLUDED) else (f"> {t:g}" if c else f"{t:.1f}")
            for t, c, status in zip(
                self.t50_min.tolist(), self.censored.tolist(), self.status.tolist(), strict=True
            )
        ]

    def predict(self, time_min: FloatArray) -> FloatArray:
        """The fitted curves at `time_min`, shape (n_wells, len(time_min)), signal units."""
        return t50_curve(
            np.asarray(time_min, dtype=np.float64)[None, :],
            t50_min=self.t50_fit_min[:, None],
            bottom=self.bottom[:, None],
            top=self.top[:, None],
            slope_per_min=self.slope[:, None],
            asymmetry=self.asymmetry[:, None],
        )

    def to_frame(self, wells: list[str] | tuple[str, ...] | None = None) -> pd.DataFrame:
        """One row per well (named by `wells` when given), columns with units in their names."""
        frame = pd.DataFrame(
            {
                "t50_min": self.t50_min,
                "censored": self.censored,
                "t50_report": self.t50_report,
                "t50_se_min": self.t50_se_min,
                "status": self.status,
                "flags": [";".join(f) for f in self.flags],
                "model": self.model,
                "bottom": self.bottom,
                "top": self.top,
                "slope_per_min": self.slope,
                "asymmetry": self.asymmetry,
                "r_squared": self.r_squared,
                "rmse": self.rmse,
                "noise_sd": self.noise_sd,
                "n_readings": self.n_readings,
            }
        )
        if wells is not None:
            frame.insert(0, "well", list(wells))
        return frame


def t50_curve(
    time_min: FloatArray | float,
    *,
    t50_min: FloatArray | float,
    bottom: FloatArray | float,
    top: FloatArray | float,
    slope_per_min: FloatArray | float,
    asymmetry: FloatArray | float = 1.0,
) -> FloatArray:
    """The 4PL (``asymmetry=1``) or 5PL sigmoid in time, parametrized by its T50 (broadcasting).

    Notes
    -----
    y(t) = bottom + (top - bottom) / (1 + exp(-k (t - t_c)))^s, with k = `slope_per_min`,
    s = `asymmetry` and t_c = T50 + ln(2^(1/s) - 1) / k, so that y(T50) = (bottom + top) / 2.
    With s = 1, t_c = T50 and this is the four-parameter logistic (Boltzmann) in linear time.

    Examples
    --------
    >>> float(t50_curve(300.0, t50_min=300.0, bottom=100.0, top=900.0, slope_per_min=0.05,
    ...                 asymmetry=2.5))
    500.0
    """
    s = np.asarray(asymmetry, dtype=np.float64)
    k = np.asarray(slope_per_min, dtype=np.float64)
    with np.errstate(invalid="ignore"):  # NaN parameters (a failed fit) give NaN, quietly
        u = -k * (np.asarray(time_min, dtype=np.float64) - t50_min) + np.log(2.0 ** (1.0 / s) - 1.0)
        fraction = np.exp(-s * np.logaddexp(0.0, u))
    return np.asarray(bottom + (np.asarray(top) - bottom) * fraction, dtype=np.float64)


def fit_wells(time_min: FloatArray, signal: FloatArray, *, model: Model = "auto") -> WellFits:
    """Fit a 4PL or 5PL sigmoid to every well's readings at once and read off T50, with QC.

    Parameters
    ----------
    time_min : shape (n_t,), strictly increasing reading times, min.
    signal : shape (n_wells, n_t), readings in any signal unit (nephelometry RNU, counts). NaN
        marks a missing reading (e.g. an overflow); the well is fitted on the others and flagged
        ``missing_readings``. A single reading farther than ``t50_spike_snr`` noise SDs from the
        running median (a bubble, dust) is left out of the fit and the well flagged ``spikes``.
    model : ``"4pl"``, ``"5pl"`` or ``"auto"``: fit both and report the 5PL when the extra
        asymmetry parameter improves the fit significantly by the extra-sum-of-squares F test,
        F = (RSS_4 - RSS_5) / (RSS_5 / (n - 5)) on (1, n - 5) degrees of freedom, P below
        ``t50_model_selection_alpha`` (0.01, registry); otherwise the 4PL.

    Returns
    -------
    WellFits
        T50 (min) and fit per well, with status and flags. T50 is the time at which the fitted
        curve is half-way between its fitted plateaus (see `WellFits`); a well whose curve does
        not pass half-way within the read is right-censored (``censored``, T50 > last reading).

    Notes
    -----
    All wells are fitted together by a batched Levenberg–Marquardt iteration (analytic Jacobian,
    Marquardt scaling, per-well damping and convergence), on time scaled to the read and each
    well's signal scaled to its own range. Initial guesses come from the data: plateaus from the
    running median of the first and last tenth of the readings (upper: the running-median
    maximum), T50 from the first crossing of half-height, the slope from the 10 %-90 % rise time.
    The 5PL starts from the 4PL solution. Wells are independent: fitting a plate gives the same
    numbers as fitting each well alone. QC rules and thresholds: docs/t50.md#quality-control.

    Raises
    ------
    UserInputError
        When the times are not finite and strictly increasing, the shapes disagree, a reading is
        infinite, or `model` is unknown.

    Examples
    --------
    >>> t = np.linspace(0.0, 600.0, 121)
    >>> y = t50_curve(t, t50_min=320.0, bottom=1000.0, top=9000.0, slope_per_min=0.04)
    >>> fits = fit_wells(t, y[None, :])
    >>> round(float(fits.t50_min[0]), 3), str(fits.status[0]), bool(fits.censored[0])
    (320.0, 'ok', False)
    """
    times, readings = _checked(time_min, signal, model)
    rules = QualityRules.from_registry()
    span_min = float(times[-1] - times[0])
    tau = (times - times[0]) / span_min
    finite = np.isfinite(readings)
    n_readings = finite.sum(axis=1)
    low = np.where(finite, readings, np.inf).min(axis=1)
    high = np.where(finite, readings, -np.inf).max(axis=1)
    failed = np.full(len(readings), "", dtype=object)
    failed[n_readings < rules.min_readings] = FAILURE_FLAGS[0]
    failed[(failed == "") & ~(high > low)] = FAILURE_FLAGS[1]
    fit = failed == ""
    scale = np.where(fit, high - low, 1.0)
    offset = np.where(fit, low, 0.0)
    z = np.where(finite & fit[:, None], (readings - offset[:, None]) / scale[:, None], 0.0)
    shape = _shape_measures(tau, z, finite & fit[:, None], rules)
    spikes = (
        finite
        & fit[:, None]
        & (np.abs(z - shape.smooth) > rules.spike_snr * shape.noise[:, None])
        & (shape.noise[:, None] > 0)
    )
    weight = (finite & fit[:, None] & ~spikes).astype(np.float64)
    theta0 = _initial_guess(tau, shape)
    rows = np.flatnonzero(fit)
    theta = np.full((len(readings), _N_5PL), np.nan)
    rss = np.full(len(readings), np.nan)
    covariance = np.full((len(readings), _N_5PL, _N_5PL), np.nan)
    converged = np.zeros(len(readings), dtype=bool)
    chosen_5pl = np.zeros(len(readings), dtype=bool)
    if rows.size:
        fit4 = _levenberg_marquardt(tau, z[rows], weight[rows], theta0[rows], _N_4PL)
        theta[rows], rss[rows], converged[rows] = fit4.theta, fit4.rss, fit4.converged
        covariance[rows, :_N_4PL, :_N_4PL] = fit4.covariance
        if model != "4pl":
            fit5 = _levenberg_marquardt(tau, z[rows], weight[rows], fit4.theta, _N_5PL)
            use5 = (
                np.ones(rows.size, dtype=bool)
                if model == "5pl"
                else _prefers_5pl(fit4.rss, fit5.rss, z[rows], weight[rows], rules)
            )
            pick = rows[use5]
            theta[pick], rss[pick], converged[pick] = (
                fit5.theta[use5],
                fit5.rss[use5],
                fit5.converged[use5],
            )
            covariance[pick] = fit5.covariance[use5]
            chosen_5pl[pick] = True

    return _assemble(
        times=times,
        theta=theta,
        rss=rss,
        covariance=covariance,
        converged=converged,
        chosen_5pl=chosen_5pl,
        z=z,
        weight=weight,
        scale=scale,
        offset=offset,
        shape=shape,
        failed=failed,
        n_readings=n_readings,
        missing=np.asarray((~finite).any(axis=1), dtype=bool),
        spikes=np.asarray(spikes.any(axis=1), dtype=bool),
        rules=rules,
    )


def _checked(time_min: FloatArray, signal: FloatArray, model: str) -> tuple[FloatArray, FloatArray]:
    if model not in MODELS:
        raise UserInputError(f"model {model!r} is not one of {', '.join(MODELS)}")
    times = np.asarray(time_min, dtype=np.float64)
    readings = np.asarray(signal, dtype=np.float64)
    if times.ndim != 1 or times.size < 2:
        raise UserInputError(f"time_min must be 1-D with at least 2 times, got shape {times.shape}")
    if readings.ndim != 2 or readings.shape[1] != times.size:
        raise UserInputError(
            f"signal must have shape (n_wells, {times.size}) to match time_min, got "
            f"{readings.shape}"
        )
    if not np.isfinite(times).all():
        raise UserInputError(
            f"time_min holds a non-finite time at index {_first(~np.isfinite(times))}"
        )
    if not (np.diff(times) > 0).all():
        raise UserInputError(
            f"time_min must be strictly increasing; index {_first(np.diff(times) <= 0) + 1} is not"
        )
    if np.isinf(readings).any():
        well, reading = np.argwhere(np.isinf(readings))[0]
        raise UserInputError(
            f"signal[{well}, {reading}] is infinite; use NaN for a missing reading"
        )
    return times, readings


def _first(mask: NDArray[np.bool_]) -> int:
    return int(np.flatnonzero(mask)[0])


# --- model-free measures of each curve ----------------------------------------------------------


@dataclass(frozen=True)
class _Shape:
    """Model-free measures of each well's scaled readings (z in [0, 1])."""

    smooth: FloatArray  # running median, NaN where a window holds no reading
    early: FloatArray  # median of the first readings' running median
    peak: FloatArray  # running-median maximum
    rise: FloatArray  # largest increase of the running median (a later minus an earlier value)
    drop: FloatArray  # largest decrease of the running median (below its running maximum)
    noise: FloatArray  # noise SD from second differences of the readings


def _shape_measures(
    tau: FloatArray, z: FloatArray, finite: BoolArray, rules: QualityRules
) -> _Shape:
    values = np.where(finite, z, np.nan)
    half = rules.smoothing_window_readings // 2
    padded = np.pad(_fill_gaps(tau, values), ((0, 0), (half, half)), mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(
        padded, rules.smoothing_window_readings, axis=1
    )
    has_any = np.asarray(finite.any(axis=1), dtype=bool)
    smooth = np.where(has_any[:, None], np.median(windows, axis=2), np.nan)
    k = max(_MIN_PLATEAU_READINGS, round(_PLATEAU_FRACTION * z.shape[1]))
    known = ~np.isnan(smooth)
    running_max = np.maximum.accumulate(np.where(known, smooth, -np.inf), axis=1)
    running_min = np.minimum.accumulate(np.where(known, smooth, np.inf), axis=1)
    return _Shape(
        smooth=smooth,
        early=_nan_median(smooth[:, :k], axis=1),
        peak=np.where(known, smooth, -np.inf).max(axis=1),
        rise=np.where(known, smooth - running_min, 0.0).max(axis=1),
        drop=np.where(known, running_max - smooth, 0.0).max(axis=1),
        noise=_noise_sd(values),
    )


def _fill_gaps(tau: FloatArray, values: FloatArray) -> FloatArray:
    """Missing readings linearly interpolated in time (the nearest reading at either end)."""
    known = ~np.isnan(values)
    index = np.arange(values.shape[1])
    previous = np.maximum.accumulate(np.where(known, index, -1), axis=1)
    following = np.minimum.accumulate(np.where(known, index, index.size)[:, ::-1], axis=1)[:, ::-1]
    previous = np.where(previous < 0, following, previous)
    following = np.where(following >= index.size, previous, following)
    previous, following = (
        np.clip(previous, 0, index.size - 1),
        np.clip(following, 0, index.size - 1),
    )
    rows = np.arange(len(values))[:, None]
    before, after = values[rows, previous], values[rows, following]
    span = tau[following] - tau[previous]
    with np.errstate(invalid="ignore", divide="ignore"):
        weight = np.where(span > 0, (tau[None, :] - tau[previous]) / span, 0.0)
    filled = before + weight * (after - before)
    return np.where(known, values, np.nan_to_num(filled))


def _noise_sd(values: FloatArray) -> FloatArray:
    """Noise SD per well from second differences (which cancel a smooth trend), robustly.

    1.4826 MAD of the second differences over sqrt(6); where more than half of them are equal
    (quantized, flat readings) the MAD is 0 and the mean absolute deviation stands in.
    """
    second = values[:, 2:] - 2.0 * values[:, 1:-1] + values[:, :-2]
    centred = np.abs(second - _nan_median(second, axis=1)[:, None])
    mad = _MAD_TO_SD * _nan_median(centred, axis=1)
    mean = _MEAN_ABS_TO_SD * _nan_mean(centred, axis=1)
    return np.where(mad > 0, mad, mean) / math.sqrt(_SECOND_DIFFERENCE_VARIANCE)


def _nan_median(values: FloatArray, axis: int) -> FloatArray:
    """Median ignoring NaN (NaN where a slice has none); np.median's fast path when none."""
    if not np.isnan(values).any():
        return np.asarray(np.median(values, axis=axis), dtype=np.float64)
    empty = np.isnan(values).all(axis=axis)
    filled = np.where(np.expand_dims(empty, axis), 0.0, values)
    return np.where(empty, np.nan, np.nanmedian(filled, axis=axis))


def _nan_mean(values: FloatArray, axis: int) -> FloatArray:
    count = np.isfinite(values).sum(axis=axis)
    total = np.where(np.isfinite(values), values, 0.0).sum(axis=axis)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _crossing(tau: FloatArray, smooth: FloatArray, level: FloatArray) -> FloatArray:
    """First time (scaled) the running median reaches `level`, interpolated; NaN if never."""
    above = np.where(np.isnan(smooth), False, smooth >= level[:, None])
    index = above.argmax(axis=1)
    reached = above.any(axis=1)
    rows = np.arange(len(smooth))
    before = np.maximum(index - 1, 0)
    y0, y1 = smooth[rows, before], smooth[rows, index]
    t0, t1 = tau[before], tau[index]
    with np.errstate(invalid="ignore", divide="ignore"):
        step = np.where((index > 0) & (y1 > y0), (level - y0) / (y1 - y0), 0.0)
    where = t0 + np.nan_to_num(step) * (t1 - t0)
    return np.where(reached, where, np.nan)


def _initial_guess(tau: FloatArray, shape: _Shape) -> FloatArray:
    bottom = np.nan_to_num(shape.early)
    top = np.where(np.isfinite(shape.peak), shape.peak, 1.0)
    top = np.where(top - bottom > 0, top, bottom + 1.0)
    rise = top - bottom
    midpoint = _crossing(tau, shape.smooth, bottom + 0.5 * rise)
    t10 = _crossing(tau, shape.smooth, bottom + 0.1 * rise)
    t90 = _crossing(tau, shape.smooth, bottom + 0.9 * rise)
    spacing = float(np.min(np.diff(tau)))
    width = np.where(np.isfinite(t90 - t10), np.maximum(t90 - t10, spacing), 1.0)
    rate = np.clip(_RISE_10_90 / width, *np.exp(_LOG_RATE_RANGE))
    return np.column_stack(
        [
            bottom,
            top,
            np.clip(np.where(np.isfinite(midpoint), midpoint, 1.0), *_MIDPOINT_RANGE),
            np.log(rate),
            np.zeros_like(bottom),
        ]
    )


# --- batched Levenberg–Marquardt ----------------------------------------------------------------


def _evaluate(tau: FloatArray, theta: FloatArray, n_params: int) -> tuple[FloatArray, FloatArray]:
    """Model values (n, n_t) and Jacobian (n, n_t, n_params) in scaled units.

    theta columns: bottom, top, midpoint (T50), log rate, log asymmetry (5PL only).
    """
    bottom, top, midpoint = theta[:, 0:1], theta[:, 1:2], theta[:, 2:3]
    rate = np.exp(theta[:, 3:4])
    asymmetry = np.exp(theta[:, 4:5]) if n_params == _N_5PL else np.ones_like(rate)
    power = 2.0 ** (1.0 / asymmetry)
    shift = np.log(power - 1.0)
    elapsed = tau[None, :] - midpoint
    u = -rate * elapsed + shift
    softplus = np.logaddexp(0.0, u)
    fraction = np.exp(-asymmetry * softplus)
    rise = top - bottom
    values = bottom + rise * fraction
    d_fraction_du = -asymmetry * np.exp(u - softplus) * fraction
    jacobian = np.empty((*values.shape, n_params))
    jacobian[..., 0] = 1.0 - fraction
    jacobian[..., 1] = fraction
    jacobian[..., 2] = rise * d_fraction_du * rate
    jacobian[..., 3] = rise * d_fraction_du * (-rate * elapsed)
    if n_params == _N_5PL:
        d_shift = -math.log(2.0) * power / (asymmetry**2 * (power - 1.0))
        jacobian[..., 4] = rise * asymmetry * (-softplus * fraction + d_fraction_du * d_shift)
    return values, jacobian


@dataclass(frozen=True)
class _Solution:
    theta: FloatArray  # (n, 5); column 4 is 0 for the 4PL
    rss: FloatArray
    converged: BoolArray
    covariance: FloatArray  # (n, p, p) of the fitted parameters, scaled units


def _clip(theta: FloatArray) -> FloatArray:
    return np.clip(theta, _LOWER, _UPPER)


def _levenberg_marquardt(
    tau: FloatArray, z: FloatArray, weight: FloatArray, start: FloatArray, n_params: int
) -> _Solution:
    """Minimize each well's sum of squared residuals; wells stop independently."""
    n = len(z)
    theta = _clip(start.copy())
    if n_params == _N_4PL:
        theta[:, 4] = 0.0
    values, jacobian = _evaluate(tau, theta, n_params)
    residual = weight * (values - z)
    cost = (residual**2).sum(axis=1)
    damping = np.full(n, _LAMBDA_START)
    active = np.ones(n, dtype=bool)
    converged = np.zeros(n, dtype=bool)
    earlier_cost = cost.copy()
    for iteration in range(1, _MAX_ITERATIONS + 1):
        rows = np.flatnonzero(active)
        if not rows.size:
            break
        weighted = jacobian[rows] * weight[rows, :, None]
        normal = np.matmul(weighted.transpose(0, 2, 1), weighted)
        gradient = np.matmul(weighted.transpose(0, 2, 1), residual[rows, :, None])[..., 0]
        # Projected step: a parameter at a bound that the descent direction pushes outward is held
        # (its row and column leave the system) instead of being clipped after the step.
        current = theta[rows, :n_params]
        held = ((current <= _LOWER[:n_params]) & (gradient > 0)) | (
            (current >= _UPPER[:n_params]) & (gradient < 0)
        )
        free = (~held).astype(np.float64)
        normal = normal * free[:, :, None] * free[:, None, :]
        gradient = gradient * free
        diagonal = np.where(
            held, 1.0, np.maximum(np.diagonal(normal, axis1=1, axis2=2), _DIAGONAL_FLOOR)
        )
        damped = (
            normal
            + np.eye(n_params)[None]
            * (np.where(held, 1.0, damping[rows, None]) * diagonal)[:, None, :]
        )
        step = np.linalg.solve(damped, -gradient[..., None])[..., 0]
        trial = theta[rows].copy()
        trial[:, :n_params] += step
        trial = _clip(trial)
        moved = np.abs(trial - theta[rows]).max(axis=1)  # the step as taken, inside the box
        trial_values, trial_jacobian = _evaluate(tau, trial, n_params)
        trial_residual = weight[rows] * (trial_values - z[rows])
        trial_cost = (trial_residual**2).sum(axis=1)
        better = trial_cost < cost[rows]
        gain = cost[rows] - trial_cost
        # Converged: the cost no longer changes (a better or a worse trial), or the step vanishes.
        done = (np.abs(gain) <= _COST_RTOL * cost[rows]) | (moved < _STEP_ATOL)
        accept = rows[better]
        theta[accept] = trial[better]
        jacobian[accept] = trial_jacobian[better]
        residual[accept] = trial_residual[better]
        cost[accept] = trial_cost[better]
        damping[accept] = damping[accept] / _LAMBDA_STEP
        damping[rows[~better]] *= _LAMBDA_STEP
        stuck = ~better & (damping[rows] > _LAMBDA_GIVE_UP)
        if iteration % _STALL_ITERATIONS == 0:
            stuck |= earlier_cost[rows] - cost[rows] <= _STALL_RTOL * earlier_cost[rows]
            earlier_cost[rows] = cost[rows]
        finished = rows[done | stuck]
        converged[finished] = True
        active[finished] = False
    return _Solution(
        theta=theta,
        rss=cost,
        converged=converged,
        covariance=_covariance(jacobian, weight, cost, n_params),
    )


def _covariance(
    jacobian: FloatArray, weight: FloatArray, rss: FloatArray, n_params: int
) -> FloatArray:
    """sigma² (JᵀJ)⁺ with sigma² = RSS / (n - p): the asymptotic covariance of the estimates."""
    weighted = jacobian * weight[..., None]
    normal = np.matmul(weighted.transpose(0, 2, 1), weighted)
    dof = np.maximum(weight.sum(axis=1) - n_params, 1.0)
    return np.asarray(np.linalg.pinv(normal) * (rss / dof)[:, None, None], dtype=np.float64)


def _prefers_5pl(
    rss4: FloatArray, rss5: FloatArray, z: FloatArray, weight: FloatArray, rules: QualityRules
) -> BoolArray:
    """Extra-sum-of-squares F test of the 5PL against the nested 4PL, per well.

    An improvement below round-off (a fraction `_F_TEST_FLOOR` of the readings' variation) never
    counts, so noise-free 4PL curves stay 4PL.
    """
    dof = np.maximum(weight.sum(axis=1) - _N_5PL, 1.0)
    total = _total_sum_of_squares(z, weight)
    gain = rss4 - rss5
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.where(rss5 > 0, gain / (rss5 / dof), np.inf)
    p = stats.f.sf(np.nan_to_num(np.maximum(f, 0.0), posinf=np.finfo(np.float64).max), 1, dof)
    return np.asarray((gain > _F_TEST_FLOOR * total) & (p < rules.model_selection_alpha))


# --- results and QC -----------------------------------------------------------------------------

# Every flag in the order it is listed per well.
FLAGS = (*FAILURE_FLAGS, *CENSORING_FLAGS, *EXCLUSION_FLAGS, *WARNING_FLAGS)


def _assemble(
    *,
    times: FloatArray,
    theta: FloatArray,
    rss: FloatArray,
    covariance: FloatArray,
    converged: BoolArray,
    chosen_5pl: BoolArray,
    z: FloatArray,
    weight: FloatArray,
    scale: FloatArray,
    offset: FloatArray,
    shape: _Shape,
    failed: NDArray[np.object_],
    n_readings: NDArray[np.int64],
    missing: BoolArray,
    spikes: BoolArray,
    rules: QualityRules,
) -> WellFits:
    t_start, t_end = float(times[0]), float(times[-1])
    span_min = t_end - t_start
    is_failed = failed != ""
    bottom_z, top_z, midpoint = theta[:, 0], theta[:, 1], theta[:, 2]
    rise_z = top_z - bottom_z
    t50_fit = t_start + midpoint * span_min
    r_squared = _r_squared(z, weight, rss)
    raised = _raise_flags(
        theta=theta,
        rise_z=rise_z,
        t50_fit=t50_fit,
        r_squared=r_squared,
        converged=converged,
        chosen_5pl=chosen_5pl,
        n_fitted=weight.sum(axis=1),
        shape=shape,
        rules=rules,
        t_start=t_start,
        t_end=t_end,
    )
    raised["missing_readings"] = missing
    raised["spikes"] = spikes
    for name in raised:  # a failed well carries only its failure (and missing readings)
        if name not in ("missing_readings", "spikes"):
            raised[name] = raised[name] & ~is_failed
    raised.update({name: failed == name for name in FAILURE_FLAGS})
    matrix = np.column_stack([raised[name] for name in FLAGS])
    names = np.array(FLAGS, dtype=object)
    flags = tuple(tuple(names[row]) for row in matrix)
    status = np.select(
        [
            matrix[:, _columns(FAILURE_FLAGS)].any(axis=1),
            matrix[:, _columns(EXCLUSION_FLAGS)].any(axis=1),
            matrix[:, _columns(CENSORING_FLAGS)].any(axis=1),
            matrix.any(axis=1),
        ],
        [FAILED, EXCLUDED, CENSORED, FLAGGED],
        OK,
    ).astype(str)
    censored = status == CENSORED
    n = np.maximum(weight.sum(axis=1), 1.0)
    return WellFits(
        t50_min=np.where(is_failed, np.nan, np.where(censored, t_end, t50_fit)),
        t50_se_min=np.where(
            censored | is_failed, np.nan, np.sqrt(np.maximum(covariance[:, 2, 2], 0.0)) * span_min
        ),
        bottom=offset + bottom_z * scale,
        top=offset + top_z * scale,
        slope=np.exp(theta[:, 3]) / span_min,
        asymmetry=np.where(chosen_5pl, np.exp(theta[:, 4]), np.where(is_failed, np.nan, 1.0)),
        model=np.where(chosen_5pl, "5pl", np.where(is_failed, "", "4pl")).astype(str),
        r_squared=r_squared,
        rmse=np.sqrt(rss / n) * scale,
        noise_sd=shape.noise * scale,
        n_readings=n_readings.astype(np.int64),
        censored=censored,
        status=status,
        flags=flags,
        t_start_min=t_start,
        t_end_min=t_end,
        t50_fit_min=t50_fit,
    )


def _columns(names: tuple[str, ...]) -> list[int]:
    return [FLAGS.index(name) for name in names]


def _total_sum_of_squares(z: FloatArray, weight: FloatArray) -> FloatArray:
    """Sum of squared deviations of each well's finite readings from their mean."""
    mean = (weight * z).sum(axis=1) / np.maximum(weight.sum(axis=1), 1.0)
    return np.asarray((weight * (z - mean[:, None]) ** 2).sum(axis=1), dtype=np.float64)


def _r_squared(z: FloatArray, weight: FloatArray, rss: FloatArray) -> FloatArray:
    total = _total_sum_of_squares(z, weight)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(np.where(total > 0, 1.0 - rss / total, np.nan), dtype=np.float64)


def _raise_flags(
    *,
    theta: FloatArray,
    rise_z: FloatArray,
    t50_fit: FloatArray,
    r_squared: FloatArray,
    converged: BoolArray,
    chosen_5pl: BoolArray,
    n_fitted: FloatArray,
    shape: _Shape,
    rules: QualityRules,
    t_start: float,
    t_end: float,
) -> dict[str, BoolArray]:
    """The censoring, exclusion and warning flags of every well (docs/t50.md#quality-control).

    A well shows a transition when its running median rises by more than ``t50_min_rise_snr``
    noise SDs, or when its sigmoid explains significantly more than a constant would (F test,
    ``t50_transition_alpha``) with a rising fit; only a well with neither is right-censored as
    ``no_transition``. A transition is incomplete (right-censored) when the fitted half-way lies
    after the last reading, when the readings never reach the fitted half-height, or when the
    fitted curve has not reached its upper plateau by the last reading and fits poorly (a rise
    that starts late: its size, hence its half-height, is not known).
    """
    threshold = rules.min_rise_snr * shape.noise
    n_params = np.where(chosen_5pl, _N_5PL, _N_4PL)
    with np.errstate(divide="ignore", invalid="ignore"):
        explained = r_squared / (n_params - 1) / ((1.0 - r_squared) / (n_fitted - n_params))
    p_value = stats.f.sf(np.nan_to_num(explained), n_params - 1, np.maximum(n_fitted - n_params, 1))
    significant = (p_value < rules.transition_alpha) & (rise_z > 0)
    transition = (shape.rise > threshold) | significant
    decreasing = ~transition & (shape.drop > threshold)
    with np.errstate(invalid="ignore"):
        half_reached = shape.peak >= theta[:, 0] + 0.5 * rise_z
        start_fraction, end_fraction = _fraction_at(np.array([0.0, 1.0]), theta, chosen_5pl).T
        poor = (r_squared < rules.min_r_squared) | ~(rise_z > 0)
        open_top = end_fraction < rules.plateau_fraction
        open_bottom = start_fraction > 1.0 - rules.plateau_fraction
        incomplete = transition & ((t50_fit > t_end) | ~half_reached | (open_top & poor))
        observed = transition & ~incomplete
        return {
            "no_transition": ~transition & ~decreasing,
            "transition_incomplete": incomplete,
            "poor_fit": observed & poor,
            "decreasing_signal": decreasing,
            "early_transition": observed & (t50_fit < t_start),
            "not_converged": observed & ~converged,
            "noisy": transition & (shape.noise > rules.noisy_fraction * np.abs(rise_z)),
            "non_monotone": transition
            & (shape.drop > threshold)
            & (shape.drop > rules.non_monotone_drop_fraction * np.abs(rise_z)),
            "no_lower_plateau": observed & open_bottom,
            "no_upper_plateau": observed & open_top,
        }


def _fraction_at(tau: FloatArray, theta: FloatArray, chosen_5pl: BoolArray) -> FloatArray:
    """Fraction of the fitted rise reached at scaled times `tau`, shape (n, len(tau))."""
    unit = np.nan_to_num(theta)
    unit[:, 0], unit[:, 1] = 0.0, 1.0
    unit[~chosen_5pl, 4] = 0.0
    values, _ = _evaluate(tau, unit, _N_5PL)
    return values
