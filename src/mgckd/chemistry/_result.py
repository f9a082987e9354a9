"""The result of a speciation: free ions, complexes, fractions, activities, saturation indices.

One frozen object per batch; `to_frame` gives the tidy table (one row per sample) with the column
names and units documented in docs/chemistry.md#output-columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mgckd.chemistry._composition import PlasmaComposition
from mgckd.chemistry._constants import ConstantSet
from mgckd.chemistry._solver import structure

FloatArray = NDArray[np.float64]

_MOL_PER_MMOL = 1e-3  # mol per mmol: the solver's activities are in mol/L (mol/kg water)


class Status(StrEnum):
    """Per-sample outcome of a speciation."""

    CONVERGED = "converged"
    MAX_ITERATIONS = "max_iterations"
    NON_FINITE = "non_finite"
    INVALID_INPUT = "invalid_input"


@dataclass(frozen=True, eq=False)
class Speciation:
    """Speciation of N plasma samples at 37 °C.

    Attributes
    ----------
    composition : the input.
    constants : the constant set used.
    free_mol_l : (components, N) free concentration of each metal and ligand master species,
        mol/L, in the order ``constants.metals + constants.ligands``.
    log_gamma_class : (activity classes + 1, N) log10 activity coefficients per activity class.
    log_water_activity : (N,) log10 water activity.
    ionic_strength_mol_l : (N,) ionic strength, mol/L (treated as mol/kg water).
    iterations : (N,) solver sweeps and Newton steps.
    status : (N,) `Status` values.
    reason : (N,) per sample, '' when converged, else why not (str).
    residual : (N,) largest relative mass-balance residual or change of I at exit.

    Failed samples carry NaN in every number and say why in `status` and `reason`.
    """

    composition: PlasmaComposition
    constants: ConstantSet
    free_mol_l: FloatArray
    log_gamma_class: FloatArray
    log_water_activity: FloatArray
    ionic_strength_mol_l: FloatArray
    iterations: NDArray[np.intp]
    status: NDArray[np.str_]
    reason: NDArray[np.object_]
    residual: FloatArray

    def __len__(self) -> int:
        return int(self.ionic_strength_mol_l.shape[0])

    @property
    def converged(self) -> NDArray[np.bool_]:
        """True where the sample converged."""
        result: NDArray[np.bool_] = self.status == Status.CONVERGED.value
        return result

    @cached_property
    def concentration_mmol_l(self) -> FloatArray:
        """(species, N) concentration of every species (``constants.species`` order), mmol/L."""
        st = structure(self.constants)
        cs = self.constants
        n = len(self)
        gamma = 10.0**self.log_gamma_class
        proton = st.proton_factors(-self.composition.ph)[st.species_power]
        k_prime = (
            10.0 ** cs.log_k[:, None]
            * proton
            * gamma[st.species_metal_class]
            * gamma[st.species_ligand_class]
            / gamma[st.species_own_class]
            * 10.0 ** (cs.water[:, None] * self.log_water_activity[None, :])
        )
        ones = np.ones((1, n))
        metals = np.concatenate([self.free_mol_l[: len(cs.metals)], ones])[st.metal_gather]
        ligands = np.concatenate([self.free_mol_l[len(cs.metals) :], ones])[st.ligand_gather]
        result: FloatArray = k_prime * metals * ligands / _MOL_PER_MMOL
        result.flags.writeable = False
        return result

    @cached_property
    def log_gamma(self) -> FloatArray:
        """(species, N) log10 activity coefficient of every species; for a conditional species
        (albumin site, uremic ligand), that of its metal, since its constant acts on
        concentrations."""
        result: FloatArray = self.log_gamma_class[structure(self.constants).report_class]
        result.flags.writeable = False
        return result

    @property
    def water_activity(self) -> FloatArray:
        """(N,) water activity."""
        return np.asarray(10.0**self.log_water_activity)

    def species(self, name: str) -> FloatArray:
        """Free concentration of species `name` (``CaHPO4``, ``Mg+2``), mmol/L."""
        result: FloatArray = self.concentration_mmol_l[self.constants.index(name)]
        return result

    def gamma(self, name: str) -> FloatArray:
        """Activity coefficient of species `name`."""
        return np.asarray(10.0 ** self.log_gamma[self.constants.index(name)])

    def log_activity(self, name: str) -> FloatArray:
        """log10 activity (mol/kg) of species `name`; −inf where the species is absent."""
        i = self.constants.index(name)
        with np.errstate(divide="ignore"):
            result: FloatArray = (
                np.log10(self.concentration_mmol_l[i] * _MOL_PER_MMOL) + self.log_gamma[i]
            )
        return result

    def _metal(self, metal: str, *, kind: str) -> FloatArray:
        """Sum over the species of `metal` of one kind: free, protein, uremic, complexed."""
        cs = self.constants
        m = cs.metals.index(metal)
        rows = []
        for s in range(len(cs.species)):
            if cs.metal_index[s] != m:
                continue
            ligand = cs.ligands[cs.ligand_index[s]] if cs.ligand_index[s] >= 0 else None
            category = (
                "free"
                if cs.is_master[s]
                else "protein"
                if ligand == "Alb"
                else "uremic"
                if ligand == "U"
                else "complexed"
            )
            if category == kind:
                rows.append(s)
        if not rows:
            return np.zeros(len(self))
        result: FloatArray = self.concentration_mmol_l[rows].sum(axis=0)
        return result

    # --- calcium and magnesium -------------------------------------------------------------
    @property
    def calcium_ionized_mmol_l(self) -> FloatArray:
        """Free (ionized) Ca²⁺, mmol/L. Normal plasma about 1.15–1.30 mmol/L."""
        return self.species("Ca+2")

    @property
    def magnesium_ionized_mmol_l(self) -> FloatArray:
        """Free (ionized) Mg²⁺, mmol/L. Reference 0.45–0.60 mmol/L (S0-23)."""
        return self.species("Mg+2")

    @cached_property
    def table(self) -> dict[str, FloatArray]:
        """Every derived output column (see `to_frame`), computed once."""
        comp = self.composition
        out: dict[str, FloatArray] = {
            "ionic_strength_mol_l": self.ionic_strength_mol_l,
            "water_activity": self.water_activity,
        }
        for metal, label, total in (
            ("Ca", "ca", comp.calcium_mmol_l),
            ("Mg", "mg", comp.magnesium_mmol_l),
        ):
            free = self._metal(metal, kind="free")
            protein = self._metal(metal, kind="protein")
            uremic = self._metal(metal, kind="uremic")
            complexed = self._metal(metal, kind="complexed")
            with np.errstate(divide="ignore", invalid="ignore"):
                out |= {
                    f"{label}_total_mmol_l": np.where(self.converged, total, np.nan),
                    f"{label}_ionized_mmol_l": free,
                    f"{label}_ionized_fraction": free / total,
                    f"{label}_protein_bound_mmol_l": protein,
                    f"{label}_protein_bound_fraction": protein / total,
                    f"{label}_uremic_anion_bound_mmol_l": uremic,
                    f"{label}_complexed_mmol_l": complexed,
                    f"{label}_complexed_fraction": complexed / total,
                    f"{label}_ultrafilterable_mmol_l": free + uremic + complexed,
                    f"{label}_ultrafilterable_fraction": (free + uremic + complexed) / total,
                }
        with np.errstate(divide="ignore", invalid="ignore"):
            out["mg_ca_ratio_total"] = out["mg_total_mmol_l"] / out["ca_total_mmol_l"]
            out["mg_ca_ratio_ionized"] = out["mg_ionized_mmol_l"] / out["ca_ionized_mmol_l"]
        for phase, si in self.saturation_indices.items():
            out[f"si_{phase}"] = si
        return out

    @cached_property
    def saturation_indices(self) -> dict[str, FloatArray]:
        """Phase → SI = log10(ion activity product / Ksp), per formula unit, at 37 °C.

        −inf where an ion of the phase is absent (e.g. no phosphate); NaN for failed samples.
        """
        cs = self.constants
        log_a = np.empty((len(cs.species) + 1, len(self)))
        with np.errstate(divide="ignore"):
            log_a[:-1] = np.log10(self.concentration_mmol_l * _MOL_PER_MMOL) + self.log_gamma
        log_a[-1] = -self.composition.ph
        result = {}
        for f, phase in enumerate(cs.phases):
            used = np.flatnonzero(cs.phase_exponents[f])
            with np.errstate(invalid="ignore"):
                iap = np.sum(cs.phase_exponents[f, used, None] * log_a[used], axis=0)
            result[phase] = np.where(self.converged, iap - cs.log_ksp[f], np.nan)
        return result

    def to_frame(self, *, species: bool = False) -> pd.DataFrame:
        """One row per sample: status, inputs used, ionized and bound Ca and Mg, fractions,
        ionic strength, Mg/Ca ratios and saturation indices; with `species`, also every species'
        concentration (``<species>_mmol_l``) and activity coefficient (``gamma_<species>``).

        Column names carry their units (``_mmol_l``, ``_mol_l``, ``_fraction`` 0–1, ``si_``
        log10 units); the list is in docs/chemistry.md#output-columns.
        """
        columns: dict[str, object] = {
            "status": self.status,
            "reason": self.reason,
            "iterations": self.iterations,
            "ph": self.composition.ph,
        }
        columns |= self.table
        if species:
            for s, name in enumerate(self.constants.species):
                columns[f"{name}_mmol_l"] = self.concentration_mmol_l[s]
            for s, name in enumerate(self.constants.species):
                columns[f"gamma_{name}"] = 10.0 ** self.log_gamma[s]
        return pd.DataFrame(columns)

    def summary(self) -> pd.DataFrame:
        """Median and 2.5/97.5 % quantiles of the main outputs over converged samples."""
        frame = self.to_frame().loc[self.converged]
        numeric = frame.drop(columns=["status", "reason"])
        return numeric.quantile([0.025, 0.5, 0.975]).T.rename(
            columns={0.025: "p2.5", 0.5: "median", 0.975: "p97.5"}
        )
