"""The CLI's bridge from lab records to plasma chemistry (labs does not import chemistry)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.stats import norm

from mgckd.calibrate import parameter_covariance, problems
from mgckd.chemistry import (
    DEFAULT_SET,
    PlasmaComposition,
    plasma_composition,
    speciate,
    speciation_sd,
)
from mgckd.labs import Finding, PatientLabs, ionized_category, lab_column
from mgckd.params import parameters

_Z95 = float(norm.ppf(0.975))
"""Half-width of a two-sided 95 % interval in standard deviations."""

REQUIRED = ("calcium", "magnesium", "phosphate", "albumin")
"""Analytes without which a sample is not speciated (besides pH, or bicarbonate with pCO₂)."""


def composition_of(patients: Sequence[PatientLabs], **overrides: Any) -> PlasmaComposition:
    """The plasma composition of the patients' labs (NaN where an analyte is missing).

    `overrides` replace arguments of `plasma_composition` (e.g. an assumed ``ph``).
    """

    def col(name: str) -> NDArray[np.float64]:
        return lab_column(patients, name)

    arguments: dict[str, Any] = {
        "calcium_mmol_l": col("calcium"),
        "magnesium_mmol_l": col("magnesium"),
        "phosphate_mmol_l": col("phosphate"),
        "albumin_g_l": col("albumin"),
        "ph": col("ph"),
        "bicarbonate_mmol_l": col("bicarbonate"),
        "pco2_mmhg": col("pco2"),
        "sodium_mmol_l": col("sodium"),
        "potassium_mmol_l": col("potassium"),
        "chloride_mmol_l": col("chloride"),
        "sulfate_mmol_l": col("sulfate"),
        "citrate_mmol_l": col("citrate"),
        "lactate_mmol_l": col("lactate"),
    }
    arguments |= overrides
    return plasma_composition(**arguments)


def ionized_sd(composition: PlasmaComposition) -> dict[str, NDArray[np.float64]]:
    """SD (mmol/L) of ionized Mg and Ca from the calibration uncertainty of the ``plasma`` set.

    Columns ``mg_ionized_sd_mmol_l`` and ``ca_ionized_sd_mmol_l``: the fitted albumin and
    uremic-anion constants' covariance (`mgckd.calibrate.parameter_covariance`) propagated through
    the speciation (`mgckd.chemistry.speciation_sd`).
    """
    cov = parameter_covariance(problems()["chemistry"])
    sd = speciation_sd(
        composition,
        names=cov.names,
        values=cov.values.tolist(),
        covariance=cov.covariance,
        constants=DEFAULT_SET,
    )
    return {column.replace("_mmol_l", "_sd_mmol_l"): value for column, value in sd.items()}


def has_ph(patient: PatientLabs) -> bool:
    """pH measured, or computable from bicarbonate and pCO₂."""
    if patient.internal("ph") is not None:
        return True
    return patient.internal("bicarbonate") is not None and patient.internal("pco2") is not None


def missing_analytes(patient: PatientLabs) -> list[str]:
    """Required analytes the patient lacks (pH counts as present given bicarbonate and pCO₂)."""
    missing = [name for name in REQUIRED if patient.internal(name) is None]
    if not has_ph(patient):
        missing.append("ph (or bicarbonate and pco2)")
    return missing


def _assumptions(patient: PatientLabs, ph_assumed: bool) -> str:
    analytes = ("sodium", "potassium", "chloride", "bicarbonate", "sulfate", "citrate", "lactate")
    missing = [a for a in analytes if patient.internal(a) is None]
    notes = ["model estimate (mgckd speciate)"]
    if ph_assumed:
        notes.append("pH not measured: 7.40 assumed")
    if missing:
        notes.append("reference plasma for " + ", ".join(missing))
    return "; ".join(notes)


def chemistry_findings(patients: Sequence[PatientLabs]) -> list[tuple[Finding, ...]]:
    """Estimated ionized Mg and Ca and key saturation indices, per patient with a total Mg.

    Needs total Ca, Mg, phosphate and albumin; pH is taken as measured, else from bicarbonate and
    pCO₂, else the reference 7.40 (and the note says so).
    """
    reference_ph = parameters()["reference_normal_plasma_ph"].to("1")
    measured_ph = lab_column(patients, "ph")
    gas = np.array([has_ph(p) for p in patients])
    ph_assumed = np.isnan(measured_ph) & ~gas
    ph = np.where(ph_assumed, reference_ph, measured_ph)
    composition = composition_of(patients, ph=ph)
    result = speciate(composition, throw=False).to_frame()
    mg_sd = ionized_sd(composition)["mg_ionized_sd_mmol_l"]
    found: list[tuple[Finding, ...]] = []
    source = "docs/chemistry.md"
    for i, p in enumerate(patients):
        if p.internal("magnesium") is None:
            found.append(())
            continue
        lacking = [a for a in REQUIRED if p.internal(a) is None]
        if lacking or result["status"].iloc[i] != "converged":
            why = f"needs {', '.join(lacking)}" if lacking else str(result["reason"].iloc[i])
            label = "Ionized Mg, estimated (speciation)"
            found.append((Finding("mg_ionized_estimated", label, None, "mmol/L", "", source, why),))
            continue
        note = _assumptions(p, bool(ph_assumed[i]))
        row = result.iloc[i]
        img = float(row["mg_ionized_mmol_l"])
        half = _Z95 * float(mg_sd[i])
        band = f"95 % calibration range {img - half:.2f}-{img + half:.2f} mmol/L"
        found.append(
            (
                Finding(
                    "mg_ionized_estimated",
                    "Ionized Mg, estimated (speciation)",
                    round(img, 3),
                    "mmol/L",
                    f"{ionized_category(img)} 0.45-0.60 mmol/L",
                    source,
                    f"{note}; {band}",
                ),
                Finding(
                    "ca_ionized_estimated",
                    "Ionized Ca, estimated (speciation)",
                    round(float(row["ca_ionized_mmol_l"]), 3),
                    "mmol/L",
                    "",
                    source,
                    note,
                ),
                *(
                    Finding(
                        f"si_{phase}",
                        f"Saturation index, {label}",
                        round(float(row[f"si_{phase}"]), 2),
                        "log10",
                        "supersaturated" if row[f"si_{phase}"] > 0 else "undersaturated",
                        source,
                        "log10(ion activity product / Ksp) at 37 °C",
                    )
                    for phase, label in _KEY_PHASES
                ),
            )
        )
    return found


_KEY_PHASES = (
    ("hydroxyapatite", "hydroxyapatite"),
    ("brushite", "brushite"),
    ("amorphous_calcium_phosphate", "amorphous Ca phosphate"),
)
