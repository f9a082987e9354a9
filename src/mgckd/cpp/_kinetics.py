"""CPP formation and maturation: rate laws and the ODE, vectorized over samples.

States per sample, mmol/L of the medium (`STATES`): calcium and phosphate in solution (free,
complexed and protein-bound: everything not in particles), calcium in CPP1 (amorphous calcium
phosphate held by fetuin-A) and calcium in CPP2 (crystalline, apatite). Two fluxes, written once
and mapped onto the states by the stoichiometry matrix (`stoichiometry`):

- J1, CPP1 formation: J1 = k1 (S_ACP − 1) while S_ACP > 1, S the supersaturation per ion of
  amorphous calcium phosphate, Ca3(PO4)2;
- J2, CPP1 → CPP2 conversion, classical nucleation plus autocatalytic growth of the crystalline
  phase: J2 = f (k_n(S_HAP) + k_g X) [CPP1], X = CPP2 / (CPP1 + CPP2), with
  k_n = A exp(−B / (ln S_HAP)²) and f the inhibition by Mg, fetuin-A and pyrophosphate.

The supersaturations start from a full speciation (`mgckd.chemistry`) and follow the solution's
Ca and phosphate with activity coefficients and complexed fractions held at their starting values.
Equations, sources and what is empirical: docs/cpp.md.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from functools import cache

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mgckd.chemistry import PHASES, Speciation
from mgckd.cpp._solver import DormandPrince, OdeSolution, solve
from mgckd.params import parameters

FloatArray = NDArray[np.float64]

STATES = (
    "calcium_solution_mmol_l",
    "phosphate_solution_mmol_l",
    "cpp1_calcium_mmol_l",
    "cpp2_calcium_mmol_l",
)
"""The state variables, in the order of the first axis of every state array."""

AMORPHOUS = "amorphous_calcium_phosphate"
CRYSTALLINE = "hydroxyapatite"
_LN10 = math.log(10.0)
_TINY = np.finfo(np.float64).tiny  # keeps log() finite inside a Runge-Kutta stage
_MIN_LN_S = 1e-3  # ln S floor of the nucleation law: exp(-B / 1e-6) underflows to 0


@dataclass(frozen=True, slots=True)
class Stoichiometry:
    """Exponents of Ca²⁺ and PO₄³⁻ in a phase's ion product, and its ions per formula unit."""

    calcium: int
    phosphate: int
    ions: int

    @property
    def calcium_per_phosphate(self) -> float:
        """Ca/P of the mineral, mol/mol."""
        return self.calcium / self.phosphate


@cache
def phase_stoichiometry(name: str) -> Stoichiometry:
    """The stoichiometry of a phase of `mgckd.chemistry.PHASES` (per formula unit as written)."""
    phase = next(p for p in PHASES if p.name == name)
    exponents = dict(phase.ion_product)
    return Stoichiometry(exponents["Ca+2"], exponents["PO4-3"], sum(exponents.values()))


@dataclass(frozen=True, slots=True)
class KineticParameters:
    """The rate constants of the CPP model (registry names in `REGISTRY_NAMES`).

    Attributes
    ----------
    cpp1_formation_rate_mmol_l_min : k1 of J1 = k1 (S_ACP − 1), mmol/L/min.
    nucleation_reference_si : hydroxyapatite SI (per Ca5(PO4)3OH) at which k_n is given.
    nucleation_ln_rate_reference : ln of k_n (1/min) at that SI, uninhibited.
    nucleation_barrier : B of k_n = A exp(−B / (ln S)²), dimensionless.
    growth_rate_per_min : k_g, the autocatalytic conversion rate constant, uninhibited, 1/min.
    mg_half_inhibition_mmol_l : free Mg²⁺ that halves nucleation and growth, mmol/L.
    fetuin_a_half_shielding_g_l : fetuin-A that halves them, g/L.
    pyrophosphate_half_inhibition_umol_l : pyrophosphate that halves them, µmol/L.
    """

    cpp1_formation_rate_mmol_l_min: float
    nucleation_reference_si: float
    nucleation_ln_rate_reference: float
    nucleation_barrier: float
    growth_rate_per_min: float
    mg_half_inhibition_mmol_l: float
    fetuin_a_half_shielding_g_l: float
    pyrophosphate_half_inhibition_umol_l: float

    @classmethod
    def from_registry(cls, overrides: Mapping[str, float] | None = None) -> KineticParameters:
        """The registry's values, with `overrides` (registry name → value, registry unit).

        Overrides never change the registry; the calibration program passes its trial values so.
        """
        unknown = set(overrides or {}) - set(REGISTRY_NAMES.values())
        if unknown:
            raise KeyError(f"not a kinetic parameter: {', '.join(sorted(unknown))}")
        values = {}
        for f in fields(cls):
            name = REGISTRY_NAMES[f.name]
            values[f.name] = (overrides or {}).get(name, parameters()[name].to(_UNITS[f.name]))
        return cls(**values)

    @property
    def reference_ln_s(self) -> float:
        """ln S (per ion) of hydroxyapatite at the reference SI."""
        return self.nucleation_reference_si * _LN10 / phase_stoichiometry(CRYSTALLINE).ions


