"""Activity coefficients at plasma ionic strength (log10 γ), vectorized over samples.

mgckd follows PHREEQC's rule so that the two codes can be compared on equal terms: species with
ion-size parameters in their constant set (the major ions of phreeqc.dat) use the extended
Debye–Hückel equation in its Truesdell–Jones (WATEQ) form; other charged species use Davies;
uncharged species use log γ = b·I with b = 0.1 kg/mol. Why this choice: docs/chemistry.md.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]


def log_gamma_davies(
    charge: ArrayLike, ionic_strength_mol_kg: ArrayLike, *, a: float, linear: float
) -> FloatArray:
    """Davies equation: log10 γ = −A z² (√I / (1 + √I) − 0.3 I).

    Parameters
    ----------
    charge : ionic charge z.
    ionic_strength_mol_kg : I, mol/kg.
    a : Debye–Hückel A, kg^½ mol^−½ (0.5211 at 37 °C).
    linear : the Davies linear coefficient (0.3).

    References
    ----------
    Davies CW. Ion Association. Butterworths, 1962; PHREEQC 3 manual,
    https://pubs.usgs.gov/tm/06/a43/

    Examples
    --------
    >>> round(float(log_gamma_davies(2, 0.15, a=0.5211, linear=0.3)), 4)
    -0.4881
    """
    z = np.asarray(charge, dtype=np.float64)
    ionic = np.asarray(ionic_strength_mol_kg, dtype=np.float64)
    root = np.sqrt(ionic)
    result: FloatArray = -a * z**2 * (root / (1.0 + root) - linear * ionic)
    return result


def log_gamma_truesdell_jones(
    charge: ArrayLike,
    ionic_strength_mol_kg: ArrayLike,
    *,
    a: float,
    b: float,
    ion_size_angstrom: ArrayLike,
    b_dot_kg_mol: ArrayLike,
) -> FloatArray:
    """Extended Debye–Hückel (Truesdell–Jones): log10 γ = −A z² √I / (1 + B å √I) + ḃ I.

    Parameters
    ----------
    charge : ionic charge z.
    ionic_strength_mol_kg : I, mol/kg.
    a, b : Debye–Hückel A (kg^½ mol^−½) and B (kg^½ mol^−½ Å^−1) at the temperature.
    ion_size_angstrom : å, Å.
    b_dot_kg_mol : ḃ, kg/mol.

    References
    ----------
    Truesdell AH, Jones BF. J Res US Geol Surv 1974;2:233–48; PHREEQC 3 manual,
    https://pubs.usgs.gov/tm/06/a43/

    Examples
    --------
    >>> round(float(log_gamma_truesdell_jones(
    ...     2, 0.15, a=0.5211, b=0.3304, ion_size_angstrom=5.0, b_dot_kg_mol=0.165)), 4)
    -0.4676
    """
    z = np.asarray(charge, dtype=np.float64)
    ionic = np.asarray(ionic_strength_mol_kg, dtype=np.float64)
    root = np.sqrt(ionic)
    size = np.asarray(ion_size_angstrom, dtype=np.float64)
    result: FloatArray = (
        -a * z**2 * root / (1.0 + b * size * root)
        + np.asarray(b_dot_kg_mol, dtype=np.float64) * ionic
    )
    return result
