"""The T50 test in silico: the assay's well, its light scattering, and its reading.

Serum is mixed with Ca and phosphate stocks (Pasch et al. 2012: serum at 40 % of the well, +10
mmol/L Ca, +6 mmol/L phosphate, HEPES/NaCl-buffered at pH 7.4, 37 °C); the well is speciated
(`mgckd.chemistry`), the CPP kinetics runs over the read (`_kinetics`), the particles become a
nephelometry signal, and T50 is read from that signal by the curve analyzer `fit_wells` — the same
code that reads a real plate. Protocol numbers and their sources: docs/cpp.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from mgckd.chemistry import PlasmaComposition, speciate
from mgckd.cpp._curves import fit_wells
from mgckd.cpp._kinetics import (
    AMORPHOUS,
    CRYSTALLINE,
    STATES,
    KineticParameters,
    integrate,
    mineral_drive,
)
from mgckd.cpp._result import INVALID_INPUT, MIXED_WELL_COLUMNS, SIMULATION_FAILED, T50Simulation
from mgckd.cpp._serum import Serum
from mgckd.cpp._solver import DormandPrince, SolverStatus
from mgckd.exceptions import SimulationError, UserInputError
from mgckd.params import parameters

FloatArray = NDArray[np.float64]

_CHLORIDE_PER_CALCIUM = 2  # the Ca stock is CaCl2


@dataclass(frozen=True, slots=True)
class AssayProtocol:
    """The T50 test's conditions (registry ``t50_assay_*``).

    Attributes
    ----------
    serum_volume_fraction : serum volume / well volume.
    calcium_spike_mmol_l, phosphate_spike_mmol_l : Ca and phosphate added, final, mmol/L.
    sodium_per_phosphate : Na⁺ per phosphate of the phosphate stock (Na₂HPO₄/NaH₂PO₄).
    buffer_sodium_chloride_mmol_l : NaCl of the non-serum part of the well, mmol/L.
    ph : the well's pH (HEPES-buffered).
    temperature_k : 37 °C; must equal the temperature of the speciation constants.
    first_read_min : time from mixing to the first read, min (T50 is counted from mixing).
    duration_min, read_interval_min : the nephelometric read, min.
    """

    serum_volume_fraction: float
    calcium_spike_mmol_l: float
    phosphate_spike_mmol_l: float
    sodium_per_phosphate: float
    buffer_sodium_chloride_mmol_l: float
    ph: float
    temperature_k: float
    first_read_min: float
    duration_min: float
    read_interval_min: float

    def __post_init__(self) -> None:
        chemistry = parameters()["speciation_temperature"].to("K")
        if not np.isclose(self.temperature_k, chemistry):
            raise UserInputError(
                f"assay temperature {self.temperature_k:g} K: the speciation constants are at "
                f"{chemistry:g} K only"
            )
        if not 0.0 < self.serum_volume_fraction <= 1.0:
            raise UserInputError(
                f"serum_volume_fraction {self.serum_volume_fraction:g} is not in (0, 1]"
            )
        if not 0.0 < self.read_interval_min < self.duration_min - self.first_read_min:
            raise UserInputError(
                f"read_interval_min {self.read_interval_min:g} must lie in (0, duration_min "
                f"{self.duration_min:g} - first_read_min {self.first_read_min:g})"
            )
        if self.first_read_min < 0:
            raise UserInputError(f"first_read_min {self.first_read_min:g} is negative")

    @classmethod
    def from_registry(cls) -> AssayProtocol:
        """Pasch et al. 2012's protocol as registered (``t50_assay_*`` in ``cpp.toml``)."""
        p = parameters()
        return cls(
            serum_volume_fraction=p["t50_assay_serum_volume_fraction"].to("1"),
            calcium_spike_mmol_l=p["t50_assay_calcium_spike"].to("mmol/L"),
            phosphate_spike_mmol_l=p["t50_assay_phosphate_spike"].to("mmol/L"),
            sodium_per_phosphate=p["t50_assay_phosphate_stock_sodium_per_phosphate"].to("1"),
            buffer_sodium_chloride_mmol_l=p["t50_assay_buffer_sodium_chloride"].to("mmol/L"),
            ph=p["t50_assay_ph"].to("1"),
            temperature_k=p["t50_assay_temperature"].to("K"),
            first_read_min=p["t50_assay_first_read"].to("min"),
            duration_min=p["t50_assay_duration"].to("min"),
            read_interval_min=p["t50_assay_read_interval"].to("min"),
        )

    def read_times_min(self) -> FloatArray:
        """The read times from mixing, min: the first read, then one every interval up to the
        duration.

        Examples
        --------
        >>> times = AssayProtocol.from_registry().read_times_min()
        >>> times.size, float(times[0]), float(times[-1])
        (120, 5.0, 600.0)
        """
        span = (self.duration_min - self.first_read_min) / self.read_interval_min
        count = int(np.floor(span + 1e-9)) + 1  # 1e-9 absorbs round-off: 595 / 5 gives 120 reads
        result: FloatArray = (
            self.first_read_min + np.arange(count, dtype=np.float64) * self.read_interval_min
        )
        return result

    def well(self, composition: PlasmaComposition) -> PlasmaComposition:
        """The well's composition at mixing: serum diluted, spikes and buffer salts added.

        The serum's own analytes are scaled by the serum fraction φ; the well holds φ·serum + the
        Ca spike (as CaCl₂) and the phosphate spike (as Na₂HPO₄/NaH₂PO₄), with NaCl in the
        non-serum part, at the buffer's pH. The lumped uremic-anion ligand of the speciation is
        left out (docs/decisions.md: its Ca binding is an untested extrapolation to the well).
        """
        phi = self.serum_volume_fraction
        buffer = (1.0 - phi) * self.buffer_sodium_chloride_mmol_l
        diluted = {name: phi * values for name, values in composition.to_dict().items()}
        diluted["ph"] = np.full(len(composition), self.ph)
        diluted["uremic_anion_mmol_l"] = np.zeros(len(composition))
        diluted["calcium_mmol_l"] = diluted["calcium_mmol_l"] + self.calcium_spike_mmol_l
        diluted["phosphate_mmol_l"] = diluted["phosphate_mmol_l"] + self.phosphate_spike_mmol_l
        diluted["sodium_mmol_l"] = (
            diluted["sodium_mmol_l"]
            + buffer
            + self.sodium_per_phosphate * self.phosphate_spike_mmol_l
        )
        diluted["chloride_mmol_l"] = (
            diluted["chloride_mmol_l"] + buffer + _CHLORIDE_PER_CALCIUM * self.calcium_spike_mmol_l
        )
        return PlasmaComposition.from_dict(diluted, assumed=composition.assumed)


