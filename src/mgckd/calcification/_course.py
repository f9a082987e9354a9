"""Plasma time courses: the input of the calcification model.

A `PlasmaCourse` holds every analyte the CPP and VSMC pathways need — the plasma composition of
`mgckd.chemistry` plus fetuin-A and pyrophosphate — as arrays over (save time, patient). It is
built from a simulation (`course_from_simulation`: the physiology model's observables), from a
tidy table (`course_from_frame`: one row per patient and time, e.g. `SimulationResult.to_frame()`
or measured labs) or from arrays (`plasma_course`). What a source does not give is taken from a
reference plasma of the registry and listed in ``assumed``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from types import MappingProxyType
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from mgckd.chemistry import PlasmaComposition
from mgckd.cpp import Serum, reference_serum
from mgckd.exceptions import UserInputError

if TYPE_CHECKING:
    from mgckd.simulate import SimulationResult

FloatArray = NDArray[np.float64]

OBSERVABLES = MappingProxyType(
    {
        "plasma_mg_total_mmol_l": "magnesium_mmol_l",
        "plasma_ca_total_mmol_l": "calcium_mmol_l",
        "plasma_pi_mmol_l": "phosphate_mmol_l",
    }
)
"""Observables of the whole-body model (its rule names) → the composition field they give."""

INHIBITORS = ("fetuin_a_g_l", "pyrophosphate_umol_l")
COLUMNS = (*(f.name for f in fields(PlasmaComposition) if f.name != "assumed"), *INHIBITORS)
"""Every analyte a course holds: the composition fields, fetuin-A and pyrophosphate."""

REQUIRED = "magnesium_mmol_l"
"""The analyte every source must give (the calcification model is about Mg)."""
REQUIRED_OBSERVABLE = "plasma_mg_total_mmol_l"


@dataclass(frozen=True, eq=False)
class PlasmaCourse:
    """Plasma of N patients at T times: every analyte as a (T, N) array.

    Attributes
    ----------
    time_h : the times, hours from the start, strictly increasing, (T,).
    values : analyte (a `COLUMNS` name, internal units as in `PlasmaComposition`) → (T, N).
    patient_ids : one id per patient.
    assumed : analytes taken from the reference plasma ``base`` because the source lacked them.
    base : the reference plasma (``normal``, ``ckd``, ``hemodialysis``) that filled them.
    """

    time_h: FloatArray
    values: Mapping[str, FloatArray]
    patient_ids: tuple[str, ...]
    assumed: tuple[str, ...] = ()
    base: str = "ckd"
    _serum: Serum = field(init=False, repr=False)

    def __post_init__(self) -> None:
        time = np.asarray(self.time_h, dtype=np.float64)
        if time.ndim != 1 or time.size < 2 or not np.all(np.isfinite(time)):
            raise UserInputError("time_h must hold at least two finite times (hours)")
        if np.any(np.diff(time) <= 0):
            raise UserInputError("time_h must be strictly increasing")
        shape = (time.size, len(self.patient_ids))
        if len(set(self.patient_ids)) != shape[1]:
            raise UserInputError("patient ids must be unique")
        missing = [name for name in COLUMNS if name not in self.values]
        if missing:
            raise UserInputError(f"a plasma course lacks {', '.join(missing)}")
        frozen = {}
        for name in COLUMNS:
            try:
                array = np.array(np.broadcast_to(self.values[name], shape), dtype=np.float64)
            except ValueError:
                got = np.shape(self.values[name])
                raise UserInputError(
                    f"{name}: shape {got} does not fit {shape[0]} times x {shape[1]} patients"
                ) from None
            array.flags.writeable = False
            frozen[name] = array
        time.flags.writeable = False
        object.__setattr__(self, "time_h", time)
        object.__setattr__(self, "values", MappingProxyType(frozen))
        object.__setattr__(self, "_serum", self._flat_serum())

    @property
    def n_times(self) -> int:
        """T, the number of times."""
        return int(self.time_h.size)

    @property
    def n_patients(self) -> int:
        """N, the number of patients."""
        return len(self.patient_ids)

    def serum(self) -> Serum:
        """Every (time, patient) as one `mgckd.cpp.Serum`, time-major (row t·N + n)."""
        return self._serum

    def _flat_serum(self) -> Serum:
        flat = {name: self.values[name].ravel() for name in COLUMNS}
        composition = {k: v for k, v in flat.items() if k not in INHIBITORS}
        sample = Serum(
            PlasmaComposition.from_dict(composition, assumed=self.assumed),
            flat["fetuin_a_g_l"],
            flat["pyrophosphate_umol_l"],
            self.assumed,
        )
        invalid = sample.invalid()
        if invalid.any():
            t, n = divmod(int(np.flatnonzero(invalid)[0]), self.n_patients)
            raise UserInputError(
                f"patient {self.patient_ids[n]!r} at {self.time_h[t]:g} h: "
                f"{sample.problem(t * self.n_patients + n)}"
            )
        return sample

    def with_values(self, **arrays: ArrayLike) -> PlasmaCourse:
        """The same course with some analytes replaced (each broadcast to (T, N))."""
        unknown = set(arrays) - set(COLUMNS)
        if unknown:
            raise UserInputError(f"not an analyte of a course: {', '.join(sorted(unknown))}")
        values = {**self.values, **{k: _as_course_array(v) for k, v in arrays.items()}}
        assumed = tuple(a for a in self.assumed if a not in arrays)
        return replace(self, values=values, assumed=assumed)

    def take(self, patients: ArrayLike) -> PlasmaCourse:
        """The patients at `patients` (integer indices or a boolean mask)."""
        index = np.arange(self.n_patients)[np.asarray(patients)]
        return replace(
            self,
            values={k: v[:, index] for k, v in self.values.items()},
            patient_ids=tuple(self.patient_ids[i] for i in index),
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per (patient, time): ``patient_id``, ``time_h`` and every analyte."""
        columns: dict[str, object] = {
            "patient_id": np.tile(np.array(self.patient_ids, dtype=object), self.n_times),
            "time_h": np.repeat(self.time_h, self.n_patients),
        }
        columns.update({name: self.values[name].ravel() for name in COLUMNS})
        return pd.DataFrame(columns)


