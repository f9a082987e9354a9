"""Marginal distributions of patient characteristics, each given by its quantile function.

The sampler (``_sample.py``) draws correlated uniforms with a Gaussian copula and turns each into
a characteristic with ``ppf`` (the inverse cumulative distribution function), so every marginal
keeps exactly its documented distribution whatever the correlations.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.special import ndtr, ndtri

from mgckd.exceptions import RegistryError

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class TruncatedNormal:
    """Normal(mean, sd) restricted to [low, high] (either may be infinite).

    >>> TruncatedNormal(60.0, 10.0, 30.0, 90.0).ppf(np.array([0.5])).round(6).tolist()
    [60.0]
    """

    mean: float
    sd: float
    low: float = -math.inf
    high: float = math.inf

    def __post_init__(self) -> None:
        if not (self.sd > 0 and self.low < self.high):
            raise RegistryError(f"{self!r}: needs sd > 0 and low < high")

    def ppf(self, u: FloatArray) -> FloatArray:
        """Quantiles at probabilities `u` (0 < u < 1)."""
        lo = ndtr((self.low - self.mean) / self.sd)
        hi = ndtr((self.high - self.mean) / self.sd)
        out: FloatArray = self.mean + self.sd * ndtri(lo + u * (hi - lo))
        return np.clip(out, self.low, self.high)


@dataclass(frozen=True, slots=True)
class LogNormal:
    """Log-normal with the given median and geometric SD (exp of the SD of the log), optionally
    restricted to values at most `high`.

    >>> round(float(LogNormal(0.3, 4.0).ppf(np.array([0.5]))[0]), 6)
    0.3
    >>> float(LogNormal(1.0, 3.0, high=2.0).ppf(np.array([0.999999]))[0]) <= 2.0
    True
    """

    median: float
    geometric_sd: float
    high: float = math.inf

    def __post_init__(self) -> None:
        if not (self.median > 0 and self.geometric_sd > 1 and self.high > 0):
            raise RegistryError(f"{self!r}: needs median > 0, geometric SD > 1 and high > 0")

    @classmethod
    def from_cv(cls, median: float, cv: float) -> LogNormal:
        """The log-normal with coefficient of variation `cv` (SD over mean)."""
        return cls(median, math.exp(math.sqrt(math.log1p(cv**2))))

    def ppf(self, u: FloatArray) -> FloatArray:
        """Quantiles at probabilities `u` (of the distribution restricted to ≤ `high`)."""
        log_sd = math.log(self.geometric_sd)
        top = float(ndtr(math.log(self.high / self.median) / log_sd))
        out: FloatArray = self.median * np.exp(log_sd * ndtri(u * top))
        return np.minimum(out, self.high)


@dataclass(frozen=True, slots=True)
class Bernoulli:
    """Yes (1.0) with probability `p`; a higher latent value means yes, so a positive copula
    correlation makes the characteristic more common where the other is high.

    >>> Bernoulli(0.25).ppf(np.array([0.1, 0.8])).tolist()
    [0.0, 1.0]
    """

    p: float

    def __post_init__(self) -> None:
        if not 0 <= self.p <= 1:
            raise RegistryError(f"{self!r}: p must lie in [0, 1]")

    def ppf(self, u: FloatArray) -> FloatArray:
        """1.0 where `u` lies in the top `p` of (0, 1), else 0.0."""
        return np.asarray(u > 1.0 - self.p, dtype=np.float64)


@dataclass(frozen=True, slots=True)
class PiecewiseUniform:
    """A histogram density: `weights[i]` of the mass spread evenly over [edges[i], edges[i+1]].

    Used for eGFR with a given share of patients per KDIGO category.

    >>> PiecewiseUniform((0.0, 10.0, 20.0), (0.5, 0.5)).ppf(np.array([0.25, 0.75])).tolist()
    [5.0, 15.0]
    """

    edges: tuple[float, ...]
    weights: tuple[float, ...]

    def __post_init__(self) -> None:
        edges, weights = np.asarray(self.edges), np.asarray(self.weights)
        if (
            edges.size != weights.size + 1
            or np.any(np.diff(edges) <= 0)
            or np.any(weights < 0)
            or not math.isclose(float(weights.sum()), 1.0, rel_tol=1e-9)
        ):
            raise RegistryError(
                f"{self!r}: needs increasing edges, one more than the weights, and non-negative "
                "weights summing to 1"
            )

    def ppf(self, u: FloatArray) -> FloatArray:
        """Quantiles at probabilities `u` (the cumulative distribution is piecewise linear)."""
        cumulative = np.concatenate(([0.0], np.cumsum(self.weights)))
        out: FloatArray = np.interp(u, cumulative, np.asarray(self.edges, dtype=np.float64))
        return out


@dataclass(frozen=True, slots=True)
class Constant:
    """The same value for every patient (NaN for a characteristic a cohort does not have).

    >>> Constant(0.5).ppf(np.array([0.1, 0.9])).tolist()
    [0.5, 0.5]
    """

    value: float

    def ppf(self, u: FloatArray) -> FloatArray:
        """`value` for each probability."""
        return np.full(np.shape(u), self.value, dtype=np.float64)


Marginal = TruncatedNormal | LogNormal | Bernoulli | PiecewiseUniform | Constant
