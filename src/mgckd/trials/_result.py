"""Analyse simulated repeats as the real trial did, and the result: the distribution of each
endpoint's effect estimate over the repeated trials, the power, and whether the published
result lies inside the virtual distribution."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mgckd._version import __version__
from mgckd.outcomes import ASSOCIATION
from mgckd.trials._analysis import (
    Analysis,
    ancova,
    logrank,
    median_difference,
    risk_ratio,
    welch_t,
)
from mgckd.trials._design import EndpointSpec, TrialDesign
from mgckd.trials._measures import measure
from mgckd.trials._simulate import EndpointData, TrialData
from mgckd.units import convert

FloatArray = NDArray[np.float64]

COVERAGE = (2.5, 97.5)
"""Percentiles of the virtual estimates that the published result must lie between."""
_PERCENT = 100.0
_UNITS = {"percent_change": "%", "time_to_below": "d", "event": "1"}
"""Report units of the comparisons whose unit does not follow the measure's."""


def report_unit(spec: EndpointSpec) -> str:
    """The unit estimates of `spec` are reported in."""
    return _UNITS.get(spec.compare) or spec.unit or measure(spec.measure, spec.name).unit


def _factor(spec: EndpointSpec) -> float:
    """Multiplier from the measure's internal unit to the report unit (1 if not a level)."""
    if spec.compare not in ("follow_up", "change") or spec.unit is None:
        return 1.0
    m = measure(spec.measure, spec.name)
    if m.analyte is not None:
        return float(convert(1.0, m.unit, spec.unit, analyte=m.analyte))
    from mgckd._pint import quantity  # noqa: PLC0415  (only for plain-unit measures)

    return float(quantity(1.0, m.unit).to(spec.unit).magnitude)


def _analyse(data: EndpointData, arm: NDArray[np.intp], grid: FloatArray) -> Analysis:
    spec = data.spec
    with np.errstate(all="ignore"):
        values = {
            "follow_up": data.follow_up,
            "change": data.follow_up - data.baseline,
            "percent_change": _PERCENT * (data.follow_up - data.baseline) / data.baseline,
        }
    if spec.method == "ancova":
        return ancova(data.follow_up, data.baseline, arm)
    if spec.method == "logrank":
        return logrank(data.time_days, data.reached, arm, grid)
    if spec.method == "risk_ratio":
        return risk_ratio(data.event, arm)
    method = welch_t if spec.method == "welch_t" else median_difference
    return method(values[spec.compare], arm)


def _scaled(analysis: Analysis, factor: float) -> Analysis:
    if factor == 1.0:
        return analysis
    return Analysis(
        analysis.estimate * factor,
        analysis.p,
        analysis.low * factor,
        analysis.high * factor,
        analysis.arm_statistic * factor,
        analysis.arm_n,
    )


def _within(value: float, samples: FloatArray) -> bool:
    finite = samples[np.isfinite(samples)]
    if finite.size == 0:
        return False
    low, high = np.percentile(finite, COVERAGE)
    return bool(low <= value <= high)


@dataclass(frozen=True, eq=False)
class EndpointResult:
    """One endpoint over the repeats: the analysis per repeat (report units) and coverage."""

    spec: EndpointSpec
    unit: str
    analysis: Analysis
    alpha: float

    @property
    def significant(self) -> NDArray[np.bool_]:
        """Per repeat: p < alpha."""
        return np.asarray(self.analysis.p < self.alpha)

    @property
    def power(self) -> float:
        """Share of repeats significant at alpha."""
        return float(np.mean(self.significant))

    def covered(self) -> bool | None:
        """Whether the published estimate lies in the virtual estimates' 95 % range (None when
        nothing was published)."""
        published = self.spec.published
        if published is None or published.estimate is None:
            return None
        return _within(published.estimate, self.analysis.estimate)

    def arms_covered(self, arm_names: list[str]) -> dict[str, bool]:
        """Per arm with a published value: inside the arm statistic's 95 % range."""
        published = self.spec.published
        if published is None:
            return {}
        return {
            name: _within(value, self.analysis.arm_statistic[:, arm_names.index(name)])
            for name, value in published.arms.items()
        }


