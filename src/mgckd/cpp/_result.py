"""The result of an in-silico T50 test: curves, particle states, the analyzer's reading, T50."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mgckd.cpp._curves import WellFits
from mgckd.cpp._kinetics import STATES
from mgckd.cpp._serum import Serum

if TYPE_CHECKING:
    from matplotlib.axes import Axes

FloatArray = NDArray[np.float64]

INVALID_INPUT = "invalid_input"
SIMULATION_FAILED = "simulation_failed"
_HALF = 0.5

MIXED_WELL_COLUMNS = (
    "well_si_hydroxyapatite",
    "well_si_amorphous_calcium_phosphate",
    "well_ca_ionized_mmol_l",
    "well_mg_ionized_mmol_l",
    "inhibition_factor",
)
"""Per-sample quantities of the well at mixing, in `T50Simulation.well` and `to_frame`."""


@dataclass(frozen=True, eq=False)
class T50Simulation:
    """In-silico T50 tests of N sera.

    Attributes
    ----------
    serum : the input.
    time_min : (n_t,) read times, min.
    states : (4, N, n_t) the kinetic states at the reads (`mgckd.cpp.STATES`), mmol/L of the
        well; NaN for samples not simulated.
    signal : (N, n_t) nephelometry signal, RNU; NaN for samples not simulated.
    fits : the curve analyzer's fits (`fit_wells`) of the simulated samples, in their order.
    simulated : indices of the simulated samples (the rows of `fits`).
    status : (N,) the analyzer's status of the curve (ok, flagged, censored, excluded, failed), or
        ``invalid_input`` / ``simulation_failed``.
    reason : (N,) why a sample was not simulated ('' otherwise).
    well : per-sample quantities of the well at mixing (`MIXED_WELL_COLUMNS`), NaN where unknown.
    """

    serum: Serum
    time_min: FloatArray
    states: FloatArray
    signal: FloatArray
    fits: WellFits
    simulated: NDArray[np.intp]
    status: NDArray[np.str_]
    reason: NDArray[np.object_]
    well: dict[str, FloatArray]

    def __len__(self) -> int:
        return len(self.serum)

    def _per_sample(self, values: NDArray[np.generic], fill: object) -> NDArray[np.object_]:
        """Values of the simulated samples spread over all samples, `fill` elsewhere."""
        out = np.full(len(self), fill, dtype=object)
        out[self.simulated] = values
        return out

    @property
    def t50_min(self) -> FloatArray:
        """T50 read by the analyzer, min (NaN where not simulated or the fit failed).

        Right-censored samples (`censored`) hold the last read time: T50 is greater. Healthy
        adults about 330 min (PREVEND 329 ± 58), CKD G2–G4 313 ± 79, hemodialysis 230–290.
        """
        return self._per_sample(self.fits.t50_min, np.nan).astype(np.float64)

    @property
    def censored(self) -> NDArray[np.bool_]:
        """True where the curve did not pass half-way within the read (T50 > last read)."""
        return self._per_sample(self.fits.censored, False).astype(bool)

    @property
    def half_conversion_min(self) -> FloatArray:
        """The model's own half-conversion time (CPP2 = CPP1), min, interpolated between reads.

        Not what the assay reports (that is `t50_min`, read from the signal); NaN when the
        conversion does not reach half within the read.
        """
        cpp1, cpp2 = self.states[2], self.states[3]
        with np.errstate(invalid="ignore", divide="ignore"):
            converted = cpp2 / (cpp1 + cpp2)
        after = converted >= _HALF
        crossed = after.any(axis=1)
        j = np.where(crossed, np.argmax(after, axis=1), 1)
        j = np.maximum(j, 1)
        rows = np.arange(len(self))
        x0, x1 = converted[rows, j - 1], converted[rows, j]
        t0, t1 = self.time_min[j - 1], self.time_min[j]
        with np.errstate(invalid="ignore", divide="ignore"):
            result: FloatArray = np.where(
                crossed, t0 + (_HALF - x0) / (x1 - x0) * (t1 - t0), np.nan
            )
        return result

    def to_frame(self) -> pd.DataFrame:
        """One row per sample: status, T50, the analyzer's fit, the well at mixing, the inputs.

        Columns carry their units (``_min``, ``_mmol_l``, ``_g_l``, ``_umol_l``; SIs in log10).
        """
        fits = self.fits.to_frame()
        return pd.DataFrame(
            {
                "status": self.status,
                "reason": self.reason,
                "t50_min": self.t50_min,
                "censored": self.censored,
                "t50_report": self._per_sample(fits["t50_report"].to_numpy(), ""),
                "t50_se_min": self._per_sample(fits["t50_se_min"].to_numpy(), np.nan),
                "fit_model": self._per_sample(fits["model"].to_numpy(), ""),
                "fit_flags": self._per_sample(fits["flags"].to_numpy(), ""),
                "half_conversion_min": self.half_conversion_min,
                "cpp1_peak_calcium_mmol_l": self.states[2].max(axis=1),
                "cpp2_final_calcium_mmol_l": self.states[3][:, -1],
                **self.well,
                "fetuin_a_g_l": self.serum.fetuin_a_g_l,
                "pyrophosphate_umol_l": self.serum.pyrophosphate_umol_l,
            }
        )

    def curves_frame(self) -> pd.DataFrame:
        """Long table: one row per sample and read, with the signal and every state."""
        n, n_t = self.signal.shape
        columns: dict[str, object] = {
            "sample": np.repeat(np.arange(n), n_t),
            "time_min": np.tile(self.time_min, n),
            "signal_rnu": self.signal.ravel(),
        }
        for k, name in enumerate(STATES):
            columns[name] = self.states[k].ravel()
        return pd.DataFrame(columns)


def plot_t50_curves(
    result: T50Simulation, labels: list[str] | None = None, ax: Axes | None = None
) -> Axes:
    """Simulated nephelometry curves with each sample's T50 marked; returns the axes."""
    if ax is None:
        from matplotlib.figure import Figure  # noqa: PLC0415  (plotting is optional)

        ax = Figure(figsize=(6.4, 4.0)).add_subplot()
    names = labels or [f"sample {i}" for i in range(len(result))]
    for i, name in enumerate(names):
        (line,) = ax.plot(result.time_min, result.signal[i], label=name)
        t50 = float(result.t50_min[i])
        if np.isfinite(t50) and not result.censored[i]:
            ax.axvline(t50, color=line.get_color(), linestyle=":", linewidth=1)
            ax.annotate(
                f"T50 {t50:.0f} min",
                (t50, float(np.interp(t50, result.time_min, result.signal[i]))),
                textcoords="offset points",
                xytext=(4, -12 * (i + 1)),  # staggered, so neighbouring labels do not collide
                fontsize=8,
                color=line.get_color(),
            )
    ax.set_xlabel("time (min)")
    ax.set_ylabel("nephelometry (RNU)")
    ax.legend(loc="upper left", fontsize=8)
    return ax
