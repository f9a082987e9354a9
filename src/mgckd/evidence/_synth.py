"""A synthetic JSDT-like hemodialysis registry with planted effects, to show analyses recover them.

Until mgckd has an outcome model (issue 7), the planted effects come from the parameter registry
(``synth_*`` in ``params/data/evidence.toml``): the Mg-band odds ratios of S0-19 and assumed
phosphate slopes per Mg band. Everything random flows from one seed, kept in the metadata.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import optimize, stats

from mgckd._version import __version__
from mgckd.exceptions import UserInputError
from mgckd.labs import hemodialysis_band
from mgckd.params import parameters
from mgckd.units import convert

EffectScale = Literal["odds", "hazard"]
MG_HEADER = "mg [mg/dL]"
PHOSPHATE_HEADER = "phosphate [mg/dL]"
_DECADE = 10.0


def _p(name: str, unit: str) -> float:
    return parameters()[name].to(unit)


def _v(name: str) -> tuple[float, ...]:
    value = parameters()[name].value
    return value if isinstance(value, tuple) else (value,)


@dataclass(frozen=True, slots=True)
class SynthSpec:
    """What the synthetic registry draws and plants; `from_parameters` reads the defaults.

    Ratios are odds ratios (``effect_scale="odds"``: a logistic model of the 1-year outcome) or
    hazard ratios (``"hazard"``: exponential event times, censored at `follow_up_years`).
    """

    n: int
    mg_mean_mg_dl: float
    mg_sd_mg_dl: float
    phosphate_mean_mg_dl: float
    phosphate_sd_mg_dl: float
    mg_phosphate_correlation: float
    age_mean_years: float
    age_sd_years: float
    mg_change_per_decade_mg_dl: float
    female_fraction: float
    diabetes_fraction: float
    event_risk: float
    reference_phosphate_mg_dl: float
    mg_band_ratio: tuple[float, float]
    phosphate_ratio_by_mg_band: tuple[float, float, float]
    age_ratio_per_decade: float
    diabetes_ratio: float
    follow_up_years: float
    effect_scale: EffectScale = "odds"

    @classmethod
    def from_parameters(cls, **overrides: Any) -> SynthSpec:
        """The registry's ``synth_*`` values, with keyword overrides (e.g. ``n=3000``)."""
        band = _v("synth_mg_band_ratio_at_reference_phosphate")
        slope = _v("synth_phosphate_ratio_by_mg_band")
        spec = cls(
            n=5000,
            mg_mean_mg_dl=_p("synth_mg_mean", "mg/dL"),
            mg_sd_mg_dl=_p("synth_mg_sd", "mg/dL"),
            phosphate_mean_mg_dl=_p("synth_phosphate_mean", "mg/dL"),
            phosphate_sd_mg_dl=_p("synth_phosphate_sd", "mg/dL"),
            mg_phosphate_correlation=_p("synth_mg_phosphate_correlation", "1"),
            age_mean_years=_p("synth_age_mean", "year"),
            age_sd_years=_p("synth_age_sd", "year"),
            mg_change_per_decade_mg_dl=_p("synth_mg_change_per_decade", "mg/dL"),
            female_fraction=_p("synth_female_fraction", "1"),
            diabetes_fraction=_p("synth_diabetes_fraction", "1"),
            event_risk=_p("synth_cv_death_risk_1y", "1"),
            reference_phosphate_mg_dl=_p("synth_reference_phosphate", "mg/dL"),
            mg_band_ratio=(band[0], band[1]),
            phosphate_ratio_by_mg_band=(slope[0], slope[1], slope[2]),
            age_ratio_per_decade=_p("synth_age_ratio_per_decade", "1"),
            diabetes_ratio=_p("synth_diabetes_ratio", "1"),
            follow_up_years=_p("synth_follow_up", "year"),
        )
        try:
            return replace(spec, **overrides)
        except TypeError as error:
            raise UserInputError(f"unknown synthetic-registry setting: {error}") from None

    def without_interaction(self) -> SynthSpec:
        """The same registry with one phosphate ratio in every Mg band (that of the lowest)."""
        first = self.phosphate_ratio_by_mg_band[0]
        return replace(self, phosphate_ratio_by_mg_band=(first, first, first))

    def planted(self) -> dict[str, float]:
        """True log ratios in the parametrization of `analyze_registry` (hemodialysis bands,
        reference < 2.7 mg/dL, phosphate per 1 mg/dL centred at the reference phosphate, age in
        years, diabetes 0/1)."""
        labels = _band_labels()
        slopes = [math.log(r) for r in self.phosphate_ratio_by_mg_band]
        return {
            f"mg[{labels[1]}]": math.log(self.mg_band_ratio[0]),
            f"mg[{labels[2]}]": math.log(self.mg_band_ratio[1]),
            "phosphate": slopes[0],
            f"phosphate:mg[{labels[1]}]": slopes[1] - slopes[0],
            f"phosphate:mg[{labels[2]}]": slopes[2] - slopes[0],
            "age_years": math.log(self.age_ratio_per_decade) / _DECADE,
            "diabetes": math.log(self.diabetes_ratio),
        }


