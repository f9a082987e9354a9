"""Constant sets: the species of a set with their 37 °C formation constants, from the registry.

Temperature rule, as PHREEQC applies it: the analytic expression when the source gives one, else
van 't Hoff with the reaction enthalpy, else the 25 °C value unchanged. A reaction written on a
non-master species adds that species' formation constant (at the same temperature).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

import numpy as np
from numpy.typing import NDArray

from mgckd.chemistry._species import (
    CONSTANT_SETS,
    LIGANDS,
    METALS,
    PHASES,
    SPECIES,
    Species,
)
from mgckd.exceptions import RegistryError, UserInputError
from mgckd.params import Parameter, parameters

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

DEFAULT_SET = "plasma"
_N_ANALYTIC = 6


class ActivityKind:
    """How a species' activity coefficient is computed (integer codes used in arrays)."""

    DAVIES = 0
    TRUESDELL_JONES = 1
    NEUTRAL = 2
    CONDITIONAL = 3


@dataclass(frozen=True, eq=False)
class ConstantSet:
    """The species of one constant set and every number the solver needs, at 37 °C.

    Arrays are indexed by species (``species`` order). Concentrations are handled in mol/L,
    treated as mol/kg water (the dilute-solution approximation; see docs/chemistry.md).

    Attributes
    ----------
    name : the set's name (``plasma``, ``phreeqc``).
    species : species names.
    charge : ionic charge z per species.
    log_k : log10 formation constant at 37 °C from the masters (0 for masters).
    log_k_reaction : log10 K at 37 °C of each reaction as written in its source (it differs from
        `log_k` where the source writes the reaction on another species, e.g. Ca + HPO4 = CaHPO4).
    protons, water : H⁺ and H₂O in the formation reaction.
    metal_index, ligand_index : index into `metals` / `ligands`, −1 when absent.
    is_master : the free metal and ligand ions (formation constant 1).
    activity_kind : `ActivityKind` code per species.
    ion_size_angstrom, b_dot_kg_mol : Truesdell–Jones parameters (0 where unused).
    metals, ligands : the components present in this set.
    debye_huckel_a, debye_huckel_b : A (kg^½ mol^−½) and B (kg^½ mol^−½ Å^−1) at 37 °C.
    davies_linear : the 0.3 of the Davies equation.
    neutral_salting_kg_mol : b of log γ = b·I for uncharged species.
    water_activity_kg_mol : c of a_w = 1 − c·Σm.
    phases, phase_formulas : mineral names and formulas.
    phase_exponents : (phases × (species + 1)) ion-product exponents; the last column is H⁺.
    log_ksp : log10 Ksp at 37 °C per phase.
    albumin_sites_mol_per_g : binding-site moles per gram of albumin.
    parameters_used : registry names of every parameter this set read (for citation).
    """

    name: str
    species: tuple[str, ...]
    charge: FloatArray
    log_k: FloatArray
    log_k_reaction: FloatArray
    protons: FloatArray
    water: FloatArray
    metal_index: IntArray
    ligand_index: IntArray
    is_master: NDArray[np.bool_]
    activity_kind: IntArray
    ion_size_angstrom: FloatArray
    b_dot_kg_mol: FloatArray
    metals: tuple[str, ...]
    ligands: tuple[str, ...]
    debye_huckel_a: float
    debye_huckel_b: float
    davies_linear: float
    neutral_salting_kg_mol: float
    water_activity_kg_mol: float
    phases: tuple[str, ...]
    phase_formulas: tuple[str, ...]
    phase_exponents: FloatArray
    log_ksp: FloatArray
    albumin_sites_mol_per_g: float
    parameters_used: tuple[str, ...]

    def index(self, species: str) -> int:
        """Position of `species` in `species`; KeyError names the set when it is not there."""
        try:
            return self.species.index(species)
        except ValueError:
            raise KeyError(f"species {species!r} is not in constant set {self.name!r}") from None

    @property
    def conditional(self) -> NDArray[np.bool_]:
        """Species whose constants act on concentrations and that carry no ionic strength."""
        mask: NDArray[np.bool_] = self.activity_kind == ActivityKind.CONDITIONAL
        return mask


class _Lookup:
    """Registry access that records what was read, with optional overrides (calibration)."""

    def __init__(self, overrides: Mapping[str, float]) -> None:
        self._registry = parameters()
        self._overrides = dict(overrides)
        self.used: list[str] = []
        unknown = sorted(set(self._overrides) - set(self._registry))
        if unknown:
            raise UserInputError(f"override of unknown parameter(s): {', '.join(unknown)}")

    def has(self, name: str) -> bool:
        return name in self._registry

    def parameter(self, name: str) -> Parameter:
        self.used.append(name)
        return self._registry[name]

    def scalar(self, name: str, unit: str) -> float:
        p = self.parameter(name)
        if name in self._overrides:
            return float(self._overrides[name])  # overrides are given in the registry unit
        return p.to(unit)

    def vector(self, name: str) -> tuple[float, ...]:
        p = self.parameter(name)
        if not isinstance(p.value, tuple):
            return (p.value,)
        return p.value


