"""PHREEQC as a peer: the same compositions speciated by PHREEQC (through phreeqpython).

Optional (``pip install mgckd[peers]``). PHREEQC runs its own ``phreeqc.dat`` (the one shipped
with phreeqpython), to which this module adds, from mgckd's registry, the species phreeqc.dat
lacks (citrate, lactate) and the calcium-phosphate phases with mgckd's 37 °C solubility products,
so the two codes compute on equal terms. Concentrations are passed as mmol/kg water, which is how
mgckd treats its mmol/L (see docs/chemistry.md#temperature-and-units).
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np
import pandas as pd

from mgckd.chemistry._composition import PlasmaComposition
from mgckd.chemistry._constants import ConstantSet, constant_set
from mgckd.chemistry._species import PHASES, SPECIES, Layer
from mgckd.exceptions import UserInputError
from mgckd.params import parameters

_ELEMENTS = (
    ("Ca", "calcium_mmol_l"),
    ("Mg", "magnesium_mmol_l"),
    ("Na", "sodium_mmol_l"),
    ("K", "potassium_mmol_l"),
    ("Cl", "chloride_mmol_l"),
    ("C(4)", "total_co2_mmol_l"),
    ("P", "phosphate_mmol_l"),
    ("S(6)", "sulfate_mmol_l"),
    ("Cit", "citrate_mmol_l"),
    ("Lac", "lactate_mmol_l"),
)
_ORGANIC_MASTERS = {"Cit-3": ("Cit", 189.1), "Lac-": ("Lac", 89.07)}  # element, g/mol


def phreeqpython() -> Any:
    """The phreeqpython module; ImportError says how to install it."""
    try:
        return importlib.import_module("phreeqpython")
    except ImportError as error:
        raise ImportError(
            "PHREEQC comparisons need phreeqpython: pip install 'mgckd[peers]'"
        ) from error


def _phase_equation(ion_product: tuple[tuple[str, int], ...]) -> str:
    return " + ".join(f"{power} {ion}" for ion, power in ion_product)


def definitions() -> str:
    """PHREEQC input defining mgckd's additions: organic ligands and the 37 °C phases."""
    p = parameters()
    lines = ["SOLUTION_MASTER_SPECIES"]
    lines += [
        f"{element} {master} 0 {mass} {mass}"
        for master, (element, mass) in _ORGANIC_MASTERS.items()
    ]
    lines.append("SOLUTION_SPECIES")
    for s in SPECIES:
        if s.layer is not Layer.ORGANIC:
            continue
        if s.master:
            lines += [f"{s.name} = {s.name}", "    log_k 0"]
            continue
        lines += [s.reaction, f"    log_k {p[f'organic_log_k_{s.slug}'].to('1')!r}"]
        enthalpy = f"organic_delta_h_{s.slug}"
        if enthalpy in p:
            lines.append(f"    delta_h {p[enthalpy].to('kJ/mol')!r} kJ")
    lines.append("PHASES")
    for phase in PHASES:
        name = f"mgckd_{phase.name}"
        lines += [
            name,
            f"    {_solid(phase.name)} = {_phase_equation(phase.ion_product)}",
            f"    log_k {p[phase.log_ksp].to('1')!r}",
        ]
    return "\n".join(lines) + "\n"


def _solid(phase: str) -> str:
    """A formula PHREEQC accepts for the phase (the element balance only needs to hold)."""
    formulas = {
        "hydroxyapatite": "Ca5(PO4)3OH",
        "octacalcium_phosphate": "Ca8H2(PO4)6",
        "brushite": "CaHPO4",
        "monetite": "CaHPO4",
        "beta_tricalcium_phosphate": "Ca3(PO4)2",
        "amorphous_calcium_phosphate": "Ca3(PO4)2",
    }
    return formulas[phase]


