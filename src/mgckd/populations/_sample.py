"""Sample virtual patients from a preset: a Gaussian copula joins the documented marginals.

Draw standard normals, correlate them with the Cholesky factor of the preset's latent
correlation matrix, map each through the normal CDF to a uniform and through its marginal's
quantile function to a characteristic. Seeded: the same preset, size and seed give the same
patients.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtr

from mgckd.exceptions import RegistryError, UserInputError
from mgckd.labs import kdigo_gfr_category
from mgckd.populations._presets import BOOLEAN_CHARACTERISTICS, Preset, preset

_HD_STAGE = "G5D"


def generator(seed: int | np.random.Generator) -> np.random.Generator:
    """A numpy Generator from a seed (or the generator itself)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise UserInputError(f"seed {seed!r} must be a whole number or a numpy Generator")
    return np.random.default_rng(int(seed))


def chunk_generator(seed: int, index: int) -> np.random.Generator:
    """The independent generator of chunk `index` of a run seeded with `seed`."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(index,)))


@dataclass(frozen=True, eq=False)
class Population:
    """Virtual patients: one row per patient of `characteristics`.

    Attributes
    ----------
    preset : the preset the patients were drawn from.
    characteristics : patient_id, dialysis, ckd_stage and every characteristic of the preset
        (units in the names: age_years, egfr_ml_min_1_73m2, upcr_g_g, diet_mg_mmol_d, ...;
        yes/no characteristics as booleans; NaN where a cohort does not have one).
    metadata : how the patients were drawn (preset, seed).
    """

    preset: Preset
    characteristics: pd.DataFrame
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.characteristics)

    def column(self, name: str) -> NDArray[np.float64]:
        """One numeric characteristic as floats (booleans as 0/1)."""
        return np.asarray(self.characteristics[name], dtype=np.float64)

    def take(self, index: ArrayLike) -> Population:
        """The patients at `index` (integers or a boolean mask), in that order."""
        rows = self.characteristics.iloc[np.asarray(index)].reset_index(drop=True)
        return Population(self.preset, rows, self.metadata)

    def in_stages(self, stages: Sequence[str]) -> Population:
        """The patients whose CKD stage (``G1`` … ``G5``, ``G5D``) is one of `stages`, in order:
        a cohort of those stages with the case mix the preset gives them."""
        return self.take(self.characteristics["ckd_stage"].isin(list(stages)).to_numpy())

    def to_frame(self) -> pd.DataFrame:
        """The characteristics (a copy)."""
        return self.characteristics.copy()

    def summary(self) -> pd.DataFrame:
        """One row per characteristic: mean (share for yes/no), SD, 2.5th, 50th, 97.5th
        percentiles; and the share per CKD stage."""
        rows = []
        for name in self.preset.marginals:
            values = self.column(name)
            if not np.isfinite(values).any():
                continue
            q = np.nanpercentile(values, [2.5, 50, 97.5])
            rows.append(
                {
                    "characteristic": name,
                    "mean": float(np.nanmean(values)),
                    "sd": float(np.nanstd(values)),
                    "p2_5": q[0],
                    "median": q[1],
                    "p97_5": q[2],
                }
            )
        stages = self.characteristics["ckd_stage"].value_counts(normalize=True).sort_index()
        rows += [{"characteristic": f"stage {s}", "mean": float(v)} for s, v in stages.items()]
        return pd.DataFrame(rows)


def _cholesky(p: Preset) -> NDArray[np.float64]:
    try:
        factor = np.asarray(np.linalg.cholesky(p.correlation_matrix()), dtype=np.float64)
    except np.linalg.LinAlgError:
        raise RegistryError(
            f"population preset {p.name!r}: its latent correlations do not form a positive "
            "definite matrix (check the *_correlation_* entries of populations.toml)"
        ) from None
    return factor


def sample_population(
    name: str | Preset,
    n: int,
    *,
    rng: int | np.random.Generator,
    id_offset: int = 0,
) -> Population:
    """Draw `n` virtual patients from a preset.

    Parameters
    ----------
    name : the preset (``ckd_g1_g5``, ``jsdt_hd``) or a `Preset`.
    n : number of patients.
    rng : a seed (recorded in the metadata) or a numpy Generator.
    id_offset : number of the first patient (ids are ``p<number>``).

    Returns
    -------
    Population

    Examples
    --------
    >>> cohort = sample_population("ckd_g1_g5", 1000, rng=2019)
    >>> cohort.characteristics["ckd_stage"].isin(["G1", "G2", "G3a", "G3b", "G4", "G5"]).all()
    np.True_
    """
    p = name if isinstance(name, Preset) else preset(name)
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise UserInputError(f"n: the number of patients must be a whole number ≥ 1, not {n!r}")
    generator_ = generator(rng)
    names: Sequence[str] = list(p.marginals)
    latent = _cholesky(p) @ generator_.standard_normal((len(names), int(n)))
    uniforms = np.clip(ndtr(latent), np.finfo(float).tiny, 1.0 - np.finfo(float).eps)
    columns: dict[str, Any] = {
        "patient_id": [f"p{id_offset + i}" for i in range(int(n))],
        "dialysis": np.full(int(n), p.dialysis),
    }
    for row, characteristic in enumerate(names):
        values = p.marginals[characteristic].ppf(np.asarray(uniforms[row], dtype=np.float64))
        columns[characteristic] = (
            values.astype(bool) if characteristic in BOOLEAN_CHARACTERISTICS else values
        )
    egfr = np.asarray(columns["egfr_ml_min_1_73m2"])
    columns["ckd_stage"] = np.where(np.isfinite(egfr), kdigo_gfr_category(egfr), _HD_STAGE)
    seed = None if isinstance(rng, np.random.Generator) else int(rng)
    return Population(p, pd.DataFrame(columns), {"preset": p.name, "seed": seed, "n": int(n)})
