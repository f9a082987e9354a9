"""The CPP checks of `mgckd validate`: calibration targets honest, mechanisms predicted."""

from __future__ import annotations

import numpy as np
import pytest

from mgckd.cpp import _kinetics
from mgckd.validate import Verdict, checks_cpp, run_validation

CALIBRATION = [
    "L-eelderink-2020-t50-general-population",
    "L-bundy-2019-t50-ckd",
    "L-lorenz-2017-t50-hemodialysis",
]
PREDICTED = ["S0-14", "S1-9", "S1-6", "S1-8", "S0-17"]


@pytest.fixture(scope="module")
def rows():  # type: ignore[no-untyped-def]
    return {row.id: row for row in run_validation(ids=[*CALIBRATION, *PREDICTED, "S0-13"]).rows}


def test_calibration_targets_pass_and_say_they_were_fitted(rows) -> None:  # type: ignore[no-untyped-def]
    for claim_id in CALIBRATION:
        assert rows[claim_id].verdict is Verdict.PASS, rows[claim_id].detail
        assert "passes by construction" in rows[claim_id].detail


def test_mechanisms_and_oral_mg_are_predicted(rows) -> None:  # type: ignore[no-untyped-def]
    for claim_id in PREDICTED:
        assert rows[claim_id].verdict is Verdict.PASS, (claim_id, rows[claim_id].detail)
    assert "Predicted, not fitted" in rows["S0-17"].detail
    assert "MgHPO4" in rows["S1-8"].detail


def test_s0_13_holds_its_two_parts_and_waits_for_calcification(rows) -> None:  # type: ignore[no-untyped-def]
    row = rows["S0-13"]
    assert row.verdict is Verdict.PENDING
    assert "hydroxyapatite" in row.detail
    assert "issue 7" in row.detail


def test_mg_checks_fail_when_mg_accelerated_maturation(monkeypatch: pytest.MonkeyPatch) -> None:
    """A model in which Mg sped CPP maturation up must fail S0-14, S1-9 and S0-17."""
    original = _kinetics.inhibition_factor

    def mg_accelerates(mg, fetuin, ppi, params):  # type: ignore[no-untyped-def]
        return original(0.0, fetuin, ppi, params) * (1.0 + np.asarray(mg))

    monkeypatch.setattr(_kinetics, "inhibition_factor", mg_accelerates)
    monkeypatch.setattr("mgckd.cpp._in_vivo.inhibition_factor", mg_accelerates)
    for check in (
        checks_cpp.mg_suppresses_cpp_maturation,
        checks_cpp.serum_mg_delays_maturation,
        checks_cpp.oral_mg_raises_t50_in_ckd,
    ):
        assert check().verdict is Verdict.FAIL, check.__name__


def test_pyrophosphate_check_fails_without_pyrophosphate_inhibition(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original = _kinetics.inhibition_factor

    def no_ppi(mg, fetuin, ppi, params):  # type: ignore[no-untyped-def]
        return original(mg, fetuin, 0.0 * np.asarray(ppi), params)

    monkeypatch.setattr(_kinetics, "inhibition_factor", no_ppi)
    assert checks_cpp.mg_phosphate_complexes_and_pyrophosphate().verdict is Verdict.FAIL
