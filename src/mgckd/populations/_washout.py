"""A washout: patients stop some of their own treatments before a trial's baseline.

A stopped drug is simply off. A stopped phosphate binder also stops binding: the hemodialysis
patients' usual-care binders act through the calibrated unbound fraction of their dietary
phosphate (``phosphate_unbound_fraction``, `mgckd.dialysis`; docs/populations.md#binders-and-
the-calibrated-absorption), so a binder user who stops their usual binder (calcium carbonate at
``hd_cohort_usual_binder_calcium_carbonate_mg_d``) gets back, unbound, the phosphate it bound at
the reference gut content — the first-order effect of the washout — up to all of their intake.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

from mgckd.interventions import Drug, Intervention
from mgckd.params import parameters
from mgckd.populations._sample import Population

Treatment = Literal["mgo_laxative", "loop_diuretic", "thiazide", "phosphate_binder"]
"""Own treatments a washout can stop (yes/no characteristics of every preset)."""

_BINDER = "phosphate_binder"
_UNBOUND = "phosphate_unbound_fraction"


def usual_binder_mmol_d() -> float:
    """Phosphate the usual-care binder binds a day at the reference gut content, mmol/d."""
    dose = parameters()["hd_cohort_usual_binder_calcium_carbonate_mg_d"].to("mg/d")
    binder = Intervention(drug=Drug.CALCIUM_CARBONATE, dose_mg=dose)
    return binder.per_dose()["binder_pi_capacity_mmol_h"]


def washout(population: Population, treatments: Sequence[Treatment]) -> Population:
    """`population` with `treatments` stopped (see the module docstring).

    >>> from mgckd.populations import sample_population
    >>> before = sample_population("jsdt_hd", 200, rng=1)
    >>> after = washout(before, ["phosphate_binder"])
    >>> bool(after.characteristics["phosphate_binder"].any())
    False
    """
    if not treatments:
        return population
    chars = population.to_frame()
    if _BINDER in treatments:
        users = chars[_BINDER].to_numpy(dtype=np.float64)
        freed = users * usual_binder_mmol_d() / chars["diet_phosphate_mmol_d"].to_numpy()
        chars[_UNBOUND] = np.minimum(chars[_UNBOUND].to_numpy() + freed, 1.0)
    for name in treatments:
        chars[name] = False
    metadata = {**population.metadata, "washout": tuple(treatments)}
    return Population(population.preset, chars, metadata)