REGISTRY_NAMES = {
    "cpp1_formation_rate_mmol_l_min": "cpp1_formation_rate",
    "nucleation_reference_si": "cpp_nucleation_reference_si",
    "nucleation_ln_rate_reference": "cpp_nucleation_ln_rate_reference",
    "nucleation_barrier": "cpp_nucleation_barrier",
    "growth_rate_per_min": "cpp_growth_rate",
    "mg_half_inhibition_mmol_l": "cpp_mg_half_inhibition",
    "fetuin_a_half_shielding_g_l": "cpp_fetuin_a_half_shielding",
    "pyrophosphate_half_inhibition_umol_l": "cpp_pyrophosphate_half_inhibition",
}
"""`KineticParameters` field → registry name."""

_UNITS = {
    "cpp1_formation_rate_mmol_l_min": "mmol/L/min",
    "nucleation_reference_si": "1",
    "nucleation_ln_rate_reference": "1",
    "nucleation_barrier": "1",
    "growth_rate_per_min": "1/min",
    "mg_half_inhibition_mmol_l": "mmol/L",
    "fetuin_a_half_shielding_g_l": "g/L",
    "pyrophosphate_half_inhibition_umol_l": "umol/L",
}


def inhibition_factor(
    mg_ionized_mmol_l: ArrayLike,
    fetuin_a_g_l: ArrayLike,
    pyrophosphate_umol_l: ArrayLike,
    params: KineticParameters,
) -> FloatArray:
    """f, the factor (0–1] on nucleation and growth of the crystalline phase.

    f = 1 / ((1 + [Mg²⁺]/K_Mg) (1 + [fetuin-A]/K_F) (1 + [PPi]/K_PPi)): each inhibitor blocks
    by Langmuir adsorption (Mg on ACP and growth sites, Ding 2014 and Nancollas 1976;
    pyrophosphate on growth sites; fetuin-A as the particle's protein shell, Heiss 2010), and
    the three act independently (multiplicatively).

    Examples
    --------
    >>> p = KineticParameters.from_registry()
    >>> float(inhibition_factor(0.0, 0.0, 0.0, p)[()])
    1.0
    """
    mg = np.asarray(mg_ionized_mmol_l, dtype=np.float64)
    fetuin = np.asarray(fetuin_a_g_l, dtype=np.float64)
    ppi = np.asarray(pyrophosphate_umol_l, dtype=np.float64)
    result: FloatArray = 1.0 / (
        (1.0 + mg / params.mg_half_inhibition_mmol_l)
        * (1.0 + fetuin / params.fetuin_a_half_shielding_g_l)
        * (1.0 + ppi / params.pyrophosphate_half_inhibition_umol_l)
    )
    return result


def ln_nucleation_rate(ln_s: ArrayLike, params: KineticParameters) -> FloatArray:
    """ln k_n (k_n in 1/min, uninhibited) of the crystalline phase at supersaturation ln S.

    Classical nucleation: k_n = A exp(−B / (ln S)²), written about the reference point,
    ln k_n = ln k_ref − B (1/(ln S)² − 1/(ln S_ref)²). Below ln S = 10⁻³ (and where there is no
    driving force, ln S ≤ 0) ln S is taken as 10⁻³: k_n is then exp(−B·10⁶), zero in floating
    point.
    """
    s = np.asarray(ln_s, dtype=np.float64)
    positive = s > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        barrier = params.nucleation_barrier * (1.0 / s**2 - 1.0 / params.reference_ln_s**2)
    result: FloatArray = np.where(positive, params.nucleation_ln_rate_reference - barrier, -np.inf)
    return result


