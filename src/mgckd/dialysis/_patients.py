"""Hemodialysis patients and the batch they form with a prescription and a model.

`DialysisPatients` holds what differs between patients (residual kidney function, fluid gain,
hematocrit, dietary Mg and phosphate, how much of them the gut takes up, pre-dialysis plasma);
`hemodialysis` joins them with prescriptions and a model (given dialysis by `with_dialysis`) into
the `Hemodialysis` batch that `periodic_steady_state` and `simulate_dialysis` run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mgckd._pint import quantity
from mgckd.chemistry import PlasmaComposition, reference_plasma, speciate
from mgckd.dialysis._model import FLUID_GAIN, dialyzable_fractions, with_dialysis
from mgckd.dialysis._prescription import Prescription, Schedule, reference
from mgckd.exceptions import ScenarioError
from mgckd.model import Model, compile_model
from mgckd.params import parameters

FloatArray = NDArray[np.float64]

CHEMISTRY_FRACTIONS = (
    "mg_ultrafilterable_fraction",
    "mg_ionized_fraction",
    "ca_ultrafilterable_fraction",
    "ca_ionized_fraction",
)
"""Fractions of plasma Mg and Ca the model takes from a patient's plasma chemistry (where the
model declares them as parameters)."""

_PER_PATIENT = {
    "residual_gfr_ml_min": ("residual_gfr_hemodialysis_reference_ml_min", "mL/min"),
    "fluid_gain_l_d": ("interdialytic_fluid_gain_reference_l_d", "L/d"),
    "hematocrit": ("hematocrit_hemodialysis_reference", "1"),
    "diet_mg_mmol_d": ("hemodialysis_reference_diet_mg_mmol_d", "mmol/d"),
    "diet_phosphate_mmol_d": ("hemodialysis_reference_diet_phosphate_mmol_d", "mmol/d"),
    "mg_absorption_factor": ("hemodialysis_mg_absorption_factor", "1"),
    "phosphate_unbound_fraction": ("hemodialysis_phosphate_unbound_fraction", "1"),
}
"""Per-patient fields and the registry default (name, unit) of each."""
_RANGES = {
    "residual_gfr_ml_min": ("residual_gfr_hemodialysis_range_ml_min", "mL/min"),
    "fluid_gain_l_d": ("interdialytic_fluid_gain_range_l_d", "L/d"),
    "hematocrit": ("hematocrit_range", "1"),
    "mg_absorption_factor": ("hemodialysis_mg_absorption_factor_range", "1"),
    "phosphate_unbound_fraction": ("hemodialysis_phosphate_unbound_fraction_range", "1"),
}
MG_ABSORPTION_FRACTIONS = (
    "absorbed_fraction_low_intake",
    "absorbed_fraction_paracellular",
    "absorbed_fraction_reference",
)
"""The model's three anchors of the Mg absorption curve (Fine 1991) that `mg_absorption_factor`
scales: the whole curve scales with them."""


def _array(value: ArrayLike, name: str) -> FloatArray:
    array = np.atleast_1d(np.asarray(value, dtype=np.float64))
    if array.ndim != 1 or not np.all(np.isfinite(array)):
        raise ScenarioError(f"{name}: give a finite number or one per patient, not {value!r}")
    return array


@dataclass(frozen=True, eq=False)
class DialysisPatients:
    """Hemodialysis patients: scalars or one value per patient (None: the registry's reference
    hemodialysis patient).

    Attributes
    ----------
    residual_gfr_ml_min : residual kidney function (GFR), mL/min (0: anuric).
    fluid_gain_l_d : fluid gained per day between sessions, L/d.
    hematocrit : blood hematocrit.
    diet_mg_mmol_d : dietary Mg, mmol/d (default the reference hemodialysis patient's,
        measured).
    diet_phosphate_mmol_d : dietary phosphate, mmol/d (default the reference hemodialysis
        patient's, measured); used when the model has phosphate.
    mg_absorption_factor : the patient's fractional Mg absorption relative to the healthy
        curve (default the reference hemodialysis patient's, fitted to cohorts' pre-dialysis Mg).
    phosphate_unbound_fraction : the fraction of dietary phosphate that reaches the absorptive
        gut unbound (binders and a restricted diet's lower bioavailability keep the rest; default
        the reference hemodialysis patient's, fitted to the phosphate removed per session).
    plasma : pre-dialysis plasma composition (one sample, or one per patient) from which the
        ultrafilterable, ionized and dialyzable fractions of Mg and Ca come; default the
        reference hemodialysis plasma.
    """

    residual_gfr_ml_min: ArrayLike | None = None
    fluid_gain_l_d: ArrayLike | None = None
    hematocrit: ArrayLike | None = None
    diet_mg_mmol_d: ArrayLike | None = None
    diet_phosphate_mmol_d: ArrayLike | None = None
    mg_absorption_factor: ArrayLike | None = None
    phosphate_unbound_fraction: ArrayLike | None = None
    plasma: PlasmaComposition | None = None

    def __post_init__(self) -> None:
        sizes = {1}
        for name, (default, default_unit) in _PER_PATIENT.items():
            given = getattr(self, name)
            values = _array(reference(default, default_unit) if given is None else given, name)
            if name in _RANGES:
                range_name, unit = _RANGES[name]
                low, high = parameters()[range_name].quantity.to(unit).magnitude
                outside = values[(values < low) | (values > high)]
                if outside.size:
                    raise ScenarioError(
                        f"{name}: {outside[0]:g} {unit} is outside the accepted range "
                        f"{low:g}-{high:g} {unit}"
                    )
            elif np.any(values <= 0):
                raise ScenarioError(f"{name}: must be > 0, not {values.min():g}")
            object.__setattr__(self, name, values)
            sizes.add(values.size)
        if self.plasma is not None:
            sizes.add(self.plasma.n)
        if len(sizes - {1}) > 1:
            raise ScenarioError(
                f"patients: the fields hold {sorted(sizes)} values; give 1 or one per patient"
            )

    def values(self, name: str) -> FloatArray:
        """A per-patient field as filled in (the registry default where none was given)."""
        out: FloatArray = np.asarray(getattr(self, name), dtype=np.float64)
        return out

    @property
    def n(self) -> int:
        """Number of patients."""
        sizes = [np.size(getattr(self, name)) for name in _PER_PATIENT]
        sizes.append(self.plasma.n if self.plasma is not None else 1)
        return int(max(sizes))

    def pre_dialysis_plasma(self, n: int) -> PlasmaComposition:
        """The pre-dialysis plasma of a batch of `n` patients, one sample per patient."""
        plasma = self.plasma if self.plasma is not None else reference_plasma("hemodialysis")
        if plasma.n == n:
            return plasma
        return plasma.take(np.zeros(n, dtype=np.intp))


def _per_patient(value: ArrayLike, n: int) -> FloatArray:
    out: FloatArray = np.broadcast_to(np.asarray(value, dtype=np.float64), (n,)).copy()
    return out


def _per_hour(per_day: ArrayLike, n: int) -> FloatArray:
    rate = quantity(_per_patient(per_day, n), "1/d").to("1/h").magnitude
    return np.asarray(rate, dtype=np.float64)


@dataclass(frozen=True, eq=False)
class Hemodialysis:
    """A batch of hemodialysis patients, each on a prescription, in a model with dialysis.

    Attributes
    ----------
    model : the model (with `with_dialysis` applied).
    prescriptions : one per patient (all on the same schedule: event times are common to a
        batch).
    patients : who they are.
    overrides : further model parameters (model units), a scalar or one per patient.
    """

    model: Model
    prescriptions: tuple[Prescription, ...]
    patients: DialysisPatients
    overrides: Mapping[str, ArrayLike] = field(default_factory=dict)

    @property
    def n_patients(self) -> int:
        """Batch size."""
        return len(self.prescriptions)

    @property
    def schedule(self) -> Schedule:
        """The session schedule common to the batch."""
        return self.prescriptions[0].schedule

    def plasma(self) -> PlasmaComposition:
        """Each patient's pre-dialysis plasma (their labs, or the reference hemodialysis one)."""
        return self.patients.pre_dialysis_plasma(self.n_patients)

    def fluid_gain_l_h(self) -> FloatArray:
        """Each patient's fluid gain, L/h."""
        return _per_hour(self.patients.values("fluid_gain_l_d"), self.n_patients)

    def parameters(self) -> dict[str, FloatArray]:
        """Model parameter overrides (model units), one value per patient."""
        n = self.n_patients
        names = set(self.model.parameter_names)
        per_l_h = float(quantity(1.0, "mL/min").to("L/h").magnitude)
        anuric = reference("anuric_gfr_ml_min", "mL/min")
        gfr = (
            np.maximum(_per_patient(self.patients.values("residual_gfr_ml_min"), n), anuric)
            * per_l_h
        )
        values: dict[str, FloatArray] = {
            "gfr_start_l_h": gfr,
            "gfr_floor_l_h": gfr,
            "gfr_decline_per_h": np.zeros(n),
            "diet_mg_mmol_h": _per_hour(self.patients.values("diet_mg_mmol_d"), n),
            "hematocrit": _per_patient(self.patients.values("hematocrit"), n),
            FLUID_GAIN: self.fluid_gain_l_h(),
        }
        missing = [name for name in values if name not in names]
        if "diet_pi_mmol_h" in names:
            values["diet_pi_mmol_h"] = _per_hour(
                self.patients.values("diet_phosphate_mmol_d")
                * self.patients.values("phosphate_unbound_fraction"),
                n,
            )
        compiled = compile_model(self.model)
        factor = _per_patient(self.patients.values("mg_absorption_factor"), n)
        for name in MG_ABSORPTION_FRACTIONS:
            if name in names:
                healthy = compiled.default_parameters[compiled.parameters.index(name)]
                values[name] = factor * healthy
        if missing:
            raise ScenarioError(
                f"model {self.model.name!r} lacks parameter(s) {', '.join(missing)} that a "
                "hemodialysis patient sets"
            )
        frame = speciate(self.plasma(), throw=False).to_frame()
        for name in CHEMISTRY_FRACTIONS:
            if name in names:
                values[name] = frame[name].to_numpy(dtype=np.float64)
        values.update({k: v for k, v in dialyzable_fractions(frame).items() if k in names})
        tables = [p.model_parameters() for p in self.prescriptions]
        for name in tables[0]:
            if name in names:
                values[name] = np.array([table[name] for table in tables])
        for name, value in self.overrides.items():
            values[name] = _per_patient(value, n)
        return values


def hemodialysis(
    model: Model,
    prescription: Prescription | Sequence[Prescription] = Prescription(),  # noqa: B008
    patients: DialysisPatients | None = None,
    *,
    overrides: Mapping[str, ArrayLike] | None = None,
) -> Hemodialysis:
    """Patients on prescriptions in `model` (given dialysis if it has none).

    One prescription applies to every patient; a sequence gives one per patient (all with the
    same schedule). The batch size is the larger of the two counts.

    Raises
    ------
    ScenarioError
        When the counts do not match or the schedules differ.
    """
    who = patients or DialysisPatients()
    given = (prescription,) if isinstance(prescription, Prescription) else tuple(prescription)
    n = max(len(given), who.n)
    if len(given) not in (1, n) or who.n not in (1, n):
        raise ScenarioError(
            f"prescriptions ({len(given)}) and patients ({who.n}): give 1 or the same number"
        )
    if any(p.schedule != given[0].schedule for p in given):
        raise ScenarioError(
            "prescriptions: every patient of a batch must share the schedule (event times are "
            "common to a batch); simulate different schedules as separate batches"
        )
    return Hemodialysis(
        model=with_dialysis(model),
        prescriptions=given * (n // len(given)),
        patients=who,
        overrides=MappingProxyType(dict(overrides or {})),
    )
