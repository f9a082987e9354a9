"""Checks of the calcification model: they pass on the model, and fail when Mg's effect is gone."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from mgckd.calcification import (
    CalcificationParameters,
    Pathways,
    simulate_cac,
    tzanakis_2014_arms,
)
from mgckd.validate import Verdict, checks_calcification, run_validation

IDS = ["S0-9", "S0-10", "S0-12", "S1-11", "S1-17"]


def test_the_calcification_checks_pass() -> None:
    report = run_validation(ids=IDS)
    assert {row.id: row.verdict for row in report.rows} == dict.fromkeys(IDS, Verdict.PASS)
    detail = {row.id: row.detail for row in report.rows}
    assert "passes by construction" in detail["S0-10"]
    assert "predicted, not fitted" in detail["S0-12"]


def test_s0_12_fails_when_mg_no_longer_acts(monkeypatch: pytest.MonkeyPatch) -> None:
    control = tzanakis_2014_arms().control

    def without_mg(course: Any, **options: Any) -> Any:
        removed = Pathways(mg_passive=False, mg_active=False)
        return simulate_cac(course, pathways=removed, mg_reference=control, **options)

    monkeypatch.setattr(checks_calcification, "simulate_cac", without_mg)
    assert checks_calcification.mg_carbonate_slows_calcification().verdict is Verdict.FAIL


def test_s0_9_fails_when_mg_no_longer_acts(monkeypatch: pytest.MonkeyPatch) -> None:
    def without_mg(course: Any, *, pathways: Pathways) -> Any:
        first = course.with_values(magnesium_mmol_l=course.values["magnesium_mmol_l"][:, :1])
        removed = replace(pathways, mg_passive=False, mg_active=False)
        return simulate_cac(course, pathways=removed, mg_reference=first)

    monkeypatch.setattr(checks_calcification, "simulate_cac", without_mg)
    assert checks_calcification.mg_slows_phosphate_induced_calcification().verdict is Verdict.FAIL


def test_s1_11_fails_when_trpm7_is_blocked(monkeypatch: pytest.MonkeyPatch) -> None:
    blocked = replace(CalcificationParameters.from_registry(), trpm7_activity=0.0)
    monkeypatch.setattr(
        checks_calcification.CalcificationParameters, "from_registry", lambda: blocked
    )
    assert checks_calcification.trpm7_mg_slows_vsmc_conversion().verdict is Verdict.FAIL


def test_figures_draw() -> None:
    for check in (
        checks_calcification.mgo_slows_cac_calibration,
        checks_calcification.passive_and_active_shares,
    ):
        figure = check().figure
        assert figure is not None
        assert figure().axes
