"""The hemodialysis checks of `mgckd validate`, on the Mg model (fast; `mgckd validate` runs
them on the whole-body model): predicted, and able to fail."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from mgckd.chemistry import PlasmaComposition
from mgckd.dialysis import dialysate_trial_arms, with_dialysis
from mgckd.model import Model
from mgckd.params import parameters
from mgckd.physiology import magnesium_model, whole_body_model
from mgckd.validate import Verdict, checks_dialysis


@pytest.fixture(autouse=True)
def mg_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        checks_dialysis, "reference_model", lambda: with_dialysis(magnesium_model())
    )


def _whole_body() -> Model:
    return with_dialysis(whole_body_model())


@pytest.mark.slow
def test_lowering_the_dialysate_step_by_step_lowers_mg_and_loses_mg() -> None:
    result = checks_dialysis.dialysate_mg_steps_down()
    assert result.verdict is Verdict.PASS, result.detail
    assert "exact" in result.detail


def test_steps_that_are_not_the_seeds_or_raise_mg_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    """Judged on stand-in simulation results (the simulations are tested above)."""
    rising = pd.DataFrame(
        {"mg_total_pre_mmol_l": [0.8, 1.0, 1.2], "mg_ionized_pre_mmol_l": [0.4, 0.5, 0.6]}
    )
    monkeypatch.setattr(checks_dialysis, "_levels", lambda model, levels: rising)
    monkeypatch.setattr(
        checks_dialysis, "_step_balance", lambda model, steps: np.array([-10.0, -10.0])
    )
    assert checks_dialysis.dialysate_mg_steps_down().verdict is Verdict.FAIL  # Mg rises
    falling = rising.iloc[::-1].reset_index(drop=True)
    monkeypatch.setattr(checks_dialysis, "_levels", lambda model, levels: falling)
    assert checks_dialysis.dialysate_mg_steps_down().verdict is Verdict.PASS
    monkeypatch.setattr(checks_dialysis, "_steps", lambda: (1.0, 0.5, 0.25))
    assert checks_dialysis.dialysate_mg_steps_down().verdict is Verdict.FAIL  # not the seed's


@pytest.mark.slow
def test_the_target_uses_the_seed_limits_and_fails_with_others(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    result = checks_dialysis.mild_hypermagnesemia_target()
    assert result.verdict is Verdict.PASS, result.detail
    registry = dict(parameters())
    band = registry["hemodialysis_mg_target_mg_dl"]
    registry["hemodialysis_mg_target_mg_dl"] = replace(band, value=(2.5, 3.0))
    monkeypatch.setattr(checks_dialysis, "parameters", lambda: registry)
    assert checks_dialysis.mild_hypermagnesemia_target().verdict is Verdict.FAIL


@pytest.mark.slow
def test_the_dialysate_trial_is_judged_on_simulated_plasma(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The CPP kinetics were fitted on the arms the dialysis model predicts: the check passes
    by construction, and fails when the arms lose their serum Mg gap."""
    arms = dialysate_trial_arms()
    assert arms.plasma.magnesium_mmol_l[1] - arms.plasma.magnesium_mmol_l[0] > 0.1
    result = checks_dialysis.dialysate_mg_raises_t50()
    assert result.verdict is Verdict.PASS, result.detail
    assert "nothing of it was tuned to this claim" in result.detail
    fields = arms.plasma.to_dict()
    fields["magnesium_mmol_l"] = np.repeat(fields["magnesium_mmol_l"][0], 2)
    no_gap = replace(arms, plasma=PlasmaComposition.from_dict(fields, assumed=()))
    monkeypatch.setattr(checks_dialysis, "dialysate_trial_arms", lambda: no_gap)
    assert checks_dialysis.dialysate_mg_raises_t50().verdict is Verdict.FAIL


@pytest.mark.slow
def test_the_intradialytic_checks_report_predictions() -> None:
    for check in (
        checks_dialysis.leenders_intradialytic_fall,
        checks_dialysis.han_intradialytic_fall,
        checks_dialysis.nephron_2002_intradialytic_fall,
    ):
        result = check()
        assert result.verdict in (Verdict.PASS, Verdict.FAIL), check.__name__
        assert "Predicted, not fitted" in result.detail


def test_the_hourly_phosphate_removal_is_judged_on_the_first_hour(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Judged on stand-in shares (the whole-body simulation is tested in
    test_dialysis_whole_body.py): the published profile passes, an even spread — what tissues
    refilling the ECF as fast as the dialyzer clears it give — fails."""
    monkeypatch.setattr(checks_dialysis, "reference_model", _whole_body)
    published = np.array([0.348, 0.251, 0.210, 0.192])
    monkeypatch.setattr(checks_dialysis, "_hourly_phosphate_removal", lambda model: published)
    assert checks_dialysis.phosphate_removal_by_hour().verdict is Verdict.PASS
    even = np.full(4, 0.25)
    monkeypatch.setattr(checks_dialysis, "_hourly_phosphate_removal", lambda model: even)
    assert checks_dialysis.phosphate_removal_by_hour().verdict is Verdict.FAIL


def test_without_phosphate_the_hourly_check_is_pending() -> None:
    assert checks_dialysis.phosphate_removal_by_hour().verdict is Verdict.PENDING
