"""Calibration uncertainty: fitted-parameter covariance and its propagation to speciation."""

from __future__ import annotations

import numpy as np
import pytest

from mgckd.calibrate import _uncertainty as uncertainty
from mgckd.calibrate import parameter_covariance, problems
from mgckd.chemistry import (
    PlasmaComposition,
    constant_set,
    reference_plasma,
    speciate,
    speciation_sd,
)
from mgckd.exceptions import UserInputError


@pytest.fixture(scope="module")
def covariance():  # type: ignore[no-untyped-def]
    return parameter_covariance(problems()["chemistry"])


def _references() -> PlasmaComposition:
    return PlasmaComposition.concat([reference_plasma(n) for n in ("normal", "hemodialysis")])


def test_covariance_is_symmetric_positive_definite(covariance) -> None:  # type: ignore[no-untyped-def]
    assert covariance.names == (
        "plasma_log_k_caalb",
        "plasma_log_k_mgalb",
        "plasma_log_k_uremic_anion",
    )
    np.testing.assert_allclose(covariance.covariance, covariance.covariance.T)
    assert np.all(np.linalg.eigvalsh(covariance.covariance) > 0)


def test_looser_targets_mean_wider_parameters(covariance, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """Every target's tolerance doubled → every parameter SD doubled (the map is linear)."""
    scale = uncertainty.target_scale
    monkeypatch.setattr(uncertainty, "target_scale", lambda t: 2.0 * scale(t))
    wider = parameter_covariance(problems()["chemistry"])
    np.testing.assert_allclose(wider.sd, 2.0 * covariance.sd, rtol=1e-6)


def test_propagated_sd_matches_monte_carlo(covariance) -> None:  # type: ignore[no-untyped-def]
    """First-order SD of ionized Mg and Ca against 300 parameter draws (seeded)."""
    composition = _references()
    linear = speciation_sd(
        composition,
        names=covariance.names,
        values=covariance.values.tolist(),
        covariance=covariance.covariance,
    )
    rng = np.random.default_rng(20261121)
    draws = rng.multivariate_normal(covariance.values, covariance.covariance, size=300)
    mg, ca = [], []
    for draw in draws:
        overrides = dict(zip(covariance.names, map(float, draw), strict=True))
        frame = speciate(composition, constants=constant_set("plasma", overrides=overrides))
        mg.append(frame.to_frame()["mg_ionized_mmol_l"].to_numpy())
        ca.append(frame.to_frame()["ca_ionized_mmol_l"].to_numpy())
    np.testing.assert_allclose(linear["mg_ionized_mmol_l"], np.std(mg, axis=0), rtol=0.15)
    np.testing.assert_allclose(linear["ca_ionized_mmol_l"], np.std(ca, axis=0), rtol=0.15)


def test_sd_is_wider_where_the_uremic_ligand_matters(covariance) -> None:  # type: ignore[no-untyped-def]
    """Hemodialysis plasma also carries the uremic-anion constant's uncertainty."""
    sd = speciation_sd(
        _references(),
        names=covariance.names,
        values=covariance.values.tolist(),
        covariance=covariance.covariance,
    )["mg_ionized_mmol_l"]
    assert sd[1] > sd[0] > 0


def test_mismatched_covariance_is_refused(covariance) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UserInputError, match="does not match 3 parameters"):
        speciation_sd(
            _references(),
            names=covariance.names,
            values=covariance.values.tolist(),
            covariance=np.eye(2),
        )
