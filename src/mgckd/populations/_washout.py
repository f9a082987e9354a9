"""A washout: patients stop some of their own treatments before a trial's baseline.

A stopped drug is simply off. A stopped phosphate binder also stops binding: the hemodialysis
patients' usual-care binders act through the calibrated unbound fraction of their dietary
phosphate (``phosphate_unbound_fraction``, `mgckd.dialysis`; docs/populations.md#binders-and-
the-calibrated-absorption). In the model's first-order gut a binder of capacity C lowers
absorption by the factor 1/(1 + β), β = C / the reference diet, so the calibrated fraction of a
binder user who stops their usual binder (calcium carbonate at
``hd_cohort_usual_binder_calcium_carbonate_mg_d``) is multiplied by 1 + β, up to all of their
intake.
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


def usual_binder_ratio() -> float:
    """β of the usual-care binder: its binding over the gut lumen's other exits (capacity over
    the reference diet); absorption with it is 1/(1 + β) of absorption without."""
    return usual_binder_mmol_d() / parameters()["diet_pi_mmol_d"].to("mmol/d")


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
        freed = 1.0 + users * usual_binder_ratio()
        chars[_UNBOUND] = np.minimum(chars[_UNBOUND].to_numpy() * freed, 1.0)
    for name in treatments:
        chars[name] = False
    metadata = {**population.metadata, "washout": tuple(treatments)}
    return Population(population.preset, chars, metadata)
