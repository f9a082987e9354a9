"""`simulate_dialysis`: a batch of hemodialysis patients through a stretch of their schedule,
and what clinicians read from it, session by session."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from mgckd.dialysis._chemistry import ionized, t50_min, with_totals
from mgckd.dialysis._model import DialyzedElement, dialyzed_elements
from mgckd.dialysis._patients import Hemodialysis
from mgckd.dialysis._periodic import periodic_steady_state
from mgckd.dialysis._sessions import Session, session_windows, sessions
from mgckd.model import compile_model
from mgckd.params import parameters
from mgckd.simulate import Rodas4, Scenario, SimulationResult, simulate

FloatArray = NDArray[np.float64]

_MOMENTS = ("pre", "post", "rebound")
"""When each session is read: at its start, at its end, and `post_dialysis_rebound_h` later."""


@dataclass(frozen=True, eq=False)
class DialysisResult:
    """A simulated stretch of hemodialysis.

    Attributes
    ----------
    hd : the batch (model, prescriptions, patients).
    simulation : the engine's result (every state, ledger and rule at the save times).
    sessions : the held sessions.
    """

    hd: Hemodialysis
    simulation: SimulationResult
    sessions: tuple[Session, ...]

    @property
    def elements(self) -> tuple[DialyzedElement, ...]:
        """The elements the dialyzer acts on in this model."""
        return dialyzed_elements(self.hd.model)

    def _at(self, times_h: FloatArray) -> NDArray[np.intp]:
        index = np.searchsorted(self.simulation.time_h, times_h)
        index = np.minimum(index, self.simulation.time_h.size - 1)
        found = np.isclose(self.simulation.time_h[index], times_h)
        return np.where(found, index, -1)

    def moments_h(self) -> dict[str, FloatArray]:
        """Session start, end and rebound times, hours (NaN where past the simulation)."""
        rebound = parameters()["post_dialysis_rebound_h"].to("h")
        start = np.array([s.start_h for s in self.sessions])
        end = np.array([s.end_h for s in self.sessions])
        after = end + rebound
        nexts = np.append(start[1:], np.inf)
        after = np.where(after < nexts, after, np.nan)
        last = self.simulation.time_h[-1]
        return {
            "pre": start,
            "post": np.where(end <= last, end, np.nan),
            "rebound": np.where(after <= last, after, np.nan),
        }

    def _values(self, times: FloatArray, rows: FloatArray) -> FloatArray:
        """(n_sessions, n_patients) of a (n_save, n_patients) series at `times` (NaN if absent)."""
        index = self._at(np.nan_to_num(times, nan=-1.0))
        out = np.where(index[:, None] >= 0, rows[np.maximum(index, 0)], np.nan)
        return np.asarray(out, dtype=np.float64)

    def sessions_frame(self, *, chemistry: bool = True, t50: bool = False) -> pd.DataFrame:
        """One row per (patient, session): pre-, post-dialysis and rebound totals (mmol/L) of
        each dialyzed element, the amount the session removed (mmol; negative: gained), the
        fluid removed (L); with `chemistry`, ionized Mg and Ca (mmol/L) from speciation of the
        simulated samples; with `t50`, the in-silico T50 before and after (minutes)."""
        moments = self.moments_h()
        n_sessions, n = len(self.sessions), self.hd.n_patients
        columns: dict[str, FloatArray] = {
            "patient": np.tile(np.arange(n), n_sessions).astype(np.float64),
            "session": np.repeat([s.number for s in self.sessions], n).astype(np.float64),
            "start_h": np.repeat(moments["pre"], n),
        }
        totals: dict[str, dict[str, FloatArray]] = {m: {} for m in _MOMENTS}
        for e in self.elements:
            series = self.simulation.rule(e.plasma_total)
            for moment in _MOMENTS:
                values = self._values(moments[moment], series)
                totals[moment][e.element] = values.ravel()
                columns[f"{e.short}_total_{moment}_mmol_l"] = values.ravel()
            ledger = self.simulation.ledgers[:, self._ledger(e), :]
            removed = self._values(moments["pre"], ledger) - self._values(moments["post"], ledger)
            columns[f"{e.short}_removed_mmol"] = removed.ravel()
        fluid = self.simulation.species("ecf_excess_water_l")
        columns["fluid_removed_l"] = (
            self._values(moments["pre"], fluid) - self._values(moments["post"], fluid)
        ).ravel()
        if chemistry or t50:
            self._add_chemistry(columns, totals, t50=t50)
        frame = pd.DataFrame(columns)
        frame["patient"] = frame["patient"].astype(int)
        frame["session"] = frame["session"].astype(int)
        return frame

    def _ledger(self, element: DialyzedElement) -> int:
        names = [ledger.name for ledger in self.hd.model.ledgers]
        return names.index(f"{element.flux}_{element.element}")

    def _add_chemistry(
        self,
        columns: dict[str, FloatArray],
        totals: dict[str, dict[str, FloatArray]],
        *,
        t50: bool,
    ) -> None:
        n_sessions = len(self.sessions)
        base = self.hd.plasma()
        per_row = base.take(np.tile(np.arange(self.hd.n_patients), n_sessions))
        for moment in ("pre", "post"):
            measured = np.isfinite(totals[moment]["Mg"])
            composition = with_totals(per_row, totals[moment]).take(np.flatnonzero(measured))
            values = ionized(composition)
            for name in ("mg_ionized_mmol_l", "ca_ionized_mmol_l"):
                column = np.full(measured.size, np.nan)
                column[measured] = values[name]
                columns[f"{name.removesuffix('_mmol_l')}_{moment}_mmol_l"] = column
            if t50:
                column = np.full(measured.size, np.nan)
                column[measured] = t50_min(composition)
                columns[f"t50_{moment}_min"] = column


def save_times(held: Sequence[Session], duration_h: float, every_h: float | None) -> FloatArray:
    """Every session start, end and rebound time within the simulation, plus a grid."""
    rebound = parameters()["post_dialysis_rebound_h"].to("h")
    times = [0.0, duration_h]
    for s in held:
        times += [s.start_h, s.end_h, s.end_h + rebound]
    if every_h is not None:
        times += list(np.arange(0.0, duration_h, every_h))
    array = np.unique(np.array(times))
    return np.asarray(array[(array >= 0.0) & (array <= duration_h)], dtype=np.float64)


def dialysis_scenario(
    hd: Hemodialysis,
    *,
    duration_h: float,
    missed_sessions: Sequence[int] = (),
    initial: ArrayLike | None = None,
) -> tuple[Scenario, tuple[Session, ...]]:
    """The engine `Scenario` of `hd` over `duration_h` hours and its held sessions.

    Time 0 is the start of the schedule's first session. `initial` gives the states at time 0,
    (n_species, n_patients); by default the periodic steady state of `hd` itself (the long run
    of its prescription). The scenario runs with `mgckd.simulate.simulate` or exports with
    `mgckd.simulate.export_sbml` (sessions as SBML events).
    """
    compiled = compile_model(hd.model)
    if initial is None:
        initial = periodic_steady_state(hd).states
    y0 = np.asarray(initial, dtype=np.float64)
    held = sessions(hd.schedule, duration_h=duration_h, missed=missed_sessions)
    scenario = Scenario(
        duration_h=duration_h,
        n_patients=hd.n_patients,
        parameters=hd.parameters(),
        schedule=session_windows(
            held, period_h=hd.schedule.period_h, fluid_gain_l_h=hd.fluid_gain_l_h()
        ),
        initial={name: y0[i] for i, name in enumerate(compiled.species)},
    )
    return scenario, held


def simulate_dialysis(
    hd: Hemodialysis,
    *,
    duration_h: float,
    missed_sessions: Sequence[int] = (),
    initial: ArrayLike | None = None,
    save_every_h: float | None = None,
    solver: Rodas4 = Rodas4(),  # noqa: B008  (frozen settings)
    throw: bool = True,
) -> DialysisResult:
    """Simulate `hd` for `duration_h` hours from the start of a session.

    Parameters
    ----------
    hd : patients, prescriptions and the model.
    duration_h : hours to simulate; time 0 is the start of the schedule's first session.
    missed_sessions : 1-based numbers of the scheduled sessions each patient misses.
    initial : states at time 0, (n_species, n_patients); default the periodic steady state of
        `hd` itself (the long run of its prescription).
    save_every_h : also save on this grid (hours), for plots; session times are always saved.
    solver : the native solver's settings.
    throw : raise on a failed patient (default); with False their rows hold NaN.
    """
    scenario, held = dialysis_scenario(
        hd, duration_h=duration_h, missed_sessions=missed_sessions, initial=initial
    )
    result = simulate(
        compile_model(hd.model),
        scenario,
        solver=solver,
        save_at=save_times(held, duration_h, save_every_h),
        throw=throw,
    )
    return DialysisResult(hd=hd, simulation=result, sessions=held)
