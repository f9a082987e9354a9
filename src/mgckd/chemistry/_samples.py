"""Random plasma-like compositions, for tests, the PHREEQC cross-check and benchmarks."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from mgckd.chemistry._composition import PlasmaComposition
from mgckd.params import parameters

FloatArray = NDArray[np.float64]

_FIELDS = (
    ("calcium", "calcium_mmol_l", "mmol/L"),
    ("magnesium", "magnesium_mmol_l", "mmol/L"),
    ("phosphate", "phosphate_mmol_l", "mmol/L"),
    ("sodium", "sodium_mmol_l", "mmol/L"),
    ("potassium", "potassium_mmol_l", "mmol/L"),
    ("chloride", "chloride_mmol_l", "mmol/L"),
    ("total_co2", "total_co2_mmol_l", "mmol/L"),
    ("sulfate", "sulfate_mmol_l", "mmol/L"),
    ("citrate", "citrate_mmol_l", "mmol/L"),
    ("lactate", "lactate_mmol_l", "mmol/L"),
    ("albumin", "albumin_g_l", "g/L"),
    ("uremic_anion", "uremic_anion_mmol_l", "mmol/L"),
    ("ph", "ph", "1"),
)


def random_plasma(n: int, *, rng: np.random.Generator, albumin: bool = True) -> PlasmaComposition:
    """`n` compositions drawn independently and uniformly over plasma-like ranges.

    The ranges (``random_plasma_range_*`` in the registry) span normal plasma, CKD and
    hemodialysis. With ``albumin=False``, albumin and the uremic-anion ligand are 0, the
    compositions PHREEQC can speciate on equal terms.

    Examples
    --------
    >>> c = random_plasma(3, rng=np.random.default_rng(0))
    >>> c.n
    3
    """
    registry = parameters()
    values: dict[str, Any] = {}
    for analyte, field, unit in _FIELDS:
        low, high = registry[f"random_plasma_range_{analyte}"].quantity.to(unit).magnitude
        values[field] = rng.uniform(low, high, n)
    if not albumin:
        values["albumin_g_l"] = np.zeros(n)
        values["uremic_anion_mmol_l"] = np.zeros(n)
    return PlasmaComposition(**values)
