"""Physiological behaviour of the speciation model: directions checked, nothing tuned to them.

Each test varies one analyte of the reference normal plasma (or the hemodialysis one) over its
clinical range and checks the direction the literature reports (research/speciation.md sections
2.2, 3.3 and 5.4; S0-22; Dimeski & Treacy for pH). None of these responses is a calibration
target: the albumin and uremic-anion constants are fitted to levels, not to slopes.
"""

from __future__ import annotations

import numpy as np
import pytest

from mgckd.chemistry import PlasmaComposition, reference_plasma, speciate


def _sweep(field: str, values: np.ndarray, base: str = "normal") -> PlasmaComposition:
    fields = reference_plasma(base).to_dict()
    n = values.size
    columns = {k: np.repeat(v, n) for k, v in fields.items()}
    columns[field] = values
    return PlasmaComposition(**columns)


def _strictly_decreasing(values: np.ndarray) -> bool:
    return bool(np.all(np.diff(values) < 0))


def test_ionized_ca_and_mg_fall_as_ph_rises() -> None:
    frame = speciate(_sweep("ph", np.linspace(7.0, 7.7, 8))).to_frame()
    assert _strictly_decreasing(frame["ca_ionized_mmol_l"].to_numpy())
    assert _strictly_decreasing(frame["mg_ionized_mmol_l"].to_numpy())
    # protein binding is what rises with pH
    assert np.all(np.diff(frame["ca_protein_bound_mmol_l"]) > 0)


@pytest.mark.parametrize("base", ["normal", "hemodialysis"])
def test_ionized_ca_and_mg_fall_as_albumin_rises(base: str) -> None:
    frame = speciate(_sweep("albumin_g_l", np.linspace(20, 50, 7), base)).to_frame()
    assert _strictly_decreasing(frame["ca_ionized_mmol_l"].to_numpy())
    assert _strictly_decreasing(frame["mg_ionized_mmol_l"].to_numpy())


@pytest.mark.parametrize("base", ["normal", "hemodialysis"])
def test_ionized_mg_fraction_falls_as_phosphate_rises(base: str) -> None:
    frame = speciate(_sweep("phosphate_mmol_l", np.linspace(0.8, 3.5, 7), base)).to_frame()
    assert _strictly_decreasing(frame["mg_ionized_fraction"].to_numpy())


def test_ionized_mg_fraction_falls_as_the_anion_gap_rises() -> None:
    # the anion gap enters as the uremic-anion ligand (its excess over normal plasma)
    frame = speciate(_sweep("uremic_anion_mmol_l", np.linspace(0.0, 15.0, 7))).to_frame()
    assert _strictly_decreasing(frame["mg_ionized_fraction"].to_numpy())
    assert _strictly_decreasing(frame["ca_ionized_fraction"].to_numpy())


def test_raising_mg_barely_changes_hydroxyapatite_saturation() -> None:
    # Mg's protection against calcification is kinetic (issue 4), not thermodynamic: Mg from 0.5
    # to 2.0 mmol/L moves the hydroxyapatite SI by a few hundredths (research/speciation.md 5.4)
    frame = speciate(_sweep("magnesium_mmol_l", np.linspace(0.5, 2.0, 7))).to_frame()
    si = frame["si_hydroxyapatite"].to_numpy()
    assert abs(si[-1] - si[0]) < 0.1
    # while phosphate over a similar relative range moves it by more than a whole log unit
    p = speciate(_sweep("phosphate_mmol_l", np.array([1.0, 3.0]))).to_frame()
    assert p["si_hydroxyapatite"].iloc[1] - p["si_hydroxyapatite"].iloc[0] > 1.0


def test_more_mg_competes_ca_off_albumin() -> None:
    # shared albumin sites: more Mg leaves more Ca ionized (research/speciation.md 5.4)
    frame = speciate(_sweep("magnesium_mmol_l", np.linspace(0.5, 2.0, 7))).to_frame()
    assert np.all(np.diff(frame["ca_ionized_mmol_l"]) > 0)
