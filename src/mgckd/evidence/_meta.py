"""Random-effects meta-analysis of log ratios: DerSimonian-Laird, REML, Paule-Mandel, fixed effect.

Formulas in docs/evidence.md; `pool` works on any effects and standard errors, `meta_analyze`
harmonizes the study table first. statsmodels (``statsmodels.stats.meta_analysis``) is the
cross-check in the tests: its DerSimonian-Laird does not truncate a negative between-study variance
at zero, and it has no REML, so the estimators are written out here, each in a few lines.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, stats

from mgckd.evidence._studies import Harmonized, Scale, harmonize
from mgckd.exceptions import UserInputError

Method = Literal["REML", "DL", "PM", "FE"]
METHODS: tuple[str, ...] = ("REML", "DL", "PM", "FE")
_METHOD_NAMES = {
    "REML": "random effects, restricted maximum likelihood",
    "DL": "random effects, DerSimonian-Laird",
    "PM": "random effects, Paule-Mandel",
    "FE": "fixed (common) effect, inverse variance",
}
_TAU2_TOLERANCE = 1e-12
_MAX_ITERATIONS = 500
ASSOCIATION_NOTE = (
    "Pooled observational associations, not causal effects; they apply to the populations of the "
    "pooled studies and are not treatment instructions."
)


def _arrays(effects: ArrayLike, standard_errors: ArrayLike) -> tuple[NDArray[np.float64], ...]:
    y = np.asarray(effects, dtype=np.float64).ravel()
    se = np.asarray(standard_errors, dtype=np.float64).ravel()
    if y.shape != se.shape:
        raise UserInputError(f"{y.size} effects but {se.size} standard errors")
    if y.size < 2:
        raise UserInputError(f"pooling needs at least 2 estimates, got {y.size}")
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(se))):
        raise UserInputError("effects and standard errors must be finite numbers")
    if np.any(se <= 0):
        raise UserInputError("standard errors must be positive")
    return y, se**2


def cochran_q(effects: ArrayLike, variances: ArrayLike) -> float:
    """Cochran's Q: :math:`\\sum_i w_i (y_i - \\hat\\mu_{FE})^2` with :math:`w_i = 1/v_i`."""
    y = np.asarray(effects, dtype=np.float64)
    w = 1.0 / np.asarray(variances, dtype=np.float64)
    mu = float(np.sum(w * y) / np.sum(w))
    return float(np.sum(w * (y - mu) ** 2))


def tau2_dersimonian_laird(effects: ArrayLike, variances: ArrayLike) -> float:
    """DerSimonian-Laird between-study variance, truncated at 0.

    :math:`\\hat\\tau^2 = \\max\\{0, (Q - (k-1)) / (\\sum w_i - \\sum w_i^2 / \\sum w_i)\\}`.
    """
    y = np.asarray(effects, dtype=np.float64)
    w = 1.0 / np.asarray(variances, dtype=np.float64)
    q = cochran_q(y, 1.0 / w)
    c = float(np.sum(w) - np.sum(w**2) / np.sum(w))
    return max(0.0, (q - (y.size - 1)) / c)


def _weighted_mean(y: NDArray[np.float64], v: NDArray[np.float64], tau2: float) -> float:
    w = 1.0 / (v + tau2)
    return float(np.sum(w * y) / np.sum(w))


def restricted_log_likelihood(effects: ArrayLike, variances: ArrayLike, tau2: float) -> float:
    """REML log-likelihood of the random-effects model at `tau2` (constants dropped).

    :math:`-\\tfrac12[\\sum\\ln(v_i+\\tau^2) + \\ln\\sum w_i + \\sum w_i (y_i-\\hat\\mu)^2]`
    with :math:`w_i = 1/(v_i+\\tau^2)`.
    """
    y = np.asarray(effects, dtype=np.float64)
    v = np.asarray(variances, dtype=np.float64)
    w = 1.0 / (v + tau2)
    mu = float(np.sum(w * y) / np.sum(w))
    return -0.5 * float(np.sum(np.log(v + tau2)) + math.log(np.sum(w)) + np.sum(w * (y - mu) ** 2))


