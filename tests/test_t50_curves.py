"""T50 curve fits (`mgckd.cpp.fit_wells`): recovery of known curves, censoring, QC flags, batching.

Tolerances: synthetic wells have Gaussian noise of 1 % of the rise at 121 readings; the fit's own
standard error of T50 is then 0.1-1 min, so recovered T50s must lie within 2 min of the truth
(several SEs) and the SEs must be calibrated (z-scores with SD near 1).
"""

from __future__ import annotations

import numpy as np
import pytest

from mgckd.cpp import (
    STATUSES,
    QualityRules,
    WellFits,
    fit_wells,
    synthetic_plate,
    t50_curve,
)
from mgckd.exceptions import UserInputError

T = np.linspace(0.0, 600.0, 121)
T50_TOLERANCE_MIN = 2.0


def curve(t50: float, *, slope: float = 0.04, asymmetry: float = 1.0) -> np.ndarray:
    return t50_curve(
        T, t50_min=t50, bottom=1000.0, top=9000.0, slope_per_min=slope, asymmetry=asymmetry
    )


def noisy(rows: list[np.ndarray], sd: float = 30.0, seed: int = 0) -> np.ndarray:
    signal = np.vstack(rows)
    return signal + sd * np.random.default_rng(seed).standard_normal(signal.shape)


def test_noise_free_4pl_and_5pl_parameters_are_recovered_exactly() -> None:
    signal = np.vstack([curve(250.0, slope=0.05), curve(380.0, slope=0.03, asymmetry=0.4)])
    fits = fit_wells(T, signal, model="5pl")
    np.testing.assert_allclose(fits.t50_min, [250.0, 380.0], atol=1e-6)
    np.testing.assert_allclose(fits.slope, [0.05, 0.03], rtol=1e-6)
    np.testing.assert_allclose(fits.asymmetry, [1.0, 0.4], rtol=1e-6)
    np.testing.assert_allclose(fits.bottom, 1000.0, rtol=1e-8)
    np.testing.assert_allclose(fits.top, 9000.0, rtol=1e-8)
    assert list(fits.status) == ["ok", "ok"]


def test_t50_is_half_height_not_the_5pl_inflection() -> None:
    # For s != 1 the Richards curve's inflection lies elsewhere; T50 is where y = (bottom+top)/2.
    # Inflection of the 5PL: exp(-k (t - t_c)) = 1 / s, i.e. t = t_c + ln(s) / k.
    fits = fit_wells(T, curve(300.0, slope=0.04, asymmetry=0.2)[None], model="5pl")
    t50 = float(fits.t50_min[0])
    half = 0.5 * (fits.bottom[0] + fits.top[0])
    assert t50 == pytest.approx(300.0, abs=1e-6)
    assert fits.predict(np.array([t50]))[0, 0] == pytest.approx(half, rel=1e-9)
    centre = t50 + np.log(2.0 ** (1 / 0.2) - 1.0) / 0.04
    inflection = centre + np.log(0.2) / 0.04
    assert inflection - t50 > 40.0  # 45.6 min apart: the definition matters


def test_recovery_of_4pl_plate_within_tolerance_and_calibrated_errors() -> None:
    plate, truth = synthetic_plate(
        n_samples=128, replicates=3, wells_per_plate=384, rng=np.random.default_rng(7)
    )
    fits = fit_wells(plate.time_min, plate.signal)
    error = fits.t50_min - truth["t50_min"].to_numpy()
    assert np.abs(error).max() < T50_TOLERANCE_MIN
    assert set(fits.status) == {"ok"}
    z = error / fits.t50_se_min
    assert 0.8 < np.std(z) < 1.25
    assert (fits.model == "4pl").mean() > 0.95  # the F test rarely prefers 5PL on 4PL data


def test_auto_chooses_5pl_for_asymmetric_curves_and_that_matters() -> None:
    plate, truth = synthetic_plate(
        n_samples=60,
        replicates=1,
        asymmetry_range=(0.25, 0.5),
        rng=np.random.default_rng(3),
    )
    auto = fit_wells(plate.time_min, plate.signal)
    forced_4pl = fit_wells(plate.time_min, plate.signal, model="4pl")
    true_t50 = truth["t50_min"].to_numpy()
    assert (auto.model == "5pl").all()
    assert np.abs(auto.t50_min - true_t50).max() < T50_TOLERANCE_MIN
    np.testing.assert_allclose(auto.asymmetry, truth["asymmetry"], rtol=0.25)
    assert np.abs(forced_4pl.t50_min - true_t50).mean() > 3 * np.abs(auto.t50_min - true_t50).mean()
    assert (forced_4pl.asymmetry == 1.0).all()


def test_batch_equals_one_by_one() -> None:
    plate, _ = synthetic_plate(
        n_samples=12, replicates=2, asymmetry_range=(0.5, 2.0), rng=np.random.default_rng(11)
    )
    signal = plate.signal.copy()
    signal[3] = 2000.0 + 40.0 * np.random.default_rng(1).standard_normal(T.size)  # censored
    signal[5, 40:50] = np.nan  # missing readings
    batch = fit_wells(plate.time_min, signal)
    for i in range(len(signal)):
        alone = fit_wells(plate.time_min, signal[i : i + 1])
        for name in ("t50_min", "t50_se_min", "bottom", "top", "slope", "asymmetry", "rmse"):
            np.testing.assert_array_equal(getattr(alone, name)[0], getattr(batch, name)[i])
        assert alone.flags[0] == batch.flags[i]
        assert alone.status[0] == batch.status[i]


