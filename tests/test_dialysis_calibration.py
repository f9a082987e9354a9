"""The dialysis calibration simulates each target under the prescription of the cohort it was
measured in, and the virtual Japanese cohort runs at Japanese blood flows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mgckd.calibrate.problems_dialysis import (
    MG_ABSORPTION,
    MG_CLAIM,
    PHOSPHATE_CLAIM,
    PHOSPHATE_UNBOUND,
    model,
    target_prescriptions,
    target_sessions,
)
from mgckd.dialysis import Prescription
from mgckd.model import compile_model
from mgckd.params import parameters
from mgckd.physiology import whole_body_model
from mgckd.populations import hemodialysis_batch, sample_population
from mgckd.validate import claim


def _shipped() -> dict[str, float]:
    registry = parameters()
    return {n: registry[n].to(registry[n].unit) for n in (MG_ABSORPTION, PHOSPHATE_UNBOUND)}


@pytest.fixture(scope="module")
def sessions() -> pd.DataFrame:
    """The shipped calibration's long-run week, each target on its prescription."""
    return target_sessions(_shipped())


def test_the_removal_target_is_simulated_on_its_cohorts_prescription(
    sessions: pd.DataFrame,
) -> None:
    """The removal cohort's blood flow (180-300 mL/min) is the registry's covariate, and the
    phosphate target's patient is simulated on it: the same uptake removed at a higher
    pre-dialysis phosphate than on the reference prescription."""
    chosen = target_prescriptions()
    registry = parameters()
    assert chosen[PHOSPHATE_CLAIM].blood_flow_ml_min == registry["wang_2012_blood_flow_ml_min"].to(
        "mL/min"
    )
    assert chosen[MG_CLAIM] == Prescription()
    pre = sessions.groupby("claim")["pi_total_pre_mmol_l"].mean()
    assert pre[PHOSPHATE_CLAIM] > pre[MG_CLAIM] + 0.05


@pytest.mark.slow
def test_the_fit_holds_on_the_cohorts_prescription_and_not_on_the_reference(
    sessions: pd.DataFrame,
) -> None:
    """The shipped unbound phosphate meets the removal target on the cohort's prescription; on
    the reference (high-flux, 300 mL/min) prescription the same values miss it. The miss is small
    — in the long run the sessions remove what the gut absorbs, whatever the dialyzer — which is
    why the prescription moves the fitted value by only about 0.3 %."""
    target = claim(PHOSPHATE_CLAIM).published.item().value
    removed = sessions.loc[sessions["claim"] == PHOSPHATE_CLAIM, "pi_removed_mmol"].mean()
    assert removed == pytest.approx(target, abs=1e-3)
    reference = {MG_CLAIM: Prescription(), PHOSPHATE_CLAIM: Prescription()}
    _, wrong = model(_shipped(), reference)
    assert abs(wrong - target) > 0.03
    assert wrong == pytest.approx(target, rel=0.01)


def test_the_japanese_cohort_runs_at_japanese_blood_flows() -> None:
    """jsdt_hd patients get the registry's Japanese blood flow (about 200 mL/min), a covariate of
    the cohort; a preset without one would get the reference prescription's."""
    population = sample_population("jsdt_hd", 3, rng=1)
    batch = hemodialysis_batch(population, compile_model(whole_body_model()))
    flows = np.array([p.blood_flow_ml_min for p in batch.prescriptions])
    japanese = parameters()["jsdt_hd_blood_flow_ml_min"].to("mL/min")
    np.testing.assert_allclose(flows, japanese)
    assert japanese < Prescription().blood_flow_ml_min
