"""Plasma chemistry: speciation of Ca, Mg and phosphate at 37 °C, and calcium-phosphate saturation.

Mass action and mass balance for Ca, Mg, Na, K, carbonate, phosphate, sulfate, citrate, lactate,
albumin binding sites and a lumped uremic-anion ligand, vectorized over samples; activity
coefficients by Truesdell–Jones or Davies (PHREEQC's rule); constants from the parameter registry
in selectable sets (``plasma``, ``phreeqc``). See docs/chemistry.md.

>>> from mgckd.chemistry import plasma_composition, speciate
>>> c = plasma_composition(calcium_mmol_l=2.4, magnesium_mmol_l=0.9, phosphate_mmol_l=1.1,
...                        albumin_g_l=40, ph=7.4, sodium_mmol_l=140, chloride_mmol_l=104,
...                        bicarbonate_mmol_l=24)
>>> result = speciate(c)
>>> result.to_frame()["status"].item()
'converged'
"""

from mgckd.chemistry._activity import log_gamma_davies, log_gamma_truesdell_jones
from mgckd.chemistry._composition import (
    REFERENCES,
    PlasmaComposition,
    ph_from_bicarbonate,
    plasma_composition,
    reference_plasma,
    total_co2,
    uremic_anion_from_anion_gap,
)
from mgckd.chemistry._constants import DEFAULT_SET, ConstantSet, constant_set
from mgckd.chemistry._result import Speciation, Status
from mgckd.chemistry._samples import random_plasma
from mgckd.chemistry._speciate import speciate
from mgckd.chemistry._species import CONSTANT_SETS, PHASES, SPECIES, Phase, Species
from mgckd.chemistry._uncertainty import IONIZED, speciation_sd

__all__ = [
    "CONSTANT_SETS",
    "DEFAULT_SET",
    "IONIZED",
    "PHASES",
    "REFERENCES",
    "SPECIES",
    "ConstantSet",
    "Phase",
    "PlasmaComposition",
    "Speciation",
    "Species",
    "Status",
    "constant_set",
    "log_gamma_davies",
    "log_gamma_truesdell_jones",
    "ph_from_bicarbonate",
    "plasma_composition",
    "random_plasma",
    "reference_plasma",
    "speciate",
    "speciation_sd",
    "total_co2",
    "uremic_anion_from_anion_gap",
]
