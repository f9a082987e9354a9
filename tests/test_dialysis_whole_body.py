"""Hemodialysis on the whole-body model (Mg, Ca, phosphate): a scenario file, and the
intradialytic phosphate kinetics."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mgckd.dialysis import hemodialysis, periodic_steady_state, simulate_dialysis
from mgckd.dialysis._reference import reference_model
from mgckd.exceptions import ScenarioError
from mgckd.params import parameters
from mgckd.simulate import parse_scenario, read_scenario, simulate

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "scenarios" / "hemodialysis.yaml"


def test_a_prescription_outside_its_range_in_a_file_names_the_field() -> None:
    data = {"duration_days": 7, "dialysis": {"dialysate_mg_mmol_l": 3.0}}
    with pytest.raises(ScenarioError, match=r"dialysis\.dialysate_mg_mmol_l: 3 mmol/L is outside"):
        parse_scenario(data)
    with pytest.raises(ScenarioError, match=r"dialysis\.schedule\.hours"):
        parse_scenario({"duration_days": 7, "dialysis": {"schedule": {"hours": 4}}})


@pytest.mark.slow
def test_the_example_scenario_runs_sessions_with_ca_and_phosphate() -> None:
    ready = read_scenario(EXAMPLE)
    assert {"mg_dialyzer", "ca_dialyzer", "pi_dialyzer"} <= set(ready.model.flux_names)
    result = simulate(ready.model, ready.scenario, save_at=ready.save_at_h)
    for element in ("Mg", "Ca", "P"):
        assert np.max(np.abs(result.mass_balance_error(element))) < 1e-10, element
    pi = result.rule("plasma_pi_mmol_l")
    assert np.all(pi[1] < pi[0])  # 6 h in: after the first session (and 2 h of rebound)
    ledgers = [ledger.name for ledger in ready.model.ledgers]
    removed = -result.ledgers[-1, ledgers.index("pi_dialyzer_P")]
    assert np.all(removed > 0)


# --- phosphate kinetics: tissue mobilization limits what a session takes -----------------------

WEEK_H = 168.0
PEER_UPTAKE_CLEARANCE_L_H = 0.019268 * 3226.0 / 1.1
"""The peer's (BIOMD0000000613) cell uptake of phosphate as a clearance: its release rate
constant × the intracellular pool / reference plasma phosphate (about 940 mL/min)."""


def _reference_week(overrides: dict[str, float]) -> pd.DataFrame:
    """Sessions of the reference hemodialysis patient's long-run week (whole-body model)."""
    hd = hemodialysis(reference_model(), overrides=overrides)
    steady = periodic_steady_state(hd)
    week = simulate_dialysis(hd, duration_h=WEEK_H, initial=steady.states)
    return week.sessions_frame(chemistry=False)


@pytest.mark.slow
def test_phosphate_falls_by_half_in_a_session_and_rebounds_from_the_tissues() -> None:
    """With tissue phosphate released at the measured mobilization clearance (K_M 112 mL/min),
    plasma phosphate falls by about half in a 4-h session (45-47 % measured, Elias 2018) and
    rebounds after it. With the peer's exchange (t½ 36 h: K_M about 940 mL/min) the tissues
    refill the ECF as fast as the dialyzer clears it: plasma phosphate hardly falls, and the same
    removal is read at a much lower pre-dialysis phosphate."""
    frame = _reference_week({})
    fall = 1.0 - frame["pi_total_post_mmol_l"] / frame["pi_total_pre_mmol_l"]
    assert np.all((fall > 0.4) & (fall < 0.65))
    assert np.all(frame["pi_total_rebound_mmol_l"] > frame["pi_total_post_mmol_l"] + 0.1)
    fast = _reference_week({"pi_mobilization_clearance_l_h": PEER_UPTAKE_CLEARANCE_L_H})
    fast_fall = 1.0 - fast["pi_total_post_mmol_l"] / fast["pi_total_pre_mmol_l"]
    assert np.all(fast_fall < 0.2)
    assert fast["pi_total_pre_mmol_l"].mean() < 0.8 * frame["pi_total_pre_mmol_l"].mean()
    # in the long run the sessions remove what the gut absorbs, whatever the tissues do
    assert fast["pi_removed_mmol"].mean() == pytest.approx(
        frame["pi_removed_mmol"].mean(), rel=0.03
    )


def test_a_file_patients_own_intakes_pass_through_the_reference_gut() -> None:
    """A phosphate intake given in the file is an intake: the reference patient's unbound
    fraction applies to it, as to the default; patients without one eat the reference's."""
    data = {
        "duration_days": 7,
        "patients": [{"id": "reference"}, {"id": "own", "diet_pi_mmol_d": 40.0}],
        "dialysis": {"dialysate_mg_mmol_l": 0.5},
    }
    diet = parse_scenario(data).scenario.parameters["diet_pi_mmol_h"]
    registry = parameters()
    unbound = registry["hemodialysis_phosphate_unbound_fraction"].to("1")
    intake = registry["hemodialysis_reference_diet_phosphate_mmol_d"].to("mmol/d")
    assert diet * 24.0 == pytest.approx([intake * unbound, 40.0 * unbound])