def _as_course_array(value: ArrayLike) -> FloatArray:
    """An analyte's values as an array that broadcasts to (T, N): a 1-D array is a course over
    the times, shared by every patient."""
    array = np.asarray(value, dtype=np.float64)
    result: FloatArray = array[:, None] if array.ndim == 1 else array
    return result


def _reference_values(base: str) -> dict[str, float]:
    """Every analyte of the reference serum `base` (a scalar each)."""
    sample = reference_serum(base)
    values = {k: float(v[0]) for k, v in sample.composition.to_dict().items()}
    values.update({name: float(getattr(sample, name)[0]) for name in INHIBITORS})
    return values


def plasma_course(
    time_h: ArrayLike,
    columns: Mapping[str, ArrayLike],
    *,
    base: str = "ckd",
    patient_ids: Sequence[str] | None = None,
) -> PlasmaCourse:
    """A course from arrays; analytes not given come from the reference plasma `base`.

    Parameters
    ----------
    time_h : the times, hours, strictly increasing (at least two).
    columns : analyte → values, by composition field (``magnesium_mmol_l``, ``albumin_g_l``, …,
        ``fetuin_a_g_l``, ``pyrophosphate_umol_l``) or by the physiology model's observable
        (``plasma_mg_total_mmol_l``, ``plasma_ca_total_mmol_l``, ``plasma_pi_mmol_l``). Each is a
        scalar, a (T,) course shared by every patient, a (1, N) constant per patient or (T, N).
        Total Mg is required.
    base : the reference plasma filling the rest (``normal``, ``ckd``, ``hemodialysis``).
    patient_ids : default ``patient_1``, …; N from the widest column when not given.

    Raises
    ------
    UserInputError
        For an unknown analyte, a missing total Mg, a shape that does not fit, or a value
        outside what the chemistry accepts (naming the patient and the time).

    Examples
    --------
    >>> course = plasma_course([0.0, 17532.0], {"magnesium_mmol_l": [[0.82, 0.95]]})
    >>> course.n_times, course.n_patients, course.values["phosphate_mmol_l"][0, 0]
    (2, 2, np.float64(1.3))
    """
    given: dict[str, ArrayLike] = {}
    for name, value in columns.items():
        field_name = OBSERVABLES.get(name, name)
        if field_name not in COLUMNS:
            raise UserInputError(
                f"{name!r} is not an analyte of a plasma course; accepted: "
                f"{', '.join(sorted(COLUMNS))} or {', '.join(OBSERVABLES)}"
            )
        given[field_name] = value
    if REQUIRED not in given:
        raise UserInputError(
            f"a plasma course needs total Mg ({REQUIRED} or {REQUIRED_OBSERVABLE})"
        )
    time = np.asarray(time_h, dtype=np.float64)
    if patient_ids is None:
        width = max(np.shape(v)[-1] if np.ndim(v) == 2 else 1 for v in given.values())
        patient_ids = [f"patient_{i + 1}" for i in range(width)]
    reference = _reference_values(base)
    assumed = tuple(name for name in COLUMNS if name not in given)
    values = {name: _as_course_array(given.get(name, reference[name])) for name in COLUMNS}
    return PlasmaCourse(time, values, tuple(patient_ids), assumed, base)


