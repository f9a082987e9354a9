"""The long-run cycle of a large batch: shared, then per-patient (Broyden) Jacobians."""

from __future__ import annotations

import numpy as np

from mgckd.dialysis import periodic_steady_state
from mgckd.model import compile_model
from mgckd.physiology import magnesium_model
from mgckd.populations import sample_population
from mgckd.populations._hemodialysis import hemodialysis_batch

LARGE = 60  # 60 patients x 6 unknowns: more columns than patients, so the first is shared
ALONE = (0, 17, 42)
BROYDEN_ITERATIONS = 7  # 6 here; without the updates (a chord method) 12


def test_a_large_batch_finds_each_patients_own_cycle() -> None:
    compiled = compile_model(magnesium_model())
    population = sample_population("jsdt_hd", LARGE, rng=3)
    batch = periodic_steady_state(hemodialysis_batch(population, compiled))
    assert batch.succeeded.all()
    assert batch.iterations <= BROYDEN_ITERATIONS
    for i in ALONE:
        alone = periodic_steady_state(hemodialysis_batch(population.take([i]), compiled))
        np.testing.assert_allclose(batch.states[:, i], alone.states[:, 0], rtol=3e-5)
