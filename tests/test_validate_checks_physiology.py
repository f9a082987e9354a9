"""The physiology checks pass on the shipped model and fail when its mechanism is reversed."""

from __future__ import annotations

import numpy as np

from mgckd.validate import Verdict
from mgckd.validate._claims import claim
from mgckd.validate.checks_physiology import (
    causes_of_hypomagnesemia,
    ckd_steady_states,
    femg_by_gfr,
    femg_rises_as_gfr_falls,
    rises_past,
    s0_3_conditions,
    s0_4_response,
    tubular_injury_and_mg_response,
)


def test_shipped_model_passes() -> None:
    for check in (
        causes_of_hypomagnesemia,
        tubular_injury_and_mg_response,
        femg_rises_as_gfr_falls,
    ):
        assert check().verdict is Verdict.PASS


def test_s0_4_fails_when_injury_is_turned_into_protection() -> None:
    """A negative 'injury' raises tubular capacity: FEMg falls and the Mg rise grows."""
    response = s0_4_response(tubular_injury=-0.3)
    c = claim("S0-4")
    assert not c.judge(response["fe_injured"] - response["fe_intact"], sign=+1)
    assert not c.judge(response["rise_injured"] - response["rise_intact"], sign=-1)


def test_s0_3_fails_for_a_protective_condition() -> None:
    states = ckd_steady_states(s0_3_conditions(tubular_injury=-0.3))
    mg0, _ = states.of("reference")
    mg, _ = states.of("tubular injury")
    assert not claim("S0-3").judge(mg - mg0, sign=-1)


def test_femg_criterion_rejects_a_course_that_does_not_rise_past_the_floor() -> None:
    """GFR listed upwards (FEMg falling), or a floor above the model's value, fail."""
    fe = femg_by_gfr(np.array([15.0, 60.0, 120.0])).fe_mg_percent
    assert not rises_past(fe, 15.0)
    assert rises_past(fe[::-1], 15.0)
    assert not rises_past(fe[::-1], 50.0)