def tau2_reml(effects: ArrayLike, variances: ArrayLike) -> tuple[float, bool]:
    """REML between-study variance by Fisher scoring (Viechtbauer 2005), truncated at 0.

    Returns ``(tau2, converged)``. Score :math:`U = \\tfrac12[\\sum w_i^2 (y_i-\\hat\\mu)^2 -
    \\operatorname{tr} P]` and information :math:`\\tfrac12 \\operatorname{tr} P^2`, with
    :math:`P = W - W\\mathbf{1}\\mathbf{1}^\\top W / \\sum w_i`. Falls back to a bounded
    one-dimensional maximization of `restricted_log_likelihood` if scoring does not converge.
    """
    y = np.asarray(effects, dtype=np.float64)
    v = np.asarray(variances, dtype=np.float64)
    tau2 = tau2_dersimonian_laird(y, v)
    for _ in range(_MAX_ITERATIONS):
        w = 1.0 / (v + tau2)
        sw = float(np.sum(w))
        mu = float(np.sum(w * y) / sw)
        trace_p = sw - float(np.sum(w**2)) / sw
        trace_p2 = (
            float(np.sum(w**2)) - 2.0 * float(np.sum(w**3)) / sw + float(np.sum(w**2)) ** 2 / sw**2
        )
        score = 0.5 * (float(np.sum(w**2 * (y - mu) ** 2)) - trace_p)
        step = score / (0.5 * trace_p2)
        new = max(0.0, tau2 + step)
        if abs(new - tau2) <= _TAU2_TOLERANCE * max(1.0, tau2):
            return new, True
        tau2 = new
    upper = max(10.0 * float(np.var(y)) + float(np.max(v)), 1e-8)
    found = optimize.minimize_scalar(
        lambda t: -restricted_log_likelihood(y, v, t),
        bounds=(0.0, upper),
        method="bounded",
        options={"xatol": 1e-12},
    )
    return float(found.x), bool(found.success)


def tau2_paule_mandel(effects: ArrayLike, variances: ArrayLike) -> float:
    """Paule-Mandel between-study variance: the root of :math:`\\sum w_i(y_i-\\hat\\mu)^2 = k-1`.

    0 when the equation has no positive root (:math:`Q \\le k-1`).
    """
    y = np.asarray(effects, dtype=np.float64)
    v = np.asarray(variances, dtype=np.float64)

    def excess(tau2: float) -> float:
        w = 1.0 / (v + tau2)
        mu = float(np.sum(w * y) / np.sum(w))
        return float(np.sum(w * (y - mu) ** 2)) - (y.size - 1)

    if excess(0.0) <= 0:
        return 0.0
    upper = max(float(np.var(y)), 1e-8)
    while excess(upper) > 0:
        upper *= 2.0
    return float(optimize.brentq(excess, 0.0, upper, xtol=1e-14, rtol=1e-12))


