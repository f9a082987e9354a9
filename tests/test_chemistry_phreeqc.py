"""Cross-check against PHREEQC (phreeqpython, the ``peers`` extra), started by the test itself.

Acceptance (issue 3): on at least 200 random plasma-like compositions, albumin off, with the
``phreeqc`` constant set, free Ca and free Mg agree within 1 % and the hydroxyapatite saturation
index within 0.05. In practice the two codes agree to about 1e-6, PHREEQC's own convergence limit.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from mgckd.chemistry import (
    PHASES,
    PlasmaComposition,
    constant_set,
    random_plasma,
    reference_plasma,
    speciate,
)
from mgckd.chemistry._phreeqc import Phreeqc, phreeqc_speciate
from mgckd.exceptions import UserInputError

pytestmark = [
    pytest.mark.validation,
    pytest.mark.skipif(
        importlib.util.find_spec("phreeqpython") is None,
        reason="phreeqpython (the 'peers' extra) is not installed: pip install -e '.[peers]'",
    ),
]

N_COMPOSITIONS = 250


@pytest.fixture(scope="module")
def compositions() -> PlasmaComposition:
    return random_plasma(N_COMPOSITIONS, rng=np.random.default_rng(2024), albumin=False)


def test_free_ca_mg_and_saturation_match_phreeqc(compositions: PlasmaComposition) -> None:
    ours = speciate(compositions, constants="phreeqc").to_frame()
    peer = phreeqc_speciate(compositions)
    assert len(peer) == N_COMPOSITIONS >= 200
    for column in ("ca_ionized_mmol_l", "mg_ionized_mmol_l"):
        relative = np.abs(ours[column] / peer[column] - 1.0)
        assert relative.max() < 0.01, column  # acceptance: 1 %
        assert relative.max() < 1e-4, column  # what the two codes actually reach
    hap = np.abs(ours["si_hydroxyapatite"] - peer["si_hydroxyapatite"])
    assert hap.max() < 0.05  # acceptance
    assert hap.max() < 1e-3
    for phase in PHASES:
        column = f"si_{phase.name}"
        assert np.abs(ours[column] - peer[column]).max() < 1e-3, column
    np.testing.assert_allclose(
        ours["ionic_strength_mol_l"], peer["ionic_strength_mol_l"], rtol=1e-4
    )


def test_log_k_at_37c_equals_phreeqc() -> None:
    cs = constant_set("phreeqc")
    species = [name for s, name in enumerate(cs.species) if not cs.is_master[s]]
    peer = Phreeqc().log_k(species)
    for name in species:
        assert cs.log_k_reaction[cs.index(name)] == pytest.approx(peer[name], abs=1e-4), name


def test_phreeqc_refuses_the_protein_terms() -> None:
    with pytest.raises(UserInputError, match="albumin"):
        phreeqc_speciate(reference_plasma("normal"), constants="plasma")