@dataclass(frozen=True, slots=True)
class MineralDrive:
    """What the kinetics needs of each sample at t = 0 (arrays over samples).

    Attributes
    ----------
    calcium_mmol_l, phosphate_mmol_l : totals in solution at t = 0.
    ln_omega_amorphous, ln_omega_crystalline : ln(IAP/Ksp) of ACP (per Ca3(PO4)2) and
        hydroxyapatite (per Ca5(PO4)3OH) at t = 0.
    inhibition : the factor f of `inhibition_factor`.
    """

    calcium_mmol_l: FloatArray
    phosphate_mmol_l: FloatArray
    ln_omega_amorphous: FloatArray
    ln_omega_crystalline: FloatArray
    inhibition: FloatArray

    def __len__(self) -> int:
        return int(self.calcium_mmol_l.size)

    def take(self, index: NDArray[np.intp]) -> MineralDrive:
        """The samples at `index`."""
        return MineralDrive(
            self.calcium_mmol_l[index],
            self.phosphate_mmol_l[index],
            self.ln_omega_amorphous[index],
            self.ln_omega_crystalline[index],
            self.inhibition[index],
        )


def mineral_drive(
    speciation: Speciation,
    fetuin_a_g_l: ArrayLike,
    pyrophosphate_umol_l: ArrayLike,
    params: KineticParameters,
) -> MineralDrive:
    """The `MineralDrive` of speciated samples (the medium the particles form in)."""
    si = speciation.saturation_indices
    return MineralDrive(
        calcium_mmol_l=np.asarray(speciation.composition.calcium_mmol_l),
        phosphate_mmol_l=np.asarray(speciation.composition.phosphate_mmol_l),
        ln_omega_amorphous=si[AMORPHOUS] * _LN10,
        ln_omega_crystalline=si[CRYSTALLINE] * _LN10,
        inhibition=inhibition_factor(
            speciation.magnesium_ionized_mmol_l, fetuin_a_g_l, pyrophosphate_umol_l, params
        ),
    )


def stoichiometry() -> FloatArray:
    """N (states × fluxes): dy/dt = N @ (J1, J2).

    J1 takes Ca and phosphate from solution into CPP1 at the Ca/P of ACP; J2 moves Ca from
    CPP1 to CPP2 and releases the phosphate the apatite's higher Ca/P does not need. Ca
    (1, 0, 1, 1) and phosphate (0, 1, 1/r_ACP, 1/r_HAP) are conserved: both are in N's left null
    space.
    """
    amorphous = 1.0 / phase_stoichiometry(AMORPHOUS).calcium_per_phosphate
    crystalline = 1.0 / phase_stoichiometry(CRYSTALLINE).calcium_per_phosphate
    return np.array([[-1.0, 0.0], [-amorphous, amorphous - crystalline], [1.0, -1.0], [0.0, 1.0]])


def conserved_totals(y: FloatArray) -> FloatArray:
    """(2, ...) total Ca and total phosphate of states `y` (4, ...), mmol/L."""
    amorphous = 1.0 / phase_stoichiometry(AMORPHOUS).calcium_per_phosphate
    crystalline = 1.0 / phase_stoichiometry(CRYSTALLINE).calcium_per_phosphate
    ca = y[0] + y[2] + y[3]
    pi = y[1] + amorphous * y[2] + crystalline * y[3]
    return np.stack([ca, pi])


@cache
def _supersaturation_matrix() -> FloatArray:
    """(2, 2): rows ACP and hydroxyapatite, columns ln Ca and ln P, each over the phase's ions."""
    rows = [phase_stoichiometry(AMORPHOUS), phase_stoichiometry(CRYSTALLINE)]
    return np.array([[s.calcium / s.ions, s.phosphate / s.ions] for s in rows])


def supersaturation_offsets(drive: MineralDrive) -> FloatArray:
    """(2, n) ln S per ion of ACP and hydroxyapatite at unit Ca and P, so that
    ln S(t) = offset + matrix @ (ln Ca(t), ln P(t)) (see `ln_supersaturations`)."""
    ions = np.array(
        [[phase_stoichiometry(AMORPHOUS).ions], [phase_stoichiometry(CRYSTALLINE).ions]]
    )
    start = np.stack([drive.ln_omega_amorphous, drive.ln_omega_crystalline]) / ions
    matrix = _supersaturation_matrix()
    result: FloatArray = (
        start
        - matrix[:, :1] * np.log(drive.calcium_mmol_l)
        - matrix[:, 1:] * np.log(drive.phosphate_mmol_l)
    )
    return result