def solutions(composition: PlasmaComposition, *, punch: bool = True) -> str:
    """PHREEQC input with one SOLUTION per sample (37 °C, mmol/kgw, fixed pH)."""
    blocks = []
    if punch:
        phases = " ".join(f"si_{p.name}" for p in PHASES)
        lines = [
            "SELECTED_OUTPUT",
            "    -reset false",
            "USER_PUNCH",
            f"    -headings ca_ionized_mmol_l mg_ionized_mmol_l ionic_strength_mol_l {phases}",
            '    10 PUNCH MOL("Ca+2") * 1000, MOL("Mg+2") * 1000, MU',
        ]
        lines += [f'    {20 + i} PUNCH SI("mgckd_{p.name}")' for i, p in enumerate(PHASES)]
        blocks.append("\n".join(lines))
    data = {field: getattr(composition, field) for _, field in _ELEMENTS}
    for i in range(len(composition)):
        lines = [
            f"SOLUTION {i + 1}",
            "    temp 37",
            "    units mmol/kgw",
            f"    pH {float(composition.ph[i])!r}",
        ]
        lines += [f"    {element} {float(data[field][i])!r}" for element, field in _ELEMENTS]
        blocks.append("\n".join(lines))
    return "\n".join(blocks) + "\nEND\n"


class Phreeqc:
    """A PHREEQC instance with mgckd's additions loaded, for repeated runs."""

    def __init__(self) -> None:
        self._pp = phreeqpython().PhreeqPython()
        self._pp.ip.run_string(definitions())

    def run(self, text: str) -> list[list[Any]]:
        """Run PHREEQC input `text`; the selected-output rows (first row the headings)."""
        self._pp.ip.run_string(text)
        rows: list[list[Any]] = self._pp.ip.get_selected_output_array()
        return rows

    def log_k(self, species: list[str]) -> dict[str, float]:
        """PHREEQC's log10 K at 37 °C of each species (from its master species)."""
        headings = " ".join(f"k{i}" for i in range(len(species)))
        punch = "\n".join(f'    {10 + i} PUNCH LK_SPECIES("{s}")' for i, s in enumerate(species))
        text = (
            "SELECTED_OUTPUT\n    -reset false\nUSER_PUNCH\n"
            f"    -headings {headings}\n{punch}\n"
            "SOLUTION 1\n    temp 37\n    pH 7.4\n    units mmol/kgw\n    Ca 1\n    Mg 1\n"
            "    Na 1\n    K 1\n    Cl 1\n    C(4) 1\n    P 1\n    S(6) 1\n    Cit 1\n"
            "    Lac 1\nEND\n"
        )
        rows = self.run(text)
        return {s: float(v) for s, v in zip(species, rows[1], strict=True)}


def phreeqc_speciate(
    composition: PlasmaComposition, *, constants: str | ConstantSet = "phreeqc"
) -> pd.DataFrame:
    """Speciate `composition` with PHREEQC; one row per sample.

    Columns: ``ca_ionized_mmol_l``, ``mg_ionized_mmol_l`` (mmol/kg water), ``ionic_strength_mol_l``
    and ``si_<phase>`` for the phases of `mgckd.chemistry.PHASES`. Albumin and the uremic-anion
    ligand are not modelled (PHREEQC has no protein), so only the ``phreeqc`` constant set is a
    like-for-like comparison.

    Raises
    ------
    ImportError
        When phreeqpython is not installed.
    UserInputError
        For a constant set with protein terms.
    """
    cs = constant_set(constants) if isinstance(constants, str) else constants
    if "Alb" in cs.ligands or "U" in cs.ligands:
        raise UserInputError(
            f"constant set {cs.name!r} has albumin / uremic-anion terms PHREEQC cannot run; "
            "compare with constants='phreeqc'"
        )
    rows = Phreeqc().run(solutions(composition))
    frame = pd.DataFrame(rows[1:], columns=rows[0]).astype(np.float64)
    return frame.reset_index(drop=True)