def nephelometry_signal(
    cpp1_calcium_mmol_l: FloatArray, cpp2_calcium_mmol_l: FloatArray
) -> FloatArray:
    """Light scattering of the particles, relative nephelometry units (RNU).

    signal = background + g (CPP2 + (r₁/r₂)³ CPP1): scattering per mass grows with particle
    volume (Rayleigh), so the small amorphous CPP1 (r₁ = 50 nm) scatter 2.6 % of what as much
    mineral in CPP2 (r₂ = 168 nm) scatters. Background and g set an arbitrary scale.
    """
    p = parameters()
    relative = (p["cpp1_radius"].to("nm") / p["cpp2_radius"].to("nm")) ** 3
    result: FloatArray = p["nephelometry_background"].to("1") + p[
        "nephelometry_signal_per_cpp2"
    ].to("L/mmol") * (cpp2_calcium_mmol_l + relative * cpp1_calcium_mmol_l)
    return result


def simulate_t50(
    sample: Serum,
    *,
    protocol: AssayProtocol | None = None,
    params: KineticParameters | None = None,
    solver: DormandPrince | None = None,
    throw: bool = True,
) -> T50Simulation:
    """Run the T50 test in silico on serum samples: nephelometry curves and T50.

    Parameters
    ----------
    sample : the sera (`serum` or `reference_serum` build them).
    protocol : the assay; default Pasch et al. 2012 as registered.
    params : the kinetic constants; default the registry's.
    solver : tolerances of the ODE solver.
    throw : raise on the first sample that cannot be simulated (one patient); with False every
        sample is reported in ``status`` / ``reason`` and the others are simulated (a cohort).

    Returns
    -------
    T50Simulation
        Curves, states, the analyzer's fits and T50 per sample.

    Raises
    ------
    UserInputError
        With `throw`, for an invalid sample (the message names it and the field).
    SimulationError
        With `throw`, when the well's speciation or the ODE fails for a sample.

    Examples
    --------
    >>> from mgckd.cpp import reference_serum
    >>> result = simulate_t50(reference_serum("normal"))
    >>> 250 < float(result.t50_min[0]) < 400
    True
    """
    protocol = protocol or AssayProtocol.from_registry()
    params = params or KineticParameters.from_registry()
    n = len(sample)
    invalid = sample.invalid()
    if throw and invalid.any():
        first = int(np.flatnonzero(invalid)[0])
        where = f"sample {first}: " if n > 1 else ""
        raise UserInputError(f"{where}{sample.problem(first)}")
    reasons = np.full(n, "", dtype=object)
    for i in np.flatnonzero(invalid):  # only invalid samples carry a reason
        reasons[i] = sample.problem(int(i))
    valid = np.flatnonzero(~invalid)
    speciation = speciate(protocol.well(sample.composition.take(valid)), throw=False)
    phi = protocol.serum_volume_fraction
    drive = mineral_drive(
        speciation,
        phi * sample.fetuin_a_g_l[valid],
        phi * sample.pyrophosphate_umol_l[valid],
        params,
    )
    for i in np.flatnonzero(~speciation.converged):
        reasons[valid[i]] = f"speciation of the well failed: {speciation.reason[i]}"
    converged = np.flatnonzero(speciation.converged)
    times = protocol.read_times_min()
    solution = integrate(drive.take(converged), params, np.concatenate([[0.0], times]), solver)
    states = np.full((len(STATES), n, times.size), np.nan)
    states[:, valid[converged]] = solution.y[..., 1:]  # from mixing (t = 0) to the reads
    for i in np.flatnonzero(solution.status != SolverStatus.CONVERGED.value):
        reasons[valid[converged[i]]] = f"ODE solver stopped: {solution.status[i]}"
    failed = reasons != ""
    if throw and failed.any():
        first = int(np.flatnonzero(failed)[0])
        raise SimulationError(f"sample {first}: {reasons[first]}")
    signal = nephelometry_signal(states[2], states[3])
    simulated = np.flatnonzero(~failed)
    fits = fit_wells(times, signal[simulated])
    status = np.where(invalid, INVALID_INPUT, SIMULATION_FAILED).astype(object)
    status[simulated] = fits.status
    well = {name: np.full(n, np.nan) for name in MIXED_WELL_COLUMNS}
    si = speciation.saturation_indices
    for name, values in zip(
        MIXED_WELL_COLUMNS,
        (
            si[CRYSTALLINE],
            si[AMORPHOUS],
            speciation.calcium_ionized_mmol_l,
            speciation.magnesium_ionized_mmol_l,
            drive.inhibition,
        ),
        strict=True,
    ):
        well[name][valid] = values
    reasons.flags.writeable = False
    return T50Simulation(
        serum=sample,
        time_min=times,
        states=states,
        signal=signal,
        fits=fits,
        simulated=simulated,
        status=status.astype(str),
        reason=reasons,
        well=well,
    )