def _log_k_25_to_t(look: _Lookup, s: Species, temperature_k: float) -> float:
    """log10 K of the species' own reaction (as written) at `temperature_k`."""
    layer = s.layer.value
    analytic = f"{layer}_analytic_{s.slug}"
    if look.has(analytic):
        a = list(look.vector(analytic)) + [0.0] * (_N_ANALYTIC - len(look.vector(analytic)))
        t = temperature_k
        return a[0] + a[1] * t + a[2] / t + a[3] * math.log10(t) + a[4] / t**2 + a[5] * t**2
    name = s.log_k or f"{layer}_log_k_{s.slug}"
    if not look.has(name):
        raise RegistryError(f"species {s.name}: no log K parameter {name!r} in the registry")
    log_k = look.scalar(name, "1")
    delta_h = f"{layer}_delta_h_{s.slug}"
    if look.has(delta_h):
        enthalpy = look.scalar(delta_h, "J/mol")
        r = look.scalar("gas_constant", "J/(mol*K)")
        t0 = look.scalar("reference_temperature", "K")
        log_k -= enthalpy / (r * math.log(10.0)) * (1.0 / temperature_k - 1.0 / t0)
    return log_k


def _activity(look: _Lookup, s: Species) -> tuple[int, float, float]:
    """(kind, ion size Å, b kg/mol) of a species."""
    if s.conditional:
        return ActivityKind.CONDITIONAL, 0.0, 0.0
    ion_size = f"{s.layer.value}_ion_size_{s.slug}"
    if look.has(ion_size):
        b_dot = look.scalar(f"{s.layer.value}_b_dot_{s.slug}", "kg/mol")
        return ActivityKind.TRUESDELL_JONES, look.scalar(ion_size, "angstrom"), b_dot
    if s.charge == 0:
        return ActivityKind.NEUTRAL, 0.0, 0.0
    return ActivityKind.DAVIES, 0.0, 0.0


def _build(name: str, overrides: Mapping[str, float]) -> ConstantSet:
    if name not in CONSTANT_SETS:
        raise UserInputError(
            f"constant set {name!r} is not one of {', '.join(sorted(CONSTANT_SETS))}"
        )
    look = _Lookup(overrides)
    layers = CONSTANT_SETS[name]
    chosen = [s for s in SPECIES if s.layer in layers]
    by_name = {s.name: s for s in chosen}
    temperature = look.scalar("speciation_temperature", "K")
    own = {s.name: 0.0 if s.master else _log_k_25_to_t(look, s, temperature) for s in chosen}

    def formation(s: Species) -> float:
        return own[s.name] + sum(formation(by_name[v]) for v in s.via)

    metals = tuple(m for m in METALS if any(s.master and s.metal == m for s in chosen))
    ligands = tuple(lg for lg in LIGANDS if any(s.master and s.ligand == lg for s in chosen))
    kinds = [_activity(look, s) for s in chosen]
    species = tuple(s.name for s in chosen)
    exponents = np.zeros((len(PHASES), len(species) + 1))
    for row, phase in enumerate(PHASES):
        for ion, power in phase.ion_product:
            column = len(species) if ion == "H+" else species.index(ion)
            exponents[row, column] = power
    albumin_sites = 0.0
    if "Alb" in ligands:
        albumin_sites = look.scalar("albumin_binding_sites_per_molecule", "1") / look.scalar(
            "albumin_molar_mass", "g/mol"
        )
    return ConstantSet(
        name=name,
        species=species,
        charge=np.array([s.charge for s in chosen], dtype=np.float64),
        log_k=np.array([formation(s) for s in chosen]),
        log_k_reaction=np.array([own[s.name] for s in chosen]),
        protons=np.array([s.protons for s in chosen], dtype=np.float64),
        water=np.array([s.water for s in chosen], dtype=np.float64),
        metal_index=np.array([metals.index(s.metal) if s.metal else -1 for s in chosen]),
        ligand_index=np.array([ligands.index(s.ligand) if s.ligand else -1 for s in chosen]),
        is_master=np.array([s.master for s in chosen]),
        activity_kind=np.array([k[0] for k in kinds]),
        ion_size_angstrom=np.array([k[1] for k in kinds]),
        b_dot_kg_mol=np.array([k[2] for k in kinds]),
        metals=metals,
        ligands=ligands,
        debye_huckel_a=look.scalar("debye_huckel_a_37c", "kg**0.5/mol**0.5"),
        debye_huckel_b=look.scalar("debye_huckel_b_37c", "kg**0.5/mol**0.5/angstrom"),
        davies_linear=look.scalar("davies_linear_coefficient", "1"),
        neutral_salting_kg_mol=look.scalar("neutral_species_salting_coefficient", "kg/mol"),
        water_activity_kg_mol=look.scalar("water_activity_solute_coefficient", "kg/mol"),
        phases=tuple(p.name for p in PHASES),
        phase_formulas=tuple(p.formula for p in PHASES),
        phase_exponents=exponents,
        log_ksp=np.array([look.scalar(p.log_ksp, "1") for p in PHASES]),
        albumin_sites_mol_per_g=albumin_sites,
        parameters_used=tuple(dict.fromkeys(look.used)),
    )


@cache
def _cached(name: str) -> ConstantSet:
    return _build(name, {})


def constant_set(
    name: str = DEFAULT_SET, *, overrides: Mapping[str, float] | None = None
) -> ConstantSet:
    """The constant set `name` at 37 °C (cached), optionally with registry values overridden.

    Parameters
    ----------
    name : ``plasma`` (default: phreeqc.dat complexation, citrate, lactate, albumin and the
        uremic-anion ligand) or ``phreeqc`` (no protein terms; the set of the PHREEQC cross-check).
    overrides : registry parameter name → value in its registry unit; used by the calibration
        program to try values without touching the registry.

    Examples
    --------
    >>> cs = constant_set("phreeqc")
    >>> round(float(cs.log_k[cs.index("CaHPO4")]), 3)  # Ca + PO4 + H = CaHPO4 at 37 °C
    15.078
    """
    if not overrides:
        return _cached(name)
    return _build(name, overrides)
