"""The species and mineral phases of plasma speciation, declared once.

Every aqueous species is formed from at most one *metal* component (Ca, Mg, Na, K), at most one
*ligand* component (carbonate, phosphate, sulfate, citrate, lactate, albumin sites, the uremic-anion
ligand, chloride), ``protons`` H⁺ and ``water`` H₂O:

    metal + ligand + protons H⁺ + water H₂O ⇌ species,   K = formation constant

(negative ``protons`` / ``water`` put them on the other side, e.g. CaOH⁺ = Ca²⁺ + H₂O − H⁺). No
species holds two metals or two ligands, which is what lets the solver eliminate the ligands and
solve a 4 × 4 system per sample (see ``_solver.py``).

Constants are looked up in the parameter registry by convention: ``<layer>_log_k_<slug>``,
``<layer>_delta_h_<slug>``, ``<layer>_analytic_<slug>``, ``<layer>_ion_size_<slug>`` and
``<layer>_b_dot_<slug>``, where `slug` is the lower-case name without its charge (``CaHPO4`` →
``cahpo4``). A reaction written in the source on a non-master species (``Ca+2 + HPO4-2 =
CaHPO4``) names that species in ``via``; its formation constant is added, as PHREEQC does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

_CHARGE_SUFFIX = re.compile(r"[+-]\d*$")


class Layer(StrEnum):
    """Which constant set a species belongs to (the registry ``set`` tag of its constants)."""

    PHREEQC = "phreeqc"
    ORGANIC = "organic"
    PLASMA = "plasma"


METALS = ("Ca", "Mg", "Na", "K")
"""Metal components, in the order the solver uses."""

LIGANDS = ("CO3", "PO4", "SO4", "Cit", "Lac", "Alb", "U", "Cl")
"""Ligand components, in the order the solver uses."""

COMPONENTS = METALS + LIGANDS


def slug(name: str) -> str:
    """Registry slug of a species name: lower case, charge dropped (``HPO4-2`` → ``hpo4``)."""
    return _CHARGE_SUFFIX.sub("", name).lower()


@dataclass(frozen=True, slots=True)
class Species:
    """One aqueous species.

    Attributes
    ----------
    name : PHREEQC-style name with charge (``CaHPO4``, ``HPO4-2``).
    charge : ionic charge z.
    layer : the constant set its constants belong to.
    metal, ligand : the components it is made of (None: not present).
    protons, water : H⁺ and H₂O in the formation reaction.
    via : species whose formation constants add to this reaction's (the source writes it on them).
    log_k : registry name of log10 K at 25 °C, if not the conventional one; None for masters.
    conditional : a macromolecular or lumped binding site: constants act on concentrations (not
        activities), and the species does not count in ionic strength or water activity.
    reaction : the reaction as written in the source.
    """

    name: str
    charge: int
    layer: Layer
    metal: str | None = None
    ligand: str | None = None
    protons: int = 0
    water: int = 0
    via: tuple[str, ...] = ()
    log_k: str | None = None
    conditional: bool = False
    reaction: str = ""
    master: bool = field(default=False)

    @property
    def slug(self) -> str:
        """The registry slug (``cahpo4``)."""
        return slug(self.name)


DAT, ORG, PLA = Layer.PHREEQC, Layer.ORGANIC, Layer.PLASMA


def _m(
    name: str,
    charge: int,
    layer: Layer,
    *,
    metal: str | None = None,
    ligand: str | None = None,
    conditional: bool = False,
) -> Species:
    """A master species (formation constant 1)."""
    return Species(
        name, charge, layer, metal=metal, ligand=ligand, conditional=conditional, master=True
    )


SPECIES: tuple[Species, ...] = (
    # masters of phreeqc.dat
    _m("Ca+2", 2, DAT, metal="Ca"),
    _m("Mg+2", 2, DAT, metal="Mg"),
    _m("Na+", 1, DAT, metal="Na"),
    _m("K+", 1, DAT, metal="K"),
    _m("Cl-", -1, DAT, ligand="Cl"),
    _m("CO3-2", -2, DAT, ligand="CO3"),
    _m("PO4-3", -3, DAT, ligand="PO4"),
    _m("SO4-2", -2, DAT, ligand="SO4"),
    # water and acid-base
    Species("OH-", -1, DAT, protons=-1, water=1, reaction="H2O = OH- + H+"),
    Species("HCO3-", -1, DAT, ligand="CO3", protons=1, reaction="CO3-2 + H+ = HCO3-"),
    Species("CO2", 0, DAT, ligand="CO3", protons=2, water=-1, reaction="CO3-2 + 2 H+ = CO2 + H2O"),
    Species("HPO4-2", -2, DAT, ligand="PO4", protons=1, reaction="PO4-3 + H+ = HPO4-2"),
    Species("H2PO4-", -1, DAT, ligand="PO4", protons=2, reaction="PO4-3 + 2 H+ = H2PO4-"),
    Species("H3PO4", 0, DAT, ligand="PO4", protons=3, reaction="PO4-3 + 3H+ = H3PO4"),
    Species("HSO4-", -1, DAT, ligand="SO4", protons=1, reaction="SO4-2 + H+ = HSO4-"),
    # calcium
    Species("CaOH+", 1, DAT, "Ca", protons=-1, water=1, reaction="Ca+2 + H2O = CaOH+ + H+"),
    Species("CaCO3", 0, DAT, "Ca", "CO3", reaction="Ca+2 + CO3-2 = CaCO3"),
    Species("CaHCO3+", 1, DAT, "Ca", "CO3", 1, reaction="Ca+2 + CO3-2 + H+ = CaHCO3+"),
    Species("CaSO4", 0, DAT, "Ca", "SO4", reaction="Ca+2 + SO4-2 = CaSO4"),
    Species("CaHSO4+", 1, DAT, "Ca", "SO4", 1, via=("HSO4-",), reaction="Ca+2 + HSO4- = CaHSO4+"),
    Species("CaPO4-", -1, DAT, "Ca", "PO4", reaction="Ca+2 + PO4-3 = CaPO4-"),
    Species("CaHPO4", 0, DAT, "Ca", "PO4", 1, via=("HPO4-2",), reaction="Ca+2 + HPO4-2 = CaHPO4"),
    Species(
        "CaH2PO4+", 1, DAT, "Ca", "PO4", 2, via=("H2PO4-",), reaction="Ca+2 + H2PO4- = CaH2PO4+"
    ),
    # magnesium
    Species("MgOH+", 1, DAT, "Mg", protons=-1, water=1, reaction="Mg+2 + H2O = MgOH+ + H+"),
    Species("MgCO3", 0, DAT, "Mg", "CO3", reaction="Mg+2 + CO3-2 = MgCO3"),
    Species("MgHCO3+", 1, DAT, "Mg", "CO3", 1, reaction="Mg+2 + H+ + CO3-2 = MgHCO3+"),
    Species("MgSO4", 0, DAT, "Mg", "SO4", reaction="Mg+2 + SO4-2 = MgSO4"),
    Species("MgPO4-", -1, DAT, "Mg", "PO4", reaction="Mg+2 + PO4-3 = MgPO4-"),
    Species("MgHPO4", 0, DAT, "Mg", "PO4", 1, via=("HPO4-2",), reaction="Mg+2 + HPO4-2 = MgHPO4"),
    Species(
        "MgH2PO4+", 1, DAT, "Mg", "PO4", 2, via=("H2PO4-",), reaction="Mg+2 + H2PO4- = MgH2PO4+"
    ),
    # sodium and potassium
    Species("NaOH", 0, DAT, "Na", protons=-1, water=1, via=("OH-",), reaction="Na+ + OH- = NaOH"),
    Species("NaCO3-", -1, DAT, "Na", "CO3", reaction="Na+ + CO3-2 = NaCO3-"),
    Species("NaHCO3", 0, DAT, "Na", "CO3", 1, via=("HCO3-",), reaction="Na+ + HCO3- = NaHCO3"),
    Species("NaSO4-", -1, DAT, "Na", "SO4", reaction="Na+ + SO4-2 = NaSO4-"),
    Species("NaHPO4-", -1, DAT, "Na", "PO4", 1, via=("HPO4-2",), reaction="Na+ + HPO4-2 = NaHPO4-"),
    Species("KSO4-", -1, DAT, "K", "SO4", reaction="K+ + SO4-2 = KSO4-"),
    Species("KHPO4-", -1, DAT, "K", "PO4", 1, via=("HPO4-2",), reaction="K+ + HPO4-2 = KHPO4-"),
    # citrate and lactate (organic)
    _m("Cit-3", -3, ORG, ligand="Cit"),
    Species("HCit-2", -2, ORG, ligand="Cit", protons=1, reaction="H+ + Cit-3 = HCit-2"),
    Species("H2Cit-", -1, ORG, ligand="Cit", protons=2, reaction="2 H+ + Cit-3 = H2Cit-"),
    Species("H3Cit", 0, ORG, ligand="Cit", protons=3, reaction="3 H+ + Cit-3 = H3Cit"),
    Species("CaCit-", -1, ORG, "Ca", "Cit", reaction="Ca+2 + Cit-3 = CaCit-"),
    Species("CaHCit", 0, ORG, "Ca", "Cit", 1, reaction="Ca+2 + Cit-3 + H+ = CaHCit"),
    Species("CaH2Cit+", 1, ORG, "Ca", "Cit", 2, reaction="Ca+2 + Cit-3 + 2 H+ = CaH2Cit+"),
    Species("MgCit-", -1, ORG, "Mg", "Cit", reaction="Mg+2 + Cit-3 = MgCit-"),
    Species("MgHCit", 0, ORG, "Mg", "Cit", 1, reaction="Mg+2 + Cit-3 + H+ = MgHCit"),
    Species("MgH2Cit+", 1, ORG, "Mg", "Cit", 2, reaction="Mg+2 + Cit-3 + 2 H+ = MgH2Cit+"),
    Species("NaCit-2", -2, ORG, "Na", "Cit", reaction="Na+ + Cit-3 = NaCit-2"),
    Species("NaHCit-", -1, ORG, "Na", "Cit", 1, reaction="Na+ + Cit-3 + H+ = NaHCit-"),
    Species("KCit-2", -2, ORG, "K", "Cit", reaction="K+ + Cit-3 = KCit-2"),
    _m("Lac-", -1, ORG, ligand="Lac"),
    Species("HLac", 0, ORG, ligand="Lac", protons=1, reaction="H+ + Lac- = HLac"),
    Species("CaLac+", 1, ORG, "Ca", "Lac", reaction="Ca+2 + Lac- = CaLac+"),
    Species("MgLac+", 1, ORG, "Mg", "Lac", reaction="Mg+2 + Lac- = MgLac+"),
    # plasma binding terms: albumin sites and the lumped uremic-anion ligand (conditional)
    _m("Alb", 0, PLA, ligand="Alb", conditional=True),
    Species("HAlb", 0, PLA, ligand="Alb", protons=1, conditional=True, reaction="H+ + Alb = HAlb"),
    Species("CaAlb", 0, PLA, "Ca", "Alb", conditional=True, reaction="Ca+2 + Alb = CaAlb"),
    Species("MgAlb", 0, PLA, "Mg", "Alb", conditional=True, reaction="Mg+2 + Alb = MgAlb"),
    _m("U", 0, PLA, ligand="U", conditional=True),
    Species(
        "CaU",
        0,
        PLA,
        "Ca",
        "U",
        log_k="plasma_log_k_uremic_anion",
        conditional=True,
        reaction="Ca+2 + U = CaU",
    ),
    Species(
        "MgU",
        0,
        PLA,
        "Mg",
        "U",
        log_k="plasma_log_k_uremic_anion",
        conditional=True,
        reaction="Mg+2 + U = MgU",
    ),
)
"""Every species mgckd knows; a constant set uses those of its layers."""

CONSTANT_SETS: dict[str, tuple[Layer, ...]] = {
    "phreeqc": (Layer.PHREEQC, Layer.ORGANIC),
    "plasma": (Layer.PHREEQC, Layer.ORGANIC, Layer.PLASMA),
}
"""Selectable constant sets and the layers they combine.

