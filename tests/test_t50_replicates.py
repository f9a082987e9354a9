"""Replicates and the plate analysis: outlier rule, censored samples, layouts, figures."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from matplotlib.axes import Axes

from mgckd.cpp import (
    SAMPLE_COLUMNS,
    WELL_COLUMNS,
    PlateReadings,
    ReplicateRules,
    analyze_plate,
    fit_wells,
    plot_plate,
    plot_well,
    summarize_replicates,
    synthetic_plate,
    t50_curve,
)
from mgckd.exceptions import InputFileError

T = np.linspace(0.0, 600.0, 121)


def plate_of(t50s: list[float], samples: list[str], seed: int = 0) -> PlateReadings:
    signal = t50_curve(
        T[None, :], t50_min=np.array(t50s)[:, None], bottom=1000.0, top=9000.0, slope_per_min=0.04
    )
    signal = signal + 30.0 * np.random.default_rng(seed).standard_normal(signal.shape)
    wells = tuple(f"A{i + 1:02d}" for i in range(len(t50s)))
    return PlateReadings(
        time_min=T,
        signal=signal,
        wells=wells,
        content=tuple(samples),
        overflow=np.zeros(signal.shape, dtype=bool),
        source="test",
        format="synthetic",
    )


def samples_of(t50s: list[float], samples: list[str]) -> dict[str, dict[str, object]]:
    result = analyze_plate(plate_of(t50s, samples))
    return {row["sample"]: row for row in result.samples.to_dict(orient="records")}


def test_outlier_replicate_is_set_aside_and_the_rest_summarized() -> None:
    rules = ReplicateRules.from_registry()
    assert (rules.outlier_fraction, rules.outlier_floor_min) == (0.15, 30.0)
    result = analyze_plate(
        plate_of([300.0, 306.0, 400.0, 250.0, 255.0, 248.0], ["a"] * 3 + ["b"] * 3)
    )
    a, b = result.samples.to_dict(orient="records")
    assert a["outlier_wells"] == "A03"
    assert a["n_used"] == 2
    assert a["status"] == "ok"
    t50 = result.wells["t50_min"].to_numpy()
    assert a["t50_mean_min"] == pytest.approx(t50[:2].mean())
    assert a["t50_sd_min"] == pytest.approx(t50[:2].std(ddof=1))
    assert a["t50_cv_percent"] == pytest.approx(100 * t50[:2].std(ddof=1) / t50[:2].mean())
    assert a["t50_report"] == f"{t50[:2].mean():.1f} ± {t50[:2].std(ddof=1):.1f}"
    assert list(result.wells["outlier"]) == [False, False, True, False, False, False]
    assert list(result.wells["used"]) == [True, True, False, True, True, True]
    assert b["outlier_wells"] == ""
    assert b["n_used"] == 3


def test_no_consensus_sets_nothing_aside() -> None:
    by = samples_of([300.0, 400.0, 500.0, 300.0, 380.0], ["a"] * 3 + ["b"] * 2)
    assert by["a"]["status"] == by["b"]["status"] == "replicates_disagree"
    assert by["a"]["outlier_wells"] == by["b"]["outlier_wells"] == ""
    assert by["a"]["n_used"] == 3


def test_the_outlier_threshold_has_a_floor_in_minutes() -> None:
    # 100 vs 125: 25 % apart but under the 30-min floor; 100 vs 135 is beyond it.
    by = samples_of([100.0, 101.0, 125.0, 100.0, 101.0, 135.0], ["a"] * 3 + ["b"] * 3)
    assert by["a"]["outlier_wells"] == ""
    assert by["b"]["outlier_wells"] == "A06"


def test_censored_samples_report_a_bound_not_a_fake_mean() -> None:
    by = samples_of([900.0, 950.0, 910.0, 500.0, 520.0, 950.0], ["c"] * 3 + ["p"] * 3)
    censored, partly = by["c"], by["p"]
    assert censored["status"] == "censored"
    assert censored["censored"]
    assert censored["t50_report"] == "> 600"
    assert np.isnan(censored["t50_mean_min"])  # type: ignore[arg-type]
    assert censored["t50_lower_bound_min"] == 600.0
    assert partly["status"] == "partly_censored"
    assert np.isnan(partly["t50_mean_min"])  # type: ignore[arg-type]
    result = analyze_plate(plate_of([500.0, 520.0, 950.0], ["p"] * 3))
    observed = result.wells["t50_min"].to_numpy()[:2]
    bound = (observed.sum() + 600.0) / 3
    assert result.samples.loc[0, "t50_lower_bound_min"] == pytest.approx(bound)
    assert result.samples.loc[0, "t50_report"] == f"> {bound:.1f}"
    assert result.samples.loc[0, "n_censored"] == 1


def test_excluded_wells_are_counted_not_used_and_unassigned_wells_left_out() -> None:
    plate = plate_of([300.0, 305.0, 310.0, 250.0], ["a", "a", "a", "b"])
    signal = plate.signal.copy()
    signal[1] = 10000.0 - signal[1]  # falling: excluded
    result = analyze_plate(replace(plate, signal=signal), layout={"A01": "a", "A02": "a"})
    assert list(result.samples["sample"]) == ["a"]
    row = result.samples.iloc[0]
    assert (row["n_wells"], row["n_used"], row["n_excluded"]) == (2, 1, 1)
    assert row["status"] == "single_well"
    assert row["t50_report"] == f"{result.wells.loc[0, 't50_min']:.1f}"
    assert list(result.wells["sample"]) == ["a", "a", "", ""]
    assert "decreasing_signal" in row["well_flags"]


def test_layout_naming_an_absent_well_is_refused() -> None:
    with pytest.raises(InputFileError, match=r"layout names well\(s\) the plate has no .*: B07"):
        analyze_plate(plate_of([300.0], ["a"]), layout={"A01": "a", "B07": "b"})


def test_columns_and_json_ready_dictionary() -> None:
    plate, _ = synthetic_plate(n_samples=3, replicates=2, rng=np.random.default_rng(4))
    result = analyze_plate(plate)
    assert tuple(result.wells.columns) == WELL_COLUMNS
    assert tuple(result.samples.columns) == SAMPLE_COLUMNS
    data = result.to_dict()
    assert data["n_wells"] == 6
    assert data["status_counts"]["ok"] == 6
    assert data["samples"][0]["t50_lower_bound_min"] is None  # NaN → null


def test_summary_without_assigned_wells_is_empty() -> None:
    fits = fit_wells(T, plate_of([300.0], ["a"]).signal)
    summary = summarize_replicates([""], fits, ["A01"])
    assert summary.samples.empty
    assert tuple(summary.samples.columns) == SAMPLE_COLUMNS


def test_figures_draw_on_given_axes_and_return_them() -> None:
    plate = plate_of([300.0, 950.0], ["a", "b"])
    signal = plate.signal.copy()
    signal[1, :] = np.nan
    signal[1, :3] = 1.0  # a failed well: nothing to fit, still drawn
    result = analyze_plate(replace(plate, signal=signal))
    ax = plot_plate(result)
    assert isinstance(ax, Axes)
    assert ax.get_xlim() == (0.0, 12.0)
    assert plot_well(result, "A01", ax=ax) is ax
    with pytest.raises(KeyError, match="B05"):
        plot_well(result, "B05")
