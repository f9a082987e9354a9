"""Parameter uncertainty of speciation outputs: first-order propagation of a covariance.

For outputs y (per sample) and registry parameters θ with covariance Σ, the variance of y is
sᵀ Σ s with s = ∂y/∂θ, taken by forward differences: one extra speciation of the whole batch per
parameter, vectorized over samples like every speciation.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from mgckd.chemistry._composition import PlasmaComposition
from mgckd.chemistry._constants import DEFAULT_SET, constant_set
from mgckd.chemistry._speciate import speciate
from mgckd.exceptions import UserInputError

IONIZED = ("mg_ionized_mmol_l", "ca_ionized_mmol_l")
"""The outputs `speciation_sd` reports by default."""

_RELATIVE_STEP = 1e-4
"""Forward-difference step, relative to max(1, |value|) of each parameter."""


def speciation_sd(
    composition: PlasmaComposition,
    *,
    names: Sequence[str],
    values: Sequence[float],
    covariance: NDArray[np.float64],
    columns: Sequence[str] = IONIZED,
    constants: str = DEFAULT_SET,
) -> dict[str, NDArray[np.float64]]:
    """Standard deviation of speciation outputs due to parameter uncertainty, per sample.

    Parameters
    ----------
    composition : the samples.
    names, values : registry parameters of the constant set and their central values
        (registry units), e.g. the fitted albumin and uremic-anion constants.
    covariance : (n, n) covariance of those parameters (registry units squared), e.g. from
        `mgckd.calibrate.parameter_covariance`.
    columns : `Speciation.to_frame` columns to report (default: ionized Mg and Ca, mmol/L).
    constants : the constant set the parameters belong to.

    Returns
    -------
    column → standard deviation per sample, in the column's unit (NaN where a sample failed).
    """
    sigma = np.asarray(covariance, dtype=np.float64)
    if sigma.shape != (len(names), len(names)) or len(values) != len(names):
        raise UserInputError(
            f"covariance {sigma.shape} does not match {len(names)} parameters and "
            f"{len(values)} values"
        )
    central = dict(zip(names, map(float, values), strict=True))

    def outputs(trial: dict[str, float]) -> NDArray[np.float64]:
        frame = speciate(
            composition, constants=constant_set(constants, overrides=trial), throw=False
        ).to_frame()
        return np.stack([frame[c].to_numpy(dtype=np.float64) for c in columns])

    base = outputs(central)
    sensitivities = []
    for name, value in central.items():
        step = _RELATIVE_STEP * max(1.0, abs(value))
        sensitivities.append((outputs({**central, name: value + step}) - base) / step)
    s = np.stack(sensitivities)  # (parameter, column, sample)
    variance = np.einsum("pcn,pq,qcn->cn", s, sigma, s)
    return {c: np.sqrt(variance[i]) for i, c in enumerate(columns)}
