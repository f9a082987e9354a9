"""The peer harness: Peterson & Riggs 2010 (BIOMD0000000613) in libroadrunner.

Reference values: research notes physiology-models.md §1a, "Ran" with libroadrunner 2.10.0 on the
same BioModels file: baseline Ca 2.35 mmol/L, PTH 3.85 pmol/L, phosphate 1.20 mmol/L, calcitriol
90 pmol/L; after 3 years at constant GFR from baseline: GFR 60 → 2.374, 4.27, 1.243, 80.9;
GFR 15 → 2.394, 6.05, 1.679, 12.9; the gland capacity PTmax stays at 1 (the published file's
back-solved calcitriol half-point freezes it).
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from mgckd._pint import quantity
from mgckd.physiology import GfrCourse, peterson_riggs_source, run_peterson_riggs

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("roadrunner") is None or importlib.util.find_spec("libsbml") is None,
    reason="libroadrunner and python-libsbml (the 'peers' extra) are not installed",
)

THREE_YEARS_H = quantity(3.0, "year").to("h").magnitude


def test_packaged_file_is_the_cc0_biomodels_entry() -> None:
    text = peterson_riggs_source()
    assert 'id="MODEL1604270004"' in text
    assert "creativecommons.org/publicdomain/zero/1.0" in text


def test_baseline_is_the_published_steady_state() -> None:
    peer = run_peterson_riggs(GfrCourse.constant(100.0), [0.0, THREE_YEARS_H])
    np.testing.assert_allclose(peer.calcium_total_mmol_l, 2.35, rtol=1e-3)
    np.testing.assert_allclose(peer.phosphate_mmol_l, 1.20, rtol=1e-3)
    np.testing.assert_allclose(peer.pth_pmol_l, 3.85, rtol=1e-3)
    np.testing.assert_allclose(peer.calcitriol_pmol_l, 90.0, rtol=1e-3)
    np.testing.assert_allclose(peer.gfr_ml_min, 100.0, rtol=1e-12)


@pytest.mark.parametrize(
    ("gfr", "expected"),
    [
        (60.0, (2.374, 4.27, 1.243, 80.9)),
        (15.0, (2.394, 6.05, 1.679, 12.9)),
    ],
)
def test_three_years_at_constant_gfr_match_the_notes(
    gfr: float, expected: tuple[float, float, float, float]
) -> None:
    course = GfrCourse(start_ml_min=gfr, floor_ml_min=gfr, rate_per_year=0.0)
    peer = run_peterson_riggs(course, [0.0, THREE_YEARS_H])
    got = (
        peer.calcium_total_mmol_l[-1],
        peer.pth_pmol_l[-1],
        peer.phosphate_mmol_l[-1],
        peer.calcitriol_pmol_l[-1],
    )
    np.testing.assert_allclose(got, expected, rtol=5e-3)
    assert peer.gland_capacity[-1] == pytest.approx(1.0, abs=1e-6)


def test_riggs_course_drives_the_peer_into_secondary_hyperparathyroidism() -> None:
    course = GfrCourse.riggs_2012()
    times = np.linspace(0.0, 10 * quantity(1.0, "year").to("h").magnitude, 11)
    peer = run_peterson_riggs(course, times)
    np.testing.assert_allclose(peer.gfr_ml_min, course.gfr_ml_min(times), rtol=1e-9)
    assert peer.pth_pmol_l[-1] > 1.3 * peer.pth_pmol_l[0]
    assert peer.calcitriol_pmol_l[-1] < 0.5 * peer.calcitriol_pmol_l[0]
    assert peer.phosphate_mmol_l[-1] > peer.phosphate_mmol_l[0]
    assert len(peer.to_frame()) == times.size


def test_side_by_side_runs_both_models_under_one_course() -> None:
    from mgckd.simulate import side_by_side  # noqa: PLC0415

    course = GfrCourse.riggs_2012()
    times = np.array([0.0, THREE_YEARS_H])
    frame = side_by_side(course, times)
    assert frame["gfr_ml_min"].iloc[-1] == pytest.approx(course.gfr_ml_min(THREE_YEARS_H))
    assert frame["peer_pth_pmol_l"].iloc[-1] > frame["peer_pth_pmol_l"].iloc[0]
    for column in ("pth_pmol_l", "calcitriol_pmol_l"):  # both models: PTH up, calcitriol down
        peer, ours = frame[f"peer_{column}"], frame[f"mgckd_plasma_{column}"]
        assert np.sign(peer.iloc[-1] - peer.iloc[0]) == np.sign(ours.iloc[-1] - ours.iloc[0])
    assert frame["mgckd_plasma_fgf23_relative"].iloc[-1] > 1.5
