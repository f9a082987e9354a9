"""The chemistry checks of `mgckd validate`: calibration targets honest, prevalences predicted."""

from __future__ import annotations

import pytest

from mgckd.chemistry import PlasmaComposition, Speciation, constant_set, speciate
from mgckd.validate import Verdict, checks_chemistry, run_validation

IDS = [
    "S0-22",
    "L-normal-plasma-ionized-calcium",
    "L-normal-plasma-ionized-magnesium",
    "L-ise-ionized-mg-ph-slope",
]


@pytest.fixture(scope="module")
def rows():  # type: ignore[no-untyped-def]
    return {row.id: row for row in run_validation(ids=IDS).rows}


def test_calibration_targets_pass_and_say_they_were_fitted(rows) -> None:  # type: ignore[no-untyped-def]
    for claim_id in IDS[:3]:
        assert rows[claim_id].verdict is Verdict.PASS, rows[claim_id].detail
        assert "passes by construction" in rows[claim_id].detail
    assert "anion gap" in rows["S0-22"].detail  # the direction, which was not fitted


def test_ph_slopes_are_predicted_and_match_the_ise_literature(rows) -> None:  # type: ignore[no-untyped-def]
    row = rows["L-ise-ionized-mg-ph-slope"]
    assert row.verdict is Verdict.PASS, row.model
    assert "not fitted" in row.detail


def test_ph_slope_check_fails_without_proton_competition(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the albumin site's pKa far below plasma pH, protons no longer compete: flat slopes."""
    flat = constant_set("plasma", overrides={"plasma_log_k_halb": 5.0})

    def speciate_flat(composition: PlasmaComposition) -> Speciation:
        return speciate(composition, constants=flat)

    monkeypatch.setattr(checks_chemistry, "speciate", speciate_flat)
    result = checks_chemistry.ionized_mg_and_ca_fall_with_ph()
    assert result.verdict is Verdict.FAIL, result.model