@dataclass(frozen=True, slots=True)
class MetaAnalysis:
    """A pooled estimate with its heterogeneity; log scale inside, ratios on the way out.

    Attributes
    ----------
    label : what the pooled number means (measure, exposure scale, outcome).
    names : one label per estimate.
    effects, standard_errors : the pooled log ratios and their standard errors.
    method : ``REML``, ``DL``, ``PM`` or ``FE``.
    hartung_knapp : whether the CI uses the Hartung-Knapp(-Sidik-Jonkman) variance and a
        t distribution with k - 1 degrees of freedom.
    level : coverage of the CIs (0.95).
    estimate, se, ci : the pooled log ratio, its standard error and CI.
    z_or_t, p_value : the test statistic of no association and its two-sided P.
    tau2 : between-study variance (log scale); 0 for ``FE``.
    q, q_df, q_p_value : Cochran's Q, its degrees of freedom and P (chi-square).
    i2 : share of the variation due to heterogeneity, 0-1 (see docs/evidence.md).
    fixed_estimate, fixed_se : the fixed-effect (inverse-variance) estimate, for comparison.
    weights : relative weights of the estimates in the pooled value (sum 1).
    prediction_interval : where the true effect of a new study would lie (k >= 3, random
        effects only), log scale; None otherwise.
    converged : whether the iterative tau2 estimate converged.
    exponentiate : whether the effects are log ratios to be shown as ratios.
    excluded : ``(id, reason)`` of rows that could not be pooled.
    """

    label: str
    names: tuple[str, ...]
    effects: tuple[float, ...]
    standard_errors: tuple[float, ...]
    method: str
    hartung_knapp: bool
    level: float
    estimate: float
    se: float
    ci: tuple[float, float]
    z_or_t: float
    p_value: float
    tau2: float
    q: float
    q_df: int
    q_p_value: float
    i2: float
    fixed_estimate: float
    fixed_se: float
    weights: tuple[float, ...]
    prediction_interval: tuple[float, float] | None
    converged: bool = True
    exponentiate: bool = True
    excluded: tuple[tuple[str, str], ...] = field(default=())

    @property
    def k(self) -> int:
        """Number of pooled estimates."""
        return len(self.effects)

    def _show(self, value: float) -> float:
        return math.exp(value) if self.exponentiate else value

    @property
    def pooled(self) -> float:
        """The pooled value on the display scale (a ratio when `exponentiate`)."""
        return self._show(self.estimate)

    @property
    def pooled_ci(self) -> tuple[float, float]:
        """The pooled CI on the display scale."""
        return self._show(self.ci[0]), self._show(self.ci[1])

    def to_frame(self) -> pd.DataFrame:
        """One row per estimate, then the pooled row(s): estimate, CI, weight on display scale."""
        crit = float(stats.norm.isf((1 - self.level) / 2))
        rows: list[dict[str, Any]] = []
        for name, y, se, weight in zip(
            self.names, self.effects, self.standard_errors, self.weights, strict=True
        ):
            rows.append(
                {
                    "name": name,
                    "kind": "study",
                    "estimate": self._show(y),
                    "ci_low": self._show(y - crit * se),
                    "ci_high": self._show(y + crit * se),
                    "weight": weight,
                    "log_estimate": y,
                    "se": se,
                }
            )
        rows.append(
            {
                "name": f"pooled ({self.method}{', Hartung-Knapp' if self.hartung_knapp else ''})",
                "kind": "pooled",
                "estimate": self.pooled,
                "ci_low": self.pooled_ci[0],
                "ci_high": self.pooled_ci[1],
                "weight": 1.0,
                "log_estimate": self.estimate,
                "se": self.se,
            }
        )
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary: pooled value, CI, heterogeneity, studies, exclusions."""
        pi = self.prediction_interval
        return {
            "label": self.label,
            "method": self.method,
            "hartung_knapp": self.hartung_knapp,
            "k": self.k,
            "pooled": self.pooled,
            "ci": list(self.pooled_ci),
            "level": self.level,
            "p_value": self.p_value,
            "tau2": self.tau2,
            "i2_percent": 100.0 * self.i2,
            "q": self.q,
            "q_df": self.q_df,
            "q_p_value": self.q_p_value,
            "fixed_effect": self._show(self.fixed_estimate),
            "prediction_interval": None if pi is None else [self._show(pi[0]), self._show(pi[1])],
            "converged": self.converged,
            "studies": self.to_frame().drop(columns=["log_estimate", "se"]).to_dict("records"),
            "excluded": [{"id": i, "reason": r} for i, r in self.excluded],
            "note": ASSOCIATION_NOTE,
        }

    def summary(self) -> str:
        """A few lines: pooled value with CI, heterogeneity, method."""
        low, high = self.pooled_ci
        lines = [
            f"{self.label}: {self.pooled:.3f} ({100 * self.level:g} % CI {low:.3f}-{high:.3f}), "
            f"k = {self.k}, P = {self.p_value:.3g}",
            f"{_METHOD_NAMES[self.method]}"
            f"{'; Hartung-Knapp CI (t, k - 1 df)' if self.hartung_knapp else ''}",
            f"heterogeneity: tau² = {self.tau2:.4g}, I² = {100 * self.i2:.1f} %, "
            f"Q = {self.q:.3f} (df {self.q_df}, P = {self.q_p_value:.3g})",
        ]
        if self.prediction_interval is not None:
            pl, ph = (self._show(v) for v in self.prediction_interval)
            lines.append(f"prediction interval: {pl:.3f}-{ph:.3f}")
        lines.append(ASSOCIATION_NOTE)
        return "\n".join(lines)


def pool(
    effects: ArrayLike,
    standard_errors: ArrayLike,
    *,
    names: Sequence[str] | None = None,
    method: Method | str = "REML",
    hartung_knapp: bool = False,
    level: float = 0.95,
    exponentiate: bool = True,
    label: str = "pooled log ratio",
    excluded: Sequence[tuple[str, str]] = (),
) -> MetaAnalysis:
    """Pool log ratios (or any effects) by inverse-variance weighting.

    Parameters
    ----------
    effects : the estimates on their additive scale (log HR, log OR).
    standard_errors : their standard errors.
    names : a label per estimate (default ``1 … k``).
    method : ``REML`` (default), ``DL`` (DerSimonian-Laird), ``PM`` (Paule-Mandel) or ``FE``.
    hartung_knapp : CI and test from the Hartung-Knapp variance with a t(k - 1) distribution.
    level : coverage of the CIs.
    exponentiate : show ratios (exp of the log scale) in frames, summaries and plots.
    label : what the pooled number means.
    excluded : rows left out before pooling, ``(id, reason)``, carried into the result.

    Examples
    --------
    The worked example of shared/research/clinical-evidence.md 11.3 (two hemodialysis cohorts,
    HR per +0.1 mmol/L serum Mg, all-cause death):

    >>> result = pool([-0.1625, -0.1758], [0.0509, 0.0866], method="DL")
    >>> round(result.pooled, 3), [round(x, 3) for x in result.pooled_ci], result.tau2
    (0.847, [0.777, 0.923], 0.0)
    """
    y, v = _arrays(effects, standard_errors)
    if method not in METHODS:
        raise UserInputError(f"method {method!r} is not one of {', '.join(METHODS)}")
    if not 0.0 < level < 1.0:
        raise UserInputError(f"level {level} must lie between 0 and 1")
    k = y.size
    labels = tuple(names) if names is not None else tuple(str(i + 1) for i in range(k))
    if len(labels) != k:
        raise UserInputError(f"{len(labels)} names for {k} estimates")
    q = cochran_q(y, v)
    w_fixed = 1.0 / v
    fixed = float(np.sum(w_fixed * y) / np.sum(w_fixed))
    fixed_se = math.sqrt(1.0 / float(np.sum(w_fixed)))
    converged = True
    if method == "FE":
        tau2 = 0.0
    elif method == "DL":
        tau2 = tau2_dersimonian_laird(y, v)
    elif method == "PM":
        tau2 = tau2_paule_mandel(y, v)
    else:
        tau2, converged = tau2_reml(y, v)
    w = 1.0 / (v + tau2)
    estimate = float(np.sum(w * y) / np.sum(w))
    se = math.sqrt(1.0 / float(np.sum(w)))
    if hartung_knapp:
        se = math.sqrt(float(np.sum(w * (y - estimate) ** 2)) / ((k - 1) * float(np.sum(w))))
        crit = float(stats.t.isf((1 - level) / 2, k - 1))
        statistic = estimate / se
        p_value = float(2 * stats.t.sf(abs(statistic), k - 1))
    else:
        crit = float(stats.norm.isf((1 - level) / 2))
        statistic = estimate / se
        p_value = float(2 * stats.norm.sf(abs(statistic)))
    if method in ("FE", "DL"):
        i2 = max(0.0, (q - (k - 1)) / q) if q > 0 else 0.0
    else:
        typical = (
            (k - 1)
            * float(np.sum(w_fixed))
            / (float(np.sum(w_fixed)) ** 2 - float(np.sum(w_fixed**2)))
        )
        i2 = tau2 / (tau2 + typical)
    prediction = None
    if method != "FE" and k >= 3:
        half = float(stats.t.isf((1 - level) / 2, k - 2)) * math.sqrt(tau2 + 1.0 / float(np.sum(w)))
        prediction = (estimate - half, estimate + half)
    return MetaAnalysis(
        label=label,
        names=labels,
        effects=tuple(float(x) for x in y),
        standard_errors=tuple(float(x) for x in np.sqrt(v)),
        method=str(method),
        hartung_knapp=hartung_knapp,
        level=level,
        estimate=estimate,
        se=se,
        ci=(estimate - crit * se, estimate + crit * se),
        z_or_t=statistic,
        p_value=p_value,
        tau2=tau2,
        q=q,
        q_df=k - 1,
        q_p_value=float(stats.chi2.sf(q, k - 1)),
        i2=i2,
        fixed_estimate=fixed,
        fixed_se=fixed_se,
        weights=tuple(float(x) for x in w / np.sum(w)),
        prediction_interval=prediction,
        converged=converged,
        exponentiate=exponentiate,
        excluded=tuple(excluded),
    )


def leave_one_out(result: MetaAnalysis) -> pd.DataFrame:
    """Pool again without each estimate in turn (same method and options); needs k >= 3.

    Columns: ``omitted``, ``estimate``, ``ci_low``, ``ci_high`` (display scale), ``tau2``,
    ``i2_percent``, ``p_value``.
    """
    if result.k < 3:
        raise UserInputError(f"leave-one-out needs at least 3 estimates, got {result.k}")
    rows = []
    for omit in range(result.k):
        keep = [i for i in range(result.k) if i != omit]
        again = pool(
            [result.effects[i] for i in keep],
            [result.standard_errors[i] for i in keep],
            names=[result.names[i] for i in keep],
            method=result.method,
            hartung_knapp=result.hartung_knapp,
            level=result.level,
            exponentiate=result.exponentiate,
            label=result.label,
        )
        rows.append(
            {
                "omitted": result.names[omit],
                "estimate": again.pooled,
                "ci_low": again.pooled_ci[0],
                "ci_high": again.pooled_ci[1],
                "tau2": again.tau2,
                "i2_percent": 100.0 * again.i2,
                "p_value": again.p_value,
            }
        )
    return pd.DataFrame(rows)


def meta_analyze(
    studies: pd.DataFrame | None = None,
    *,
    outcome: str = "all_cause_death",
    scale: Scale | str = "per_0.1_mmol_l",
    measure: str = "HR",
    method: Method | str = "REML",
    hartung_knapp: bool = False,
    seed_table2_only: bool = False,
    level: float = 0.95,
) -> MetaAnalysis:
    """Harmonize a study table (`harmonize`) and pool what can be pooled (`pool`).

    Parameters
    ----------
    studies : a study table; `load_mg_outcome_studies` when None.
    outcome, scale, measure, seed_table2_only : passed to `harmonize`.
    method, hartung_knapp, level : passed to `pool`.

    Raises
    ------
    UserInputError
        When fewer than two rows can be put on the scale; the message lists why each row
        was left out.

    Examples
    --------
    >>> result = meta_analyze(method="DL")
    >>> result.names, round(result.pooled, 3)
    (('Ishimura 2007', 'de Roij van Zuijdewijn 2015'), 0.847)
    """
    harmonized: Harmonized = harmonize(
        studies, outcome=outcome, scale=scale, measure=measure, seed_table2_only=seed_table2_only
    )
    included = harmonized.included
    excluded = tuple(
        (str(i), str(r))
        for i, r in zip(harmonized.excluded["id"], harmonized.excluded["reason"], strict=True)
    )
    if len(included) < 2:
        relevant = [f"{i}: {r}" for i, r in excluded if not r.startswith("outcome is")]
        found = ", ".join(included["id"]) if len(included) else "none"
        raise UserInputError(
            f"only {len(included)} estimate(s) of {harmonized.label} can be pooled ({found}); "
            f"left out: {'; '.join(relevant) or 'no other rows of this outcome'}"
        )
    return pool(
        included["log_ratio"].to_numpy(),
        included["se"].to_numpy(),
        names=list(included["study"]),
        method=method,
        hartung_knapp=hartung_knapp,
        level=level,
        exponentiate=True,
        label=harmonized.label,
        excluded=excluded,
    )
