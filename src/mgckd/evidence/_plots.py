"""Figures of the evidence toolkit: forest plot, phosphate effect within Mg strata, Mg spline.

Each function draws on `ax` (a new ``matplotlib.figure.Figure`` when None; no pyplot state) and
returns the Axes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter
from scipy import stats

from mgckd.evidence._meta import MetaAnalysis
from mgckd.evidence._registry import _PHOSPHATE_TERM, RegistryAnalysis

if TYPE_CHECKING:
    from matplotlib.axes import Axes


def _plain_log(axis: Any) -> None:
    """Ratio ticks as plain numbers (0.8, 1, 1.2), not powers of ten."""
    formatter = FuncFormatter(lambda value, _: f"{value:.3g}")
    axis.set_major_formatter(formatter)
    axis.set_minor_formatter(formatter)


def _axes(ax: Axes | None, size: tuple[float, float]) -> Axes:
    if ax is not None:
        return ax
    return Figure(figsize=size, layout="constrained").subplots()


def plot_forest(result: MetaAnalysis, ax: Axes | None = None) -> Axes:
    """Forest plot: each estimate with its CI (square sized by weight), the pooled diamond."""
    frame = result.to_frame()
    k = result.k
    ax = _axes(ax, (7.5, 1.2 + 0.45 * (k + 2)))
    studies = frame[frame["kind"] == "study"]
    y = np.arange(k, 0, -1, dtype=float)
    weights = studies["weight"].to_numpy()
    ax.hlines(y, studies["ci_low"], studies["ci_high"], color="black", linewidth=1)
    ax.scatter(
        studies["estimate"], y, marker="s", s=30 + 300 * weights / weights.max(), color="0.25"
    )
    low, high = result.pooled_ci
    ax.fill(
        [low, result.pooled, high, result.pooled],
        [0, 0.25, 0, -0.25],
        color="tab:blue",
        alpha=0.85,
    )
    null = 1.0 if result.exponentiate else 0.0
    ax.axvline(null, color="0.5", linestyle=":", linewidth=1)
    if result.exponentiate:
        ax.set_xscale("log")
        _plain_log(ax.xaxis)
    labels = [
        f"{name}  {est:.2f} ({lo:.2f}-{hi:.2f})"
        for name, est, lo, hi in zip(
            studies["name"], studies["estimate"], studies["ci_low"], studies["ci_high"], strict=True
        )
    ]
    pooled = f"pooled ({result.method})  {result.pooled:.2f} ({low:.2f}-{high:.2f})"
    ax.set_yticks([*y, 0.0], [*labels, pooled], fontsize=8)
    ax.set_ylim(-0.8, k + 0.8)
    ax.set_xlabel(result.label, fontsize=9)
    ax.set_title(
        f"τ² = {result.tau2:.3g}, I² = {100 * result.i2:.0f} %, Q = {result.q:.2f} "
        f"(df {result.q_df}, P = {result.q_p_value:.2g}); associations, not effects",
        fontsize=8,
    )
    return ax


def plot_phosphate_by_mg(result: RegistryAnalysis, ax: Axes | None = None) -> Axes:
    """Seed Fig. 2 style: outcome ratio across phosphate within each Mg category.

    Each line is the ratio of the outcome against the reference cell (Mg reference category at
    the centre phosphate), with its pointwise CI; the slopes are the phosphate effect within the
    category, the vertical offsets the Mg-category effect.
    """
    if result._fit is None:
        raise ValueError("this result carries no fitted model to plot")
    fit = result._fit
    ax = _axes(ax, (6.5, 4.2))
    step_value, step_unit = result.phosphate_step.split(" ", 1)
    centre = float(result.phosphate_centre.split(" ", 1)[0])
    grid = np.linspace(centre - 3 * float(step_value), centre + 3 * float(step_value), 49)
    scaled = (grid - centre) / float(step_value)
    z = _z(result.level)
    index = {name: i for i, name in enumerate(fit.names)}
    for label in result.categories.labels:
        vector = np.zeros((grid.size, len(fit.names)))
        vector[:, index[_PHOSPHATE_TERM]] = scaled
        if label != result.categories.reference:
            vector[:, index[f"mg[{label}]"]] = 1.0
            interaction = f"{_PHOSPHATE_TERM}:mg[{label}]"
            if interaction in index:
                vector[:, index[interaction]] = scaled
        log_ratio = vector @ fit.params
        se = np.sqrt(np.einsum("ij,jk,ik->i", vector, fit.cov, vector))
        (line,) = ax.plot(grid, np.exp(log_ratio), label=f"Mg {label} mg/dL")
        ax.fill_between(
            grid,
            np.exp(log_ratio - z * se),
            np.exp(log_ratio + z * se),
            alpha=0.15,
            color=line.get_color(),
        )
    ax.set_yscale("log")
    _plain_log(ax.yaxis)
    ax.axhline(1.0, color="0.5", linestyle=":", linewidth=1)
    ax.set_xlabel(f"serum phosphate, {step_unit}")
    reference = f"Mg {result.categories.reference}, phosphate {result.phosphate_centre}"
    ax.set_ylabel(f"{result.measure} vs {reference}")
    title = f"{result.outcome}: phosphate within Mg categories"
    if result.interaction is not None:
        title += f" (interaction P = {result.interaction.p_value:.2g})"
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
    return ax


def _z(level: float) -> float:
    return float(stats.norm.isf((1 - level) / 2))


def plot_mg_spline(result: RegistryAnalysis, ax: Axes | None = None) -> Axes:
    """The restricted-cubic-spline ratio of the outcome across serum Mg, knots marked."""
    if result.spline is None:
        raise ValueError("this result has no spline; analyze with spline_knots=3, 4 or 5")
    spline = result.spline
    ax = _axes(ax, (6.5, 4.2))
    curve = spline.curve
    ax.plot(curve["mg_mg_dl"], curve["ratio"], color="tab:blue")
    ax.fill_between(curve["mg_mg_dl"], curve["ci_low"], curve["ci_high"], alpha=0.2)
    for knot in spline.knots_mg_dl:
        ax.axvline(knot, color="0.7", linewidth=0.8, linestyle="--")
    ax.axhline(1.0, color="0.5", linestyle=":", linewidth=1)
    ax.set_yscale("log")
    _plain_log(ax.yaxis)
    ax.set_xlabel("serum total Mg, mg/dL")
    ax.set_ylabel(f"{result.measure} vs Mg {spline.reference_mg_dl:g} mg/dL")
    ax.set_title(
        f"{result.outcome}: spline of Mg ({len(spline.knots_mg_dl)} knots, non-linearity "
        f"P = {spline.nonlinearity_p_value:.2g})",
        fontsize=9,
    )
    return ax


def registry_figure(result: RegistryAnalysis) -> Figure:
    """Both registry panels side by side (the spline only when there is one)."""
    panels = 2 if result.spline is not None else 1
    figure = Figure(figsize=(6.5 * panels, 4.4), layout="constrained")
    axes = figure.subplots(1, panels, squeeze=False)[0]
    plot_phosphate_by_mg(result, axes[0])
    if result.spline is not None:
        plot_mg_spline(result, axes[1])
    return figure
