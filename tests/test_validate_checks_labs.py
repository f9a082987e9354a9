"""The labs checks pass on the shipped definitions and fail when a cut-point moves."""

from __future__ import annotations

import dataclasses

import pytest

from mgckd.labs import _categories
from mgckd.params import ParameterSet, parameters
from mgckd.validate import Verdict
from mgckd.validate.checks_labs import (
    hypomagnesemia_threshold,
    reference_range_and_proposed_cut_point,
)


def _with(name: str, value: float | tuple[float, ...]) -> ParameterSet:
    registry = dict(parameters())
    registry[name] = dataclasses.replace(registry[name], value=value)
    return ParameterSet(registry)


def test_shipped_definitions_pass() -> None:
    assert hypomagnesemia_threshold().verdict is Verdict.PASS
    assert reference_range_and_proposed_cut_point().verdict is Verdict.PASS


@pytest.mark.parametrize("cut_point_mg_dl", [1.7, 1.81, 2.0])
def test_s0_1_fails_when_the_threshold_moves(
    monkeypatch: pytest.MonkeyPatch, cut_point_mg_dl: float
) -> None:
    moved = _with("mg_hypomagnesemia_cutpoint", cut_point_mg_dl)
    monkeypatch.setattr(_categories, "parameters", lambda: moved)
    result = hypomagnesemia_threshold()
    assert result.verdict is Verdict.FAIL
    assert f"{cut_point_mg_dl:g}" in str(result.model)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("mg_reference_range_general", (0.65, 1.1)),
        ("mg_reference_range_general", (0.7, 1.05)),
        ("mg_proposed_lower_cutpoint", 0.85),
    ],
)
def test_s1_15_fails_when_a_limit_moves(
    monkeypatch: pytest.MonkeyPatch, name: str, value: float | tuple[float, ...]
) -> None:
    monkeypatch.setattr(_categories, "parameters", lambda: _with(name, value))
    assert reference_range_and_proposed_cut_point().verdict is Verdict.FAIL