``phreeqc``: phreeqc.dat complexation plus citrate and lactate (which the PHREEQC cross-check
passes to PHREEQC too); no protein. ``plasma`` (the default): the same, plus albumin binding sites
and the uremic-anion ligand, calibrated to plasma (``mgckd calibrate``).
"""


@dataclass(frozen=True, slots=True)
class Phase:
    """A calcium-phosphate mineral: its ion product (species → exponent) and its Ksp parameter."""

    name: str
    formula: str
    ion_product: tuple[tuple[str, int], ...]
    log_ksp: str


PHASES: tuple[Phase, ...] = (
    Phase(
        "hydroxyapatite",
        "Ca5(PO4)3OH",
        (("Ca+2", 5), ("PO4-3", 3), ("OH-", 1)),
        "log_ksp_37c_hydroxyapatite",
    ),
    Phase(
        "octacalcium_phosphate",
        "Ca8H2(PO4)6·5H2O",
        (("Ca+2", 8), ("H+", 2), ("PO4-3", 6)),
        "log_ksp_37c_octacalcium_phosphate",
    ),
    Phase("brushite", "CaHPO4·2H2O", (("Ca+2", 1), ("HPO4-2", 1)), "log_ksp_37c_brushite"),
    Phase("monetite", "CaHPO4", (("Ca+2", 1), ("HPO4-2", 1)), "log_ksp_37c_monetite"),
    Phase(
        "beta_tricalcium_phosphate",
        "β-Ca3(PO4)2",
        (("Ca+2", 3), ("PO4-3", 2)),
        "log_ksp_37c_beta_tricalcium_phosphate",
    ),
    Phase(
        "amorphous_calcium_phosphate",
        "Ca3(PO4)2 (amorphous)",
        (("Ca+2", 3), ("PO4-3", 2)),
        "log_ksp_37c_amorphous_calcium_phosphate",
    ),
)
"""Saturation indices are reported for these phases, per formula unit as written."""