def ln_supersaturations(y: FloatArray, offsets: FloatArray) -> FloatArray:
    """(2, m) ln S per ion of ACP and of hydroxyapatite for states `y` (4, m).

    ln Ω(t) = ln Ω(0) + ν_Ca ln(Ca/Ca(0)) + ν_P ln(P/P(0)), divided by the phase's ions:
    activity coefficients and complexed fractions held at their t = 0 values, pH fixed.
    `offsets` are `supersaturation_offsets` of the same samples.
    """
    matrix = _supersaturation_matrix()
    logs = np.log(np.maximum(y[:2], _TINY))
    # written out rather than as a matrix product, so a sample's numbers do not depend on its batch
    result: FloatArray = offsets + matrix[:, :1] * logs[0] + matrix[:, 1:] * logs[1]
    return result


@cache
def _nucleation_offset(params: KineticParameters) -> float:
    """ln k_ref + B / (ln S_ref)²: ln k_n = this − B / (ln S)²."""
    return params.nucleation_ln_rate_reference + params.nucleation_barrier / (
        params.reference_ln_s**2
    )


def fluxes(
    y: FloatArray, offsets: FloatArray, inhibition: FloatArray, params: KineticParameters
) -> FloatArray:
    """(2, m) fluxes J1 (CPP1 formation) and J2 (CPP1 → CPP2), mmol/L/min.

    `offsets` and `inhibition` are the samples' `supersaturation_offsets` and inhibition factor.
    Written for speed (the solver calls it seven times a step); `ln_nucleation_rate` is the
    readable form of its nucleation term.
    """
    ln_s = ln_supersaturations(y, offsets)
    out = np.empty((2, y.shape[1]))
    out[0] = params.cpp1_formation_rate_mmol_l_min * np.maximum(np.expm1(ln_s[0]), 0.0)
    cpp1, cpp2 = np.maximum(y[2:], 0.0)
    # nucleation exp(ln k_n) + growth k_g X, X = CPP2 / (CPP1 + CPP2) (0 before any particle)
    rate = np.exp(
        _nucleation_offset(params)
        - params.nucleation_barrier / np.square(np.maximum(ln_s[1], _MIN_LN_S))
    ) + params.growth_rate_per_min * cpp2 / np.maximum(cpp1 + cpp2, _TINY)
    out[1] = inhibition * rate * cpp1
    return out


def initial_states(drive: MineralDrive) -> FloatArray:
    """(4, n): all mineral in solution, no particles."""
    zeros = np.zeros(len(drive))
    return np.stack([drive.calcium_mmol_l, drive.phosphate_mmol_l, zeros, zeros])


def integrate(
    drive: MineralDrive,
    params: KineticParameters,
    times_min: FloatArray,
    solver: DormandPrince | None = None,
) -> OdeSolution:
    """The states at `times_min` (from t = ``times_min[0]``, no particles), every sample at once."""
    matrix = stoichiometry()
    offsets = supersaturation_offsets(drive)

    def rhs(y: FloatArray, index: NDArray[np.intp]) -> FloatArray:
        j = fluxes(y, offsets[:, index], drive.inhibition[index], params)
        derivative: FloatArray = matrix[:, :1] * j[0] + matrix[:, 1:] * j[1]  # N @ J, per sample
        return derivative

    return solve(rhs, initial_states(drive), np.asarray(times_min, dtype=np.float64), solver)


def half_conversion_time_min(
    ln_nucleation_rate_per_min: ArrayLike, growth_rate_per_min: ArrayLike
) -> FloatArray:
    """Time to convert half of a CPP1 pool at constant rates, min.

    dX/dt = (k_n + k_g X)(1 − X), X(0) = 0 gives X(t) = (1 − E)/(1 + r E), E = exp(−(k_n + k_g) t),
    r = k_g/k_n, so t½ = ln(2 + r) / (k_n + k_g); computed in logs (k_n may underflow), inf
    where k_n = 0.

    Examples
    --------
    >>> round(float(half_conversion_time_min(np.log(0.01), 0.0)[()]), 2)  # first order
    69.31
    """
    ln_kn = np.asarray(ln_nucleation_rate_per_min, dtype=np.float64)
    kg = np.asarray(growth_rate_per_min, dtype=np.float64)
    with np.errstate(divide="ignore"):
        ln_ratio = np.log(kg) - ln_kn
        result: FloatArray = np.logaddexp(math.log(2.0), ln_ratio) / (np.exp(ln_kn) + kg)
    return result
