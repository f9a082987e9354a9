"""Coronary artery calcification: CAC progression driven by the plasma, through CPP2 and VSMC.

The model runs downstream of a plasma time course (`PlasmaCourse`: from a simulation, a table
or arrays). Two pathways drive the Agatston score: the **passive** one, CPP2 formation from
`mgckd.cpp.in_vivo_cpp` (Mg inhibits it chemically), and the **active** one, osteogenic
conversion of vascular smooth muscle cells driven by phosphate and slowed by Mg entering the
cells through TRPM7. Progression is faster where calcification exists (dA/dt ∝ A^g). Each
pathway can be switched off or have Mg's effect removed (`Pathways`), and
`decompose_mg_effect` splits Mg's benefit into passive, active and gut-binding parts that add
up exactly (Shapley values). Calibrated on S0-10; see docs/calcification.md.

>>> from mgckd.calcification import sakaguchi_2019_arms, simulate_cac
>>> arms = sakaguchi_2019_arms()                   # S0-10's arms as typical patients
>>> [round(float(simulate_cac(c).percent_change[0]), 1) for c in (arms.control, arms.treated)]
[39.5, 11.3]
"""

from mgckd.calcification._course import (
    COLUMNS,
    OBSERVABLES,
    PlasmaCourse,
    course_from_frame,
    course_from_simulation,
    plasma_course,
)
from mgckd.calcification._decompose import (
    PARTS,
    SWITCHES,
    MgEffectDecomposition,
    decompose_mg_effect,
    plot_decomposition,
)
from mgckd.calcification._laws import PlasmaChemistry, plasma_chemistry, vsmc_activity
from mgckd.calcification._params import CalcificationParameters
from mgckd.calcification._result import CACResult, Pathways, plot_cac
from mgckd.calcification._simulate import simulate_cac
from mgckd.calcification._trials import TrialArms, sakaguchi_2019_arms, tzanakis_2014_arms

__all__ = [
    "COLUMNS",
    "OBSERVABLES",
    "PARTS",
    "SWITCHES",
    "CACResult",
    "CalcificationParameters",
    "MgEffectDecomposition",
    "Pathways",
    "PlasmaChemistry",
    "PlasmaCourse",
    "TrialArms",
    "course_from_frame",
    "course_from_simulation",
    "decompose_mg_effect",
    "plasma_chemistry",
    "plasma_course",
    "plot_cac",
    "plot_decomposition",
    "sakaguchi_2019_arms",
    "simulate_cac",
    "tzanakis_2014_arms",
    "vsmc_activity",
]