def course_from_frame(frame: pd.DataFrame, *, base: str = "ckd") -> PlasmaCourse:
    """A course from a tidy table: one row per patient and time.

    The table has ``time_h``, ``patient_id`` (or ``patient``) and analyte columns named as in
    `plasma_course` (other columns are ignored, so `SimulationResult.to_frame()` works as is).
    Every patient must have the same times.

    Raises
    ------
    UserInputError
        For a missing ``time_h``/patient/total-Mg column or patients with different times.
    """
    key = "patient_id" if "patient_id" in frame.columns else "patient"
    missing = [c for c in ("time_h", key) if c not in frame.columns]
    if missing:
        raise UserInputError(f"a plasma course table needs the column(s) {', '.join(missing)}")
    order, labels = pd.factorize(frame[key])
    counts = np.bincount(order)
    ordered = frame.assign(_order=order).sort_values(["_order", "time_h"], kind="stable")
    times = ordered["time_h"].to_numpy(dtype=np.float64)
    if counts.min() != counts.max() or np.any(times.reshape(labels.size, -1) != times[: counts[0]]):
        raise UserInputError("every patient of a plasma course table must have the same times")
    ids = [str(i) for i in labels]
    wanted = [c for c in frame.columns if c in COLUMNS or c in OBSERVABLES]
    columns = {c: ordered[c].to_numpy(dtype=np.float64).reshape(len(ids), -1).T for c in wanted}
    return plasma_course(times[: counts[0]], columns, base=base, patient_ids=ids)


def course_from_simulation(
    result: SimulationResult,
    *,
    base: str = "ckd",
    patient_ids: Sequence[str] | None = None,
) -> PlasmaCourse:
    """A course from a simulation of the whole-body model (its observables, per save time).

    Uses the observables the model has among `OBSERVABLES` (total Mg is required; Ca and
    phosphate once the whole-body model has them) and takes the rest from `base`. Patients whose
    solve failed are left out: the course holds the ids of those that succeeded.

    Raises
    ------
    UserInputError
        When the model has no total-Mg observable, or no patient's solve succeeded.
    """
    model = result.compiled.model
    if REQUIRED_OBSERVABLE not in model.rule_names:
        raise UserInputError(f"model {model.name!r} has no observable {REQUIRED_OBSERVABLE}")
    ids = list(patient_ids or (f"patient_{i + 1}" for i in range(result.n_patients)))
    if len(ids) != result.n_patients:
        raise UserInputError(f"{len(ids)} patient ids for {result.n_patients} patients")
    kept = np.flatnonzero(result.succeeded)
    if kept.size == 0:
        raise UserInputError("no patient's simulation succeeded: there is no plasma course")
    columns = {name: result.rule(name)[:, kept] for name in OBSERVABLES if name in model.rule_names}
    return plasma_course(result.time_h, columns, base=base, patient_ids=[ids[i] for i in kept])