@dataclass(frozen=True, eq=False)
class TrialResult:
    """Repeated virtual trials of one design.

    Attributes
    ----------
    design : the design.
    n_patients : patients per trial.
    repeats : virtual trials.
    endpoints : by name.
    data : the simulated patients behind them.
    """

    design: TrialDesign
    n_patients: int
    repeats: int
    endpoints: Mapping[str, EndpointResult]
    data: TrialData

    @property
    def primary(self) -> EndpointResult:
        """The primary endpoint's result (the first computed one when it was skipped)."""
        name = self.design.primary.name
        return self.endpoints.get(name) or next(iter(self.endpoints.values()))

    @property
    def power(self) -> float:
        """Power of the primary endpoint."""
        return self.primary.power

    def summary(self) -> pd.DataFrame:
        """One row per endpoint: the estimate's mean and 2.5/50/97.5 percentiles over repeats,
        each arm's median statistic, power, the published estimate and whether it is covered."""
        arm_names = [a.name for a in self.design.arms]
        rows = []
        for name, result in self.endpoints.items():
            a = result.analysis
            reached = _reached(a.estimate)
            q = _percentiles(a.estimate, [COVERAGE[0], 50, COVERAGE[1]])
            published = result.spec.published
            rows.append(
                {
                    "endpoint": name,
                    "measure": result.spec.measure,
                    "compare": result.spec.compare,
                    "method": result.spec.method,
                    "unit": result.unit,
                    "estimate_mean": float(reached.mean()) if reached.size else np.nan,
                    "estimate_p2_5": q[0],
                    "estimate_median": q[1],
                    "estimate_p97_5": q[2],
                    **{
                        f"{arm}_median": float(_percentiles(a.arm_statistic[:, i], [50])[0])
                        for i, arm in enumerate(arm_names)
                    },
                    "power": result.power,
                    "published": None if published is None else published.estimate,
                    "covered": result.covered(),
                    "arms_covered": result.arms_covered(arm_names) or None,
                    "primary": name == self.design.primary.name,
                }
            )
        return pd.DataFrame(rows)

    def to_frame(self) -> pd.DataFrame:
        """One row per (endpoint, repeat): estimate, p, interval, arm statistics and sizes."""
        arm_names = [a.name for a in self.design.arms]
        frames = []
        for name, result in self.endpoints.items():
            a = result.analysis
            columns: dict[str, Any] = {
                "endpoint": name,
                "repeat": np.arange(self.repeats),
                "estimate": a.estimate,
                "p": a.p,
                "low": a.low,
                "high": a.high,
                "significant": result.significant,
            }
            for i, arm in enumerate(arm_names):
                columns[f"{arm}_statistic"] = a.arm_statistic[:, i]
                columns[f"{arm}_n"] = a.arm_n[:, i].astype(int)
            frames.append(pd.DataFrame(columns))
        return pd.concat(frames, ignore_index=True)

    def notes(self) -> list[str]:
        """Caveats the output must carry."""
        out = [f"{name}: not computed: {why}" for name, why in self.data.skipped.items()]
        if any(r.spec.compare == "event" for r in self.endpoints.values()):
            out.append(
                f"outcome events come from published associations ({ASSOCIATION}); using them "
                "as the effect of a treatment on the exposure assumes they are causal"
            )
        failed = int(self.data.failed[:, : self.n_patients].sum())
        if failed:
            out.append(f"{failed} simulated patients failed and were left out of the analyses")
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: design, settings, summary, notes and metadata."""
        summary = self.summary().astype(object).to_dict("records")
        clean = [
            {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
            for row in summary
        ]
        return {
            "trial": self.design.name,
            "claim": self.design.claim,
            "n_patients": self.n_patients,
            "repeats": self.repeats,
            "pool_patients": self.design.pool_patients,
            "alpha": self.design.alpha,
            "power": self.power,
            "screened": self.data.screened,
            "eligible_fraction": self.data.eligible / self.data.screened,
            "endpoints": clean,
            "notes": self.notes(),
            "metadata": {"mgckd_version": __version__, "seed": self.data.seed},
        }


def analyse(data: TrialData, n: int | None = None) -> TrialResult:
    """Analyse the first `n` patients of every simulated repeat (default: all)."""
    size = data.arm.shape[1] if n is None else n
    arm = data.arm[:, :size]
    endpoints = {}
    for name, endpoint in data.endpoints.items():
        prefix = EndpointData(
            endpoint.spec,
            endpoint.baseline[:, :size],
            endpoint.follow_up[:, :size],
            endpoint.time_days[:, :size],
            endpoint.reached[:, :size],
            endpoint.event[:, :size],
        )
        analysis = _scaled(_analyse(prefix, arm, data.grid_days), _factor(endpoint.spec))
        endpoints[name] = EndpointResult(
            endpoint.spec, report_unit(endpoint.spec), analysis, data.design.alpha
        )
    return TrialResult(data.design, size, data.arm.shape[0], endpoints, data)


def _reached(values: FloatArray) -> FloatArray:
    """The values that are not NaN (a Kaplan–Meier median not reached in a repeat is NaN)."""
    return values[~np.isnan(values)]


def _percentiles(values: FloatArray, q: list[float]) -> FloatArray:
    """Percentiles `q` of the values that are not NaN; NaN where every value is (a median
    reached in no repeat), instead of numpy's all-NaN warning."""
    kept = _reached(values)
    return np.percentile(kept, q) if kept.size else np.full(len(q), np.nan)