def _band_labels() -> tuple[str, str, str]:
    low, high = (f"{v:.3g}" for v in parameters()["mg_hemodialysis_band_edges"].value)  # type: ignore[union-attr]
    return f"<{low}", f"{low} to <{high}", f">={high}"


@dataclass(frozen=True, slots=True)
class SyntheticRegistry:
    """A synthetic registry table and how it was made (spec, planted log ratios, seed)."""

    table: pd.DataFrame
    spec: SynthSpec
    seed: int
    intercept: float

    @property
    def planted(self) -> dict[str, float]:
        """True log ratios (see `SynthSpec.planted`)."""
        return self.spec.planted()

    @property
    def metadata(self) -> dict[str, Any]:
        """JSON-ready: seed, spec, planted log ratios and ratios, calibrated intercept."""
        return {
            "generator": "mgckd.evidence.synthesize_registry",
            "mgckd_version": __version__,
            "seed": self.seed,
            "spec": asdict(self.spec),
            "planted_log_ratios": self.planted,
            "planted_ratios": {k: math.exp(v) for k, v in self.planted.items()},
            "intercept": self.intercept,
            "note": "synthetic data with planted effects; not patients",
        }


def synthesize_registry(spec: SynthSpec | None = None, *, seed: int) -> SyntheticRegistry:
    """Draw a JSDT-like hemodialysis registry with planted Mg × phosphate effects.

    Parameters
    ----------
    spec : what to draw and plant; `SynthSpec.from_parameters` when None.
    seed : seed of the random generator (recorded in the result's metadata).

    Returns
    -------
    A `SyntheticRegistry`; its table has ``patient_id``, ``age_years``, ``sex``, ``diabetes``
    (0/1), ``mg [mg/dL]`` and ``phosphate [mg/dL]`` (to 0.1 mg/dL, as the registry reports them),
    ``cv_death_1y`` (0/1), ``time_years`` and ``cv_death`` (event at ``time_years``).

    Notes
    -----
    Mg is normal, phosphate log-normal (with the given mean and SD), joined by a Gaussian
    copula with correlation `mg_phosphate_correlation`; mean Mg shifts with age. The linear
    predictor is :math:`\\eta = \\gamma_{band} + \\ln R_{P,band} (P - P_{ref}) + \\ln R_{age}
    (age - \\bar{age})/10 + \\ln R_{DM}\\,DM`, with the intercept (odds) or the baseline hazard
    solved so the mean 1-year risk equals `event_risk`. On the odds scale event times are drawn
    uniform within follow-up for events (only the 1-year outcome carries the planted ratios).

    Examples
    --------
    >>> registry = synthesize_registry(SynthSpec.from_parameters(n=200), seed=1)
    >>> registry.table.shape, registry.metadata["seed"]
    ((200, 9), 1)
    """
    s = SynthSpec.from_parameters() if spec is None else spec
    if s.n < 10:
        raise UserInputError(f"a synthetic registry needs at least 10 rows, not {s.n}")
    if s.effect_scale not in ("odds", "hazard"):
        raise UserInputError(f"effect scale {s.effect_scale!r} is not odds or hazard")
    rng = np.random.default_rng(seed)
    n = s.n
    age = rng.normal(s.age_mean_years, s.age_sd_years, n).clip(18, 100).round()
    female = rng.random(n) < s.female_fraction
    diabetes = (rng.random(n) < s.diabetes_fraction).astype(int)
    normal = rng.multivariate_normal(
        [0.0, 0.0],
        [[1.0, s.mg_phosphate_correlation], [s.mg_phosphate_correlation, 1.0]],
        n,
    )
    mg_mean = s.mg_mean_mg_dl + s.mg_change_per_decade_mg_dl * (age - s.age_mean_years) / _DECADE
    mg = np.round(mg_mean + s.mg_sd_mg_dl * normal[:, 0], 1).clip(0.5, None)
    log_sd = math.sqrt(math.log(1 + (s.phosphate_sd_mg_dl / s.phosphate_mean_mg_dl) ** 2))
    log_mean = math.log(s.phosphate_mean_mg_dl) - log_sd**2 / 2
    phosphate = np.round(np.exp(log_mean + log_sd * normal[:, 1]), 1).clip(0.5, None)
    bands = hemodialysis_band(convert(mg, "mg/dL", "mmol/L", analyte="magnesium"))
    labels = _band_labels()
    band_index = np.select([bands == labels[1], bands == labels[2]], [1, 2], 0)
    gamma = np.array([0.0, *map(math.log, s.mg_band_ratio)])
    slope = np.log(np.asarray(s.phosphate_ratio_by_mg_band))
    eta = (
        gamma[band_index]
        + slope[band_index] * (phosphate - s.reference_phosphate_mg_dl)
        + math.log(s.age_ratio_per_decade) * (age - s.age_mean_years) / _DECADE
        + math.log(s.diabetes_ratio) * diabetes
    )
    follow_up = s.follow_up_years
    if s.effect_scale == "odds":

        def risk_gap(b0: float) -> float:
            return float(np.mean(stats.logistic.cdf(b0 + eta))) - s.event_risk

        intercept = float(optimize.brentq(risk_gap, -30.0, 30.0))
        event = (rng.random(n) < stats.logistic.cdf(intercept + eta)).astype(int)
        time = np.where(event == 1, rng.uniform(0.0, follow_up, n), follow_up)
    else:

        def risk_gap(b0: float) -> float:
            return float(np.mean(-np.expm1(-math.exp(b0) * np.exp(eta) * follow_up))) - s.event_risk

        intercept = float(optimize.brentq(risk_gap, -30.0, 30.0))
        latent = rng.exponential(1.0 / (math.exp(intercept) * np.exp(eta)))
        event = (latent <= follow_up).astype(int)
        time = np.minimum(latent, follow_up)
    one_year = _p("synth_follow_up", "year")
    table = pd.DataFrame(
        {
            "patient_id": [f"S{i + 1:06d}" for i in range(n)],
            "age_years": age.astype(int),
            "sex": np.where(female, "female", "male"),
            "diabetes": diabetes,
            MG_HEADER: mg,
            PHOSPHATE_HEADER: phosphate,
            "cv_death_1y": ((event == 1) & (time <= one_year)).astype(int),
            "time_years": time.clip(1e-9, None),
            "cv_death": event,
        }
    )
    return SyntheticRegistry(table=table, spec=s, seed=seed, intercept=intercept)
