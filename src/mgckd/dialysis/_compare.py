"""Compare dialysate Mg prescriptions for one patient: from their pre-dialysis labs on the current
prescription to the predicted long-run pre-dialysis total and ionized Mg, phosphate and T50 at
each dialysate Mg, with an uncertainty band.

How: the patient's Mg intake (and the phosphate reaching their gut unbound, when the model has
phosphate; the reference patient's Mg absorption and tissue kinetics are kept) is solved for
so that the periodic steady state on the current prescription reproduces the measured
pre-dialysis Mg (and phosphate) — the individualisation; then the same patient is taken to the
periodic steady state of each dialysate level. The measured Mg stands for the patient's usual
level only up to its within-patient variation (CV 5.6 %, Leenders 2018): the whole chain runs
a second time from the measured Mg one SD higher (in the same vectorized batch), and the band is
the prediction ± 1.96 times the difference (first-order propagation, as
`mgckd.chemistry.speciation_sd` does for the calibration uncertainty). Model-structure
uncertainty is not in the band.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from numpy.typing import NDArray
from scipy.stats import norm

from mgckd.chemistry import PlasmaComposition
from mgckd.dialysis._chemistry import ionized, t50_min, with_totals
from mgckd.dialysis._model import ELEMENTS, dialyzed_elements, with_dialysis
from mgckd.dialysis._patients import DialysisPatients, hemodialysis
from mgckd.dialysis._periodic import Match, periodic_steady_state
from mgckd.dialysis._prescription import Prescription, reference
from mgckd.dialysis._reference import reference_model
from mgckd.dialysis._run import simulate_dialysis
from mgckd.exceptions import ScenarioError
from mgckd.model import Model, compile_model
from mgckd.params import parameters

if TYPE_CHECKING:
    from matplotlib.axes import Axes

FloatArray = NDArray[np.float64]

OUTPUTS = (
    ("mg_total_pre_mmol_l", "pre-dialysis total Mg", "mmol/L"),
    ("mg_ionized_pre_mmol_l", "pre-dialysis ionized Mg", "mmol/L"),
    ("mg_total_post_mmol_l", "post-dialysis total Mg", "mmol/L"),
    ("phosphate_pre_mmol_l", "pre-dialysis phosphate", "mmol/L"),
    ("t50_pre_min", "T50, pre-dialysis serum", "min"),
)
"""Predicted outputs: column, label, unit."""
_Z95 = float(norm.ppf(0.975))
_DIET = {"Mg": ("diet_mg_mmol_h", "magnesium_mmol_l"), "P": ("diet_pi_mmol_h", "phosphate_mmol_l")}


def default_levels() -> tuple[float, ...]:
    """The stepped-down dialysate Mg levels of S1-3 and the top of the accepted range, mmol/L."""
    registry = parameters()
    steps = registry["dialysate_mg_calmag_steps_mmol_l"].quantity.to("mmol/L").magnitude
    top = registry["dialysate_mg_range_mmol_l"].quantity.to("mmol/L").magnitude[1]
    return tuple(sorted({*map(float, steps), float(top)}))


@dataclass(frozen=True, eq=False)
class DialysateComparison:
    """Predicted long-run outputs per dialysate Mg level.

    Attributes
    ----------
    levels_mmol_l : dialysate Mg levels compared.
    current : the prescription the labs were drawn on.
    samples : one row per (level, sample): ``level_mmol_l``, ``sample`` (0: from the measured
        Mg; 1: from the measured Mg one within-patient SD higher) and every `OUTPUTS` column.
    simulated_phosphate : True when phosphate is simulated (else the measured value is shown).
    """

    levels_mmol_l: tuple[float, ...]
    current: Prescription
    samples: pd.DataFrame
    simulated_phosphate: bool

    def to_frame(self) -> pd.DataFrame:
        """One row per level: the prediction from the measured labs and its 95 % band (the
        within-patient variation of Mg propagated), and whether the level meets the S0-23
        target (total Mg in the mild-hypermagnesemia band with ionized Mg in its reference
        range)."""
        rows = []
        low_total, high_total = target_band_mmol_l()
        low_ion, high_ion = (
            parameters()["mg_ionized_reference_range"].quantity.to("mmol/L").magnitude
        )
        for level in sorted(self.levels_mmol_l):
            group = self.samples[self.samples["level_mmol_l"] == level]
            central = group[group["sample"] == 0].iloc[0]
            row: dict[str, object] = {
                "dialysate_mg_mmol_l": float(level),
                "current": bool(np.isclose(level, self.current.dialysate_mg_mmol_l)),
            }
            shifted = group[group["sample"] == 1].iloc[0]
            for column, _, _ in OUTPUTS:
                half = _Z95 * abs(float(shifted[column]) - float(central[column]))
                row[column] = float(central[column])
                row[f"{column}_low"] = float(central[column]) - half
                row[f"{column}_high"] = float(central[column]) + half
            total, ion = (
                float(central["mg_total_pre_mmol_l"]),
                float(central["mg_ionized_pre_mmol_l"]),
            )
            row["on_target"] = bool(low_total <= total <= high_total and low_ion <= ion <= high_ion)
            rows.append(row)
        return pd.DataFrame(rows)


def target_band_mmol_l() -> tuple[float, float]:
    """The pre-dialysis total Mg target (S0-23, mild hypermagnesemia), mmol/L."""
    from mgckd.units import convert  # noqa: PLC0415  (units imports the registry lazily)

    band = parameters()["hemodialysis_mg_target_mg_dl"].quantity.to("mg/dL").magnitude
    low, high = (float(convert(v, "mg/dL", "mmol/L", analyte="magnesium")) for v in band)
    return low, high


def compare_dialysate(
    plasma: PlasmaComposition,
    *,
    current: Prescription = Prescription(),  # noqa: B008  (frozen value)
    levels: Sequence[float] | None = None,
    patient: DialysisPatients | None = None,
    model: Model | None = None,
) -> DialysateComparison:
    """Predict each dialysate Mg level's long-run outputs for the patient of `plasma`.

    Parameters
    ----------
    plasma : the patient's pre-dialysis plasma (one sample; total Mg at least measured).
    current : the prescription the labs were drawn on.
    levels : dialysate Mg levels to compare, mmol/L (default `default_levels`); each is checked
        against the accepted range.
    patient : residual function, fluid gain, hematocrit (diets are solved for; given diets are
        ignored).
    model : default the whole-body model with dialysis.

    Raises
    ------
    ScenarioError
        For a level outside the accepted range (naming it), or a plasma of more than one sample.
    """
    if plasma.n != 1:
        raise ScenarioError(f"plasma: compare_dialysate takes one patient, not {plasma.n}")
    chosen = tuple(default_levels() if levels is None else levels)
    prescriptions = [replace(current, dialysate_mg_mmol_l=float(x)) for x in chosen]
    model = reference_model() if model is None else model
    n = 2
    cv = reference("predialysis_mg_intraindividual_cv", "1")
    measured = float(plasma.magnesium_mmol_l[0])
    mg = measured * np.array([1.0, 1.0 + cv])
    samples = with_totals(plasma.take(np.zeros(n, dtype=np.intp)), {"Mg": mg})
    base = patient or DialysisPatients()
    who = replace(base, plasma=samples)
    elements = {e.element for e in dialyzed_elements(with_dialysis(model))}
    session = int(reference("predialysis_sampling_session", "1"))
    matches = [
        Match(_DIET[e.element][0], e.plasma_total, session, getattr(samples, _DIET[e.element][1]))
        for e in ELEMENTS
        if e.element in elements and e.element in _DIET
    ]
    fitted = periodic_steady_state(hemodialysis(model, current, who), match=matches)
    compiled = compile_model(with_dialysis(model))
    diets = {
        m.parameter: fitted.parameters[compiled.parameters.index(m.parameter)] for m in matches
    }
    k = len(chosen)
    batch = hemodialysis(
        model,
        [p for p in prescriptions for _ in range(n)],
        replace(who, plasma=samples.take(np.tile(np.arange(n), k))),
        overrides={name: np.tile(values, k) for name, values in diets.items()},
    )
    steady = periodic_steady_state(batch)
    week = simulate_dialysis(batch, duration_h=batch.schedule.period_h, initial=steady.states)
    frame = week.sessions_frame(chemistry=False)
    frame = frame[frame["session"] == session].sort_values("patient")
    totals = {"Mg": frame["mg_total_pre_mmol_l"].to_numpy(dtype=np.float64)}
    if "P" in elements:
        totals["P"] = frame["pi_total_pre_mmol_l"].to_numpy(dtype=np.float64)
    composition = with_totals(batch.plasma(), totals)
    chemistry = ionized(composition)
    result = pd.DataFrame(
        {
            "level_mmol_l": np.repeat(np.array(chosen, dtype=np.float64), n),
            "sample": np.tile(np.arange(n), k),
            "mg_total_pre_mmol_l": totals["Mg"],
            "mg_ionized_pre_mmol_l": chemistry["mg_ionized_mmol_l"],
            "mg_total_post_mmol_l": frame["mg_total_post_mmol_l"].to_numpy(dtype=np.float64),
            "phosphate_pre_mmol_l": composition.phosphate_mmol_l,
            "t50_pre_min": t50_min(composition),
        }
    )
    return DialysateComparison(chosen, current, result, "P" in elements)


def plot_dialysate_comparison(comparison: DialysateComparison, ax: Axes | None = None) -> Axes:
    """Predicted pre-dialysis total and ionized Mg per dialysate level with their bands, the
    S0-23 target band shaded; T50 on a second axis. Returns the Axes."""
    ax = ax if ax is not None else Figure(figsize=(6.5, 4.0), layout="constrained").subplots()
    frame = comparison.to_frame()
    x = frame["dialysate_mg_mmol_l"].to_numpy()
    low, high = target_band_mmol_l()
    ax.axhspan(low, high, color="0.9", label="target total Mg (S0-23)")
    for column, label, _ in OUTPUTS[:2]:
        ax.fill_between(x, frame[f"{column}_low"], frame[f"{column}_high"], alpha=0.25)
        ax.plot(x, frame[column], marker="o", label=label)
    ax.set_xlabel("dialysate Mg (mmol/L)")
    ax.set_ylabel("plasma Mg (mmol/L)")
    t50 = ax.twinx()
    t50.plot(x, frame["t50_pre_min"], color="0.3", linestyle="--", marker="s", label="T50")
    t50.set_ylabel("T50 (min)")
    ax.legend(loc="upper left", fontsize="small")
    ax.set_title("Predicted long-run pre-dialysis values")
    return ax
