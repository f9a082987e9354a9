"""Where Mg's effect on CAC comes from: the passive (CPP2) and active (VSMC) pathways and gut
phosphate binding, attributed by Shapley values over three switches, so the parts add up to the
whole exactly."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from itertools import combinations
from math import factorial
from types import MappingProxyType
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from mgckd.calcification._course import PlasmaCourse
from mgckd.calcification._laws import PlasmaChemistry, plasma_chemistry
from mgckd.calcification._params import CalcificationParameters
from mgckd.calcification._result import Pathways
from mgckd.calcification._simulate import (
    baseline_scores,
    check_same_grid,
    score_from_chemistry,
)
from mgckd.cpp import KineticParameters

if TYPE_CHECKING:
    from collections.abc import Mapping

    from matplotlib.axes import Axes

FloatArray = NDArray[np.float64]

SWITCHES = ("passive", "active", "gut_binding")
"""The three routes of Mg's effect, each switched between its control and treated value."""
PARTS = (*SWITCHES, "other")
"""The parts of the benefit: the three switches, and what else differs between the arms."""
_ALL_ON = frozenset(SWITCHES)


@dataclass(frozen=True, eq=False)
class MgEffectDecomposition:
    """Mg's benefit on CAC at the end of the course, per patient, split into parts.

    The benefit is control score − treated score (Agatston units; positive: less calcification
    with Mg). ``parts`` holds, per patient:

    - ``passive``: Mg's effect on CPP2 formation (chemistry: adsorption on the particles,
      complexation);
    - ``active``: Mg's effect on VSMC conversion (TRPM7);
    - ``gut_binding``: the plasma changes due to Mg binding phosphate in the gut (the treated
      course vs the treated course without gut binding; 0 when no such course was given);
    - ``other``: what else differs between the treated course without gut binding and the
      control (Mg acting on the rest of the plasma through physiology); 0 when they differ only
      in Mg.

    The first three are Shapley values over the three switches (each the average, over the
    orders of switching them on, of the benefit added when it is switched on); they sum to the
    benefit of switching all three exactly, and ``other`` closes the difference to the control.

    Attributes
    ----------
    patient_ids : one per patient; baseline_agatston : (N,).
    control_agatston, treated_agatston : the final scores of the two arms, (N,).
    parts : part name (`PARTS`) → benefit in Agatston units, (N,).
    gut_counterfactual : whether a course without gut binding was given.
    """

    patient_ids: tuple[str, ...]
    baseline_agatston: FloatArray
    control_agatston: FloatArray
    treated_agatston: FloatArray
    parts: Mapping[str, FloatArray]
    gut_counterfactual: bool

    @property
    def total(self) -> FloatArray:
        """The whole benefit, control − treated final score, (N,)."""
        total: FloatArray = self.control_agatston - self.treated_agatston
        return total

    @property
    def residual(self) -> FloatArray:
        """total − Σ parts, (N,): zero up to round-off (the attribution is exact)."""
        residual: FloatArray = self.total - sum(self.parts.values(), np.zeros_like(self.total))
        return residual

    def to_frame(self) -> pd.DataFrame:
        """One row per patient: the arms' final scores, the benefit and each part, in Agatston
        units and in percentage points of the baseline (NaN for a baseline of 0)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            per_point = np.where(self.baseline_agatston > 0, 100.0 / self.baseline_agatston, np.nan)
        columns: dict[str, object] = {
            "patient_id": list(self.patient_ids),
            "baseline_agatston": self.baseline_agatston,
            "control_agatston": self.control_agatston,
            "treated_agatston": self.treated_agatston,
            "benefit_agatston": self.total,
        }
        columns.update({f"{name}_agatston": self.parts[name] for name in PARTS})
        columns["benefit_points"] = self.total * per_point
        columns.update({f"{name}_points": self.parts[name] * per_point for name in PARTS})
        return pd.DataFrame(columns)


def _shapley(value: Mapping[frozenset[str], FloatArray]) -> dict[str, FloatArray]:
    """Shapley value of each switch for the benefit value(∅) − value(S), per patient."""
    n = len(SWITCHES)
    parts = {}
    for switch in SWITCHES:
        others = [s for s in SWITCHES if s != switch]
        share = np.zeros_like(value[frozenset()])
        for size in range(n):
            weight = factorial(size) * factorial(n - size - 1) / factorial(n)
            for subset in combinations(others, size):
                before = frozenset(subset)
                share = share + weight * (value[before] - value[before | {switch}])
        parts[switch] = share
    return parts


def decompose_mg_effect(
    treated: PlasmaCourse,
    control: PlasmaCourse,
    *,
    treated_without_gut_binding: PlasmaCourse | None = None,
    baseline_agatston: ArrayLike | None = None,
    params: CalcificationParameters | None = None,
    cpp_params: KineticParameters | None = None,
) -> MgEffectDecomposition:
    """Split Mg's effect on CAC into passive, active, gut-binding (and other) parts.

    Parameters
    ----------
    treated : the plasma course with Mg treatment (gut binding on).
    control : the plasma course without it (same times and number of patients).
    treated_without_gut_binding : the treated course simulated with Mg's gut phosphate binding
        switched off (the whole-body model's ``gut_mg_phosphate_binding = 0``); None: no gut
        part (the treated course stands for it).
    baseline_agatston, params, cpp_params : as in `simulate_cac`.

    Notes
    -----
    A configuration (p, a, g) takes the plasma of the treated course with gut binding if g, else
    without; the passive pathway sees that plasma's CPP2 formation with its own total Mg if p,
    else with the control's; the active pathway sees that plasma's ionized Mg if a, else the
    ionized Mg of the plasma with the control's total Mg. Its final score v(p, a, g) is
    computed for all eight; each switch's part is its Shapley value, and
    ``other = control score − v(0, 0, 0)``. Five speciations of the course in all (three
    without a gut counterfactual).

    Examples
    --------
    >>> from mgckd.calcification import plasma_course
    >>> control = plasma_course([0.0, 17532.0], {"magnesium_mmol_l": 0.82})
    >>> treated = plasma_course([0.0, 17532.0], {"magnesium_mmol_l": 0.95})
    >>> result = decompose_mg_effect(treated, control)
    >>> bool(abs(result.residual[0]) < 1e-9), float(result.parts["gut_binding"][0])
    (True, 0.0)
    """
    params = params or CalcificationParameters.from_registry()
    check_same_grid(treated, control, "the control course")
    without = treated_without_gut_binding or treated
    check_same_grid(treated, without, "the course without gut binding")
    baseline = baseline_scores(baseline_agatston, treated.n_patients)
    control_mg = control.values["magnesium_mmol_l"]

    def chemistry(course: PlasmaCourse) -> PlasmaChemistry:
        return plasma_chemistry(course, cpp_params=cpp_params)

    plasma = {True: treated, False: without}
    own = {True: chemistry(treated)}
    swapped = {True: chemistry(treated.with_values(magnesium_mmol_l=control_mg))}
    if treated_without_gut_binding is None:
        own[False], swapped[False] = own[True], swapped[True]
    else:
        own[False] = chemistry(without)
        swapped[False] = chemistry(without.with_values(magnesium_mmol_l=control_mg))

    score = partial(
        score_from_chemistry,
        baseline=baseline,
        params=params,
        pathways=Pathways(),
        cpp_params=cpp_params,
    )

    def final(on: frozenset[str]) -> FloatArray:
        g = "gut_binding" in on
        result = score(
            plasma[g],
            passive_chemistry=own[g] if "passive" in on else swapped[g],
            active_chemistry=own[g] if "active" in on else swapped[g],
        )
        return result.final_agatston

    value = {
        frozenset(subset): final(frozenset(subset))
        for size in range(len(SWITCHES) + 1)
        for subset in combinations(SWITCHES, size)
    }
    plain = chemistry(control)
    control_score = score(control, passive_chemistry=plain, active_chemistry=plain).final_agatston
    parts = _shapley(value)
    parts["other"] = control_score - value[frozenset()]
    return MgEffectDecomposition(
        patient_ids=treated.patient_ids,
        baseline_agatston=baseline,
        control_agatston=control_score,
        treated_agatston=value[_ALL_ON],
        parts=MappingProxyType(parts),
        gut_counterfactual=treated_without_gut_binding is not None,
    )


_LABELS = {
    "passive": "passive (CPP2)",
    "active": "active (VSMC, TRPM7)",
    "gut_binding": "gut phosphate binding",
    "other": "other",
}


def plot_decomposition(
    result: MgEffectDecomposition, *, patient: int = 0, ax: Axes | None = None
) -> Axes:
    """A waterfall from the control's % change of CAC to the treated one's, one bar per part
    (percentage points of the baseline score); returns the axes."""
    if ax is None:
        from matplotlib.figure import Figure  # noqa: PLC0415  (plotting is optional)

        ax = Figure(figsize=(6.4, 4.0)).add_subplot()
    row = result.to_frame().iloc[patient]
    start = 100.0 * (row["control_agatston"] / row["baseline_agatston"] - 1.0)
    end = 100.0 * (row["treated_agatston"] / row["baseline_agatston"] - 1.0)
    shown = [p for p in PARTS if p != "other" or abs(row["other_points"]) > 0]
    labels = ["control", *(_LABELS[p] for p in shown), "treated"]
    level, bottoms, heights = start, [0.0], [start]
    for part in shown:
        step = -float(row[f"{part}_points"])
        bottoms.append(min(level, level + step))
        heights.append(abs(step))
        level += step
    bottoms.append(0.0)
    heights.append(end)
    colors = ["0.55", *("tab:blue" for _ in shown), "0.3"]
    bars = ax.bar(range(len(labels)), heights, bottom=bottoms, color=colors)
    values = [start, *(-float(row[f"{p}_points"]) for p in shown), end]
    ax.bar_label(bars, labels=[f"{v:+.1f}" for v in values], fontsize=8)
    ax.set_xticks(range(len(labels)), labels, rotation=20, ha="right", fontsize=8)
    ax.set_ylabel("CAC change over the course (% of baseline)")
    return ax
