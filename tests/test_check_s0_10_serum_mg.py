"""The serum Mg course of S0-10's MgO trial (claim L-sakaguchi-2019-mgo-serum-mg): the check runs
on the whole-body model, its verdict follows its own numbers, and it can both fail and pass."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from mgckd.params import parameters
from mgckd.validate import Verdict
from mgckd.validate._claims import Role, claim
from mgckd.validate.checks_physiology import (
    MGO_TRIAL_ARMS,
    MGO_TRIAL_STAGES,
    MgoTrial,
    mgo_serum_mg_course,
    mgo_trial,
    mgo_trial_verdict,
)

CLAIM_ID = "L-sakaguchi-2019-mgo-serum-mg"
NEGLIGIBLE_DOSE_MG_D = 1e-6
"""MgO whose Mg never reaches the absorptive pool: the arm gets (almost) nothing."""
AVAILABLE = "mg_oxide_available_fraction"
LINDBERG_PEAK_ACID = 0.43
"""Share of a MgO load dissolved at simulated peak gastric acid in vitro (Lindberg et al. 1990,
doi:10.1080/07315724.1990.10720349)."""


@pytest.fixture(scope="module")
def shipped() -> MgoTrial:
    return mgo_trial()


def test_claim_is_a_validation_target() -> None:
    assert claim(CLAIM_ID).role is Role.VALIDATION


def test_check_runs_and_its_verdict_follows_its_numbers(shipped: MgoTrial) -> None:
    ok, _ = mgo_trial_verdict(shipped)
    result = mgo_serum_mg_course()
    assert result.verdict is (Verdict.PASS if ok else Verdict.FAIL)
    assert "mg/dL" in str(result.model)
    assert "phosphate" in str(result.model)
    assert result.figure is not None
    assert isinstance(result.figure(), Figure)


def test_control_arm_holds_and_the_mgo_arm_rises(shipped: MgoTrial) -> None:
    """Controls keep their mean serum Mg within the tolerance over 2 years (their GFR falls
    slowly); MgO raises it in every patient."""
    control = shipped.mean("control", "plasma_mg_total_mmol_l")
    assert abs(control[-1] - control[0]) < claim(CLAIM_ID).tolerance.value
    assert np.all(shipped.serum_mg_mg_dl("MgO")[-1] > shipped.serum_mg_mg_dl("control")[-1])
    assert shipped.included.sum() == len(shipped.cohort)


def test_arms_start_together_on_the_registry_dose(shipped: MgoTrial) -> None:
    dose = parameters()["sakaguchi_2019_mgo_dose_mg_d"].to("mg/d")
    assert shipped.dose_mg_d == pytest.approx(dose)
    assert shipped.available_fraction == parameters()[AVAILABLE].to("1")
    start = [shipped.serum_mg_mg_dl(arm)[0] for arm in MGO_TRIAL_ARMS]
    np.testing.assert_allclose(start[0], start[1], rtol=1e-9)
    assert shipped.time_months[-1] == pytest.approx(24.0)
    assert set(shipped.cohort.to_frame()["ckd_stage"]) <= set(MGO_TRIAL_STAGES)
    assert not shipped.cohort.column("mgo_laxative").any()


def test_fails_when_the_mgo_is_not_absorbed() -> None:
    """MgO that never reaches the absorptive pool leaves the MgO arm at the controls': a fail."""
    ok, end = mgo_trial_verdict(mgo_trial(dose_mg_d=NEGLIGIBLE_DOSE_MG_D))
    assert not ok
    assert end["MgO"] == pytest.approx(end["control"], abs=1e-3)


def test_fails_when_all_the_mgo_dissolves() -> None:
    """The old model (every MgO molecule dissolved into the absorptive pool) overshoots: a fail
    above the published value (docs/physiology.md#the-mgo-trials-serum-mg-course)."""
    ok, end = mgo_trial_verdict(mgo_trial(overrides={AVAILABLE: 1.0}))
    assert not ok
    assert end["MgO"] > claim(CLAIM_ID).published.item("serum Mg at 2 years, MgO").value


def test_passes_at_the_upper_bound_of_mgo_dissolution() -> None:
    """The verdict is not hard-wired to the shipped fraction: at the 43 % of MgO that dissolved
    at peak gastric acid in vitro (Lindberg 1990, an upper bound) the MgO arm ends inside
    2.3 ± 0.12 mg/dL."""
    ok, end = mgo_trial_verdict(mgo_trial(overrides={AVAILABLE: LINDBERG_PEAK_ACID}))
    assert ok, end
