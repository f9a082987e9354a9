"""Plasma chemistry of simulated dialysis labs: ionized Mg and Ca, and T50.

A simulated pre- or post-dialysis sample is the patient's pre-dialysis plasma (their labs, or the
reference hemodialysis plasma) with the totals the model simulates (Mg, and Ca and phosphate when
the model has them) put in; `mgckd.chemistry` speciates it and `mgckd.cpp` runs the T50 test on
it with the reference hemodialysis fetuin-A and pyrophosphate. Everything else in the sample
(albumin, pH, anions) keeps its pre-dialysis value: acid-base and uremic solutes are not
modelled (docs/dialysis.md#what-is-assumed).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

from mgckd.chemistry import (
    PlasmaComposition,
    reference_plasma,
    speciate,
    total_co2,
    uremic_anion_from_anion_gap,
)
from mgckd.cpp import Serum, reference_serum, serum, simulate_t50

FloatArray = NDArray[np.float64]

COMPOSITION_FIELDS = {"Mg": "magnesium_mmol_l", "Ca": "calcium_mmol_l", "P": "phosphate_mmol_l"}
"""The plasma composition field of each element's total concentration."""


def with_totals(base: PlasmaComposition, totals: Mapping[str, FloatArray]) -> PlasmaComposition:
    """`base` (one sample per value) with the elements' totals (mmol/L) replaced."""
    fields = base.to_dict()
    for element, values in totals.items():
        fields[COMPOSITION_FIELDS[element]] = np.asarray(values, dtype=np.float64)
    return PlasmaComposition.from_dict(fields, assumed=base.assumed)


def ionized(composition: PlasmaComposition) -> dict[str, FloatArray]:
    """Ionized Mg and Ca (mmol/L) and the ionized fraction of Mg, per sample (NaN where the
    speciation failed)."""
    frame = speciate(composition, throw=False).to_frame()
    return {
        column: frame[column].to_numpy(dtype=np.float64)
        for column in ("mg_ionized_mmol_l", "ca_ionized_mmol_l", "mg_ionized_fraction")
    }


def hemodialysis_serum(composition: PlasmaComposition) -> Serum:
    """A serum for the T50 test: `composition` with the reference hemodialysis fetuin-A and
    pyrophosphate (rarely measured)."""
    inhibitors = reference_serum("hemodialysis")
    return serum(
        composition,
        fetuin_a_g_l=np.repeat(inhibitors.fetuin_a_g_l, composition.n),
        pyrophosphate_umol_l=np.repeat(inhibitors.pyrophosphate_umol_l, composition.n),
    )


def t50_min(composition: PlasmaComposition) -> FloatArray:
    """In-silico T50 (minutes) of each sample (NaN where the test could not be simulated)."""
    result: FloatArray = simulate_t50(hemodialysis_serum(composition), throw=False).t50_min
    return result


_LAB_FIELDS = {
    "calcium": "calcium_mmol_l",
    "magnesium": "magnesium_mmol_l",
    "phosphate": "phosphate_mmol_l",
    "albumin": "albumin_g_l",
    "sodium": "sodium_mmol_l",
    "potassium": "potassium_mmol_l",
    "chloride": "chloride_mmol_l",
    "ph": "ph",
}
"""Analytes (mgckd.labs names, internal units) that replace a reference plasma field as is."""


def hemodialysis_plasma(measured: Mapping[str, float]) -> PlasmaComposition:
    """One pre-dialysis plasma: the measured analytes (mgckd.labs names, internal units:
    ``magnesium``, ``calcium``, ``phosphate``, ``albumin``, ``sodium``, ``potassium``,
    ``chloride``, ``ph``, ``bicarbonate``), the rest from the reference hemodialysis plasma and
    listed in ``assumed``. Bicarbonate sets total CO₂ at the sample's pH; with sodium and chloride
    it also sets the uremic-anion ligand from the anion gap.

    >>> c = hemodialysis_plasma({"magnesium": 1.2})
    >>> float(c.magnesium_mmol_l[0]), "calcium_mmol_l" in c.assumed
    (1.2, True)
    """
    fields = reference_plasma("hemodialysis").to_dict()
    for name, field_name in _LAB_FIELDS.items():
        if name in measured:
            fields[field_name] = np.array([measured[name]], dtype=np.float64)
    if "bicarbonate" in measured:
        hco3 = measured["bicarbonate"]
        fields["total_co2_mmol_l"] = np.atleast_1d(total_co2(hco3, fields["ph"]))
        if "sodium" in measured and "chloride" in measured:
            fields["uremic_anion_mmol_l"] = np.atleast_1d(
                uremic_anion_from_anion_gap(
                    measured["sodium"], measured["chloride"], hco3, fields["albumin_g_l"]
                )
            )
    given = {_LAB_FIELDS[n] for n in measured if n in _LAB_FIELDS}
    if "bicarbonate" in measured:
        given.add("total_co2_mmol_l")
        if "sodium" in measured and "chloride" in measured:
            given.add("uremic_anion_mmol_l")
    assumed = tuple(name for name in fields if name not in given)
    return PlasmaComposition.from_dict(fields, assumed=assumed)
