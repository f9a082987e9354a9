"""The in-silico T50 test: physiological directions (tested, not tuned), batches, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from mgckd.chemistry import PlasmaComposition, reference_plasma
from mgckd.cpp import (
    AssayProtocol,
    in_vivo_cpp,
    reference_serum,
    serum,
    simulate_t50,
)
from mgckd.cpp._serum import concat_serum
from mgckd.exceptions import UserInputError
from mgckd.validate.checks_cpp import sweep

# (field, normal value, raised value, expected sign of the T50 change)
DIRECTIONS = (
    ("magnesium_mmol_l", 0.9, 1.1, +1),
    ("phosphate_mmol_l", 1.1, 1.6, -1),
    ("calcium_mmol_l", 2.4, 2.6, -1),
    ("fetuin_a_g_l", 0.383, 0.5, +1),
    ("pyrophosphate_umol_l", 3.26, 4.5, +1),
    ("albumin_g_l", 40.0, 45.0, +1),
)


@pytest.fixture(scope="module")
def directions():  # type: ignore[no-untyped-def]
    """T50 of the reference normal serum with one input raised at a time, in one batch."""
    parts = [reference_serum("normal")]
    parts += [sweep("normal", field, [high]) for field, _, high, _ in DIRECTIONS]
    return simulate_t50(concat_serum(parts))


def test_reference_sera_are_read_by_the_analyzer(directions) -> None:  # type: ignore[no-untyped-def]
    assert (directions.status == "ok").all()
    assert not directions.censored.any()
    # the analyzer's T50 (signal half-way between plateaus) is the model's half-conversion time,
    # within 1 % (the fitted sigmoid's midpoint is not exactly the conversion's)
    assert np.allclose(directions.t50_min, directions.half_conversion_min, rtol=0.01, atol=0.0)


@pytest.mark.parametrize(("k", "row"), list(enumerate(DIRECTIONS)), ids=[d[0] for d in DIRECTIONS])
def test_t50_moves_the_physiological_way(directions, k: int, row: tuple) -> None:  # type: ignore[no-untyped-def,type-arg]
    """Rises with Mg, fetuin-A, pyrophosphate and albumin; falls with phosphate and Ca."""
    field, _, _, sign = row
    change = float(directions.t50_min[k + 1] - directions.t50_min[0])
    assert np.sign(change) == sign, (field, change)
    assert abs(change) > 5.0  # a real effect, not round-off


def test_batch_equals_one_by_one() -> None:
    sera = [reference_serum(n) for n in ("normal", "ckd", "hemodialysis")]
    batch = simulate_t50(concat_serum(sera))
    alone = np.array([simulate_t50(s).t50_min[0] for s in sera])
    assert np.allclose(batch.t50_min, alone, rtol=1e-9)
    assert np.allclose(batch.states[:, 1], simulate_t50(sera[1]).states[:, 0], rtol=1e-9)


def test_well_composition_follows_the_protocol() -> None:
    protocol = AssayProtocol.from_registry()
    serum_plasma = reference_plasma("hemodialysis")
    well = protocol.well(serum_plasma)
    phi = protocol.serum_volume_fraction
    assert well.calcium_mmol_l[0] == pytest.approx(phi * 2.3 + protocol.calcium_spike_mmol_l)
    assert well.phosphate_mmol_l[0] == pytest.approx(phi * 1.8 + protocol.phosphate_spike_mmol_l)
    assert well.magnesium_mmol_l[0] == pytest.approx(phi * 1.1)
    assert well.ph[0] == protocol.ph  # HEPES-buffered whatever the serum's pH
    assert well.uremic_anion_mmol_l[0] == 0.0  # left out of the well (docs/decisions.md)
    assert protocol.read_times_min()[-1] == protocol.duration_min


def test_longer_t50_than_the_read_is_right_censored() -> None:
    slow = simulate_t50(sweep("normal", "magnesium_mmol_l", [2.0]))
    assert slow.censored[0]
    assert slow.status[0] == "censored"
    assert slow.t50_min[0] == pytest.approx(600.0)


def test_missing_inhibitors_are_filled_and_listed() -> None:
    sample = serum(reference_plasma("normal"), fetuin_a_g_l=[np.nan])
    assert sample.fetuin_a_g_l[0] == pytest.approx(0.383)
    assert {"fetuin_a_g_l", "pyrophosphate_umol_l"} <= set(sample.assumed)


def test_bad_input_is_refused_with_the_field_named() -> None:
    with pytest.raises(UserInputError, match=r"fetuin_a_g_l 5 is outside 0.02-2 g/L"):
        simulate_t50(serum(reference_plasma("normal"), fetuin_a_g_l=5.0))
    negative = reference_plasma("normal").to_dict() | {"calcium_mmol_l": np.array([-1.0])}
    with pytest.raises(UserInputError, match="calcium_mmol_l -1 is negative"):
        simulate_t50(serum(PlasmaComposition.from_dict(negative)))
    with pytest.raises(UserInputError, match="must match the 1 samples"):
        serum(reference_plasma("normal"), pyrophosphate_umol_l=[1.0, 2.0])
    with pytest.raises(UserInputError, match="ph 9 is outside"):
        in_vivo_cpp(
            serum(
                PlasmaComposition.from_dict(
                    reference_plasma("normal").to_dict() | {"ph": np.array([9.0])}
                )
            )
        )


def test_a_cohort_reports_bad_samples_and_simulates_the_rest() -> None:
    good = reference_serum("normal")
    bad = serum(reference_plasma("normal"), pyrophosphate_umol_l=-1.0)
    result = simulate_t50(concat_serum([good, bad]), throw=False)
    assert list(result.status) == ["ok", "invalid_input"]
    assert "pyrophosphate_umol_l -1" in result.reason[1]
    assert np.isnan(result.t50_min[1])
    assert np.isfinite(result.t50_min[0])
    frame = result.to_frame()
    assert frame["t50_report"].iloc[1] == ""
    assert len(result.curves_frame()) == 2 * result.time_min.size


def test_in_vivo_maturation_is_relative_to_normal_plasma() -> None:
    sera = concat_serum([reference_serum("normal"), reference_serum("hemodialysis")])
    plasma = in_vivo_cpp(sera)
    assert plasma.relative_cpp2_formation[0] == pytest.approx(1.0)
    assert plasma.relative_cpp2_formation[1] > 1.0  # hemodialysis plasma matures CPP faster
    assert (plasma.si_amorphous_calcium_phosphate < 0).all()  # no CPP1 from plasma alone
    assert plasma.cpp2_exposure(24.0)[0] == pytest.approx(24.0)
    assert np.isfinite(plasma.to_frame()["maturation_half_time_h"]).all()
