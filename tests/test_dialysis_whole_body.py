"""Hemodialysis on the whole-body model (Mg, Ca, phosphate), through a scenario file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mgckd.exceptions import ScenarioError
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