@pytest.mark.parametrize(
    ("t50", "flag"),
    [(900.0, "no_transition"), (700.0, "transition_incomplete"), (620.0, "transition_incomplete")],
)
def test_no_half_way_transition_is_right_censored_at_the_last_reading(
    t50: float, flag: str
) -> None:
    fits = fit_wells(T, noisy([curve(t50)]))
    assert fits.censored[0]
    assert fits.status[0] == "censored"
    assert fits.t50_min[0] == 600.0
    assert np.isnan(fits.t50_se_min[0])
    assert flag in fits.flags[0]
    assert fits.t50_report == ["> 600"]


def test_flat_wells_are_rarely_read_as_transitions() -> None:
    flat = 1500.0 + 30.0 * np.random.default_rng(5).standard_normal((500, T.size))
    fits = fit_wells(T, flat)
    assert (fits.status == "censored").mean() > 0.98
    assert not np.isin(fits.status, ["ok", "flagged"]).any()  # never a T50 from noise


def test_late_but_observed_transition_is_flagged_no_upper_plateau() -> None:
    fits = fit_wells(T, noisy([curve(580.0)]))
    assert not fits.censored[0]
    assert fits.flags[0] == ("no_upper_plateau",)
    assert abs(fits.t50_min[0] - 580.0) < T50_TOLERANCE_MIN


def test_quality_flags() -> None:
    rng = np.random.default_rng(2)
    spike = curve(300.0).copy()
    spike[40] += 8000.0
    missing = curve(300.0).copy()
    missing[50:55] = np.nan
    falling = curve(250.0) - np.clip(T - 350.0, 0.0, None) * 15.0
    rows = {
        "noisy": curve(300.0) + 800.0 * rng.standard_normal(T.size),
        "non_monotone": falling,
        "spikes": spike,
        "missing_readings": missing,
        "decreasing_signal": 10000.0 - curve(300.0),
        "early_transition": curve(-10.0),
        "no_lower_plateau": curve(60.0, slope=0.03),
        "poor_fit": curve(300.0) + 3000.0 * rng.standard_normal(T.size),
    }
    fits = fit_wells(T, noisy(list(rows.values())))
    for i, (flag, _) in enumerate(rows.items()):
        assert flag in fits.flags[i], (flag, fits.flags[i])
    status = dict(zip(rows, fits.status, strict=True))
    assert status["noisy"] == status["spikes"] == status["missing_readings"] == "flagged"
    assert status["no_lower_plateau"] == "flagged"
    assert status["decreasing_signal"] == status["early_transition"] == "excluded"
    assert status["poor_fit"] == "excluded"
    assert abs(fits.t50_min[2] - 300.0) < 1.0  # the bubble is left out of the fit
    assert fits.n_readings[3] == T.size - 5


def test_failed_wells_say_why_and_hold_nan() -> None:
    few = np.full(T.size, np.nan)
    few[:5] = 1000.0
    fits = fit_wells(T, np.vstack([few, np.full(T.size, 1234.0), curve(300.0)]))
    assert fits.flags[0] == ("failed:too_few_readings", "missing_readings")
    assert fits.flags[1] == ("failed:constant_signal",)
    assert list(fits.status) == ["failed", "failed", "ok"]
    assert np.isnan(fits.t50_min[:2]).all()
    assert fits.t50_report[:2] == ["failed", "failed"]
    frame = fits.to_frame(["A01", "A02", "A03"])
    assert list(frame["well"]) == ["A01", "A02", "A03"]
    assert frame.loc[0, "flags"] == "failed:too_few_readings;missing_readings"


@pytest.mark.parametrize(
    ("time", "signal", "message"),
    [
        (T[::-1], np.ones((1, T.size)), "strictly increasing"),
        (T, np.ones((1, 5)), "must have shape"),
        (T, np.full((1, T.size), np.inf), "infinite"),
        (np.array([0.0]), np.ones((1, 1)), "at least 2"),
    ],
)
def test_bad_arrays_are_user_errors(time: np.ndarray, signal: np.ndarray, message: str) -> None:
    with pytest.raises(UserInputError, match=message):
        fit_wells(time, signal)


def test_unknown_model_is_a_user_error() -> None:
    with pytest.raises(UserInputError, match="not one of auto, 4pl, 5pl"):
        fit_wells(T, curve(300.0)[None], model="6pl")  # type: ignore[arg-type]


def test_rules_come_from_the_registry_and_statuses_are_known() -> None:
    rules = QualityRules.from_registry()
    assert rules.min_readings == 10
    assert rules.model_selection_alpha == 0.01
    fits: WellFits = fit_wells(T, noisy([curve(300.0), curve(900.0)]))
    assert set(fits.status) <= set(STATUSES)
    assert len(fits) == 2
