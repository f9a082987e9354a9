"""Interpret many patients' labs at once: conversions, derived values, Mg categories, warnings."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mgckd.labs import _categories as cat
from mgckd.labs import _derived as der
from mgckd.labs._record import Dialysis, PatientLabs, Sex
from mgckd.params import parameters
from mgckd.units import analyte, convert

DISCLAIMER = (
    "Research estimates from published equations and cut-points; not a medical device and "
    "not a treatment instruction. Verify every input and unit."
)


@dataclass(frozen=True, slots=True)
class Conversion:
    """One lab value as reported and in each usual unit of its analyte."""

    analyte: str
    loinc: str
    reported: str
    internal_value: float
    internal_unit: str
    in_units: dict[str, float]


@dataclass(frozen=True, slots=True)
class Finding:
    """One derived value or category with its source; `value` None means not computed (see note)."""

    name: str
    label: str
    value: float | str | None
    unit: str = ""
    category: str = ""
    source: str = ""
    note: str = ""


@dataclass(frozen=True, slots=True)
class Assessment:
    """The interpretation of one patient's labs."""

    patient_id: str
    conversions: tuple[Conversion, ...]
    findings: tuple[Finding, ...]
    warnings: tuple[str, ...]
    disclaimer: str = field(default=DISCLAIMER)

    def finding(self, name: str) -> Finding:
        """The finding called `name`."""
        for f in self.findings:
            if f.name == name:
                return f
        raise KeyError(f"no finding {name!r} for {self.patient_id}")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return asdict(self)


def lab_column(patients: Sequence[PatientLabs], name: str) -> NDArray[np.float64]:
    """One analyte over a batch of patients, in its internal unit, NaN where not measured."""
    values = [p.internal(name) for p in patients]
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def _src(parameter: str) -> str:
    return parameters()[parameter].source


class _Columns:
    """Internal-unit columns of a batch of patients, one array per analyte, NaN where missing."""

    def __init__(self, patients: Sequence[PatientLabs]) -> None:
        self._patients = patients
        self._cache: dict[str, NDArray[np.float64]] = {}

    def __getitem__(self, name: str) -> NDArray[np.float64]:
        if name not in self._cache:
            self._cache[name] = lab_column(self._patients, name)
        return self._cache[name]

    @cached_property
    def age_years(self) -> NDArray[np.float64]:
        """Age per patient, NaN where unknown."""
        return np.array([np.nan if p.age_years is None else p.age_years for p in self._patients])

    @cached_property
    def egfr(self) -> NDArray[np.float64]:
        """CKD-EPI 2021 eGFR per patient, NaN where creatinine, age or sex is missing."""
        female = np.array([p.sex is Sex.FEMALE for p in self._patients])
        known_sex = np.array([p.sex is not None for p in self._patients])
        egfr = der.egfr_ckd_epi_2021(self["creatinine"], self.age_years, female)
        return np.where(known_sex, egfr, np.nan)


PerPatient = list[tuple[Finding, ...]]
_FEMG_READABLE_GFR = ("G1", "G2", "G3a")  # below these, FEMg rises adaptively (S0-3)
_Rule = Callable[[Sequence[PatientLabs], _Columns], PerPatient]


def _missing(*arrays: NDArray[np.float64]) -> NDArray[np.bool_]:
    missing: NDArray[np.bool_] = np.any([~np.isfinite(a) for a in arrays], axis=0)
    return missing


def _egfr(patients: Sequence[PatientLabs], c: _Columns) -> PerPatient:
    egfr = c.egfr
    g = der.kdigo_gfr_category(egfr)
    source = _src("ckd_epi_2021_multiplier")
    found: PerPatient = []
    for i, p in enumerate(patients):
        if not np.isfinite(c["creatinine"][i]):
            found.append(())
            continue
        note = ""
        if p.dialysis is not Dialysis.NONE:
            note = "on dialysis: creatinine-based eGFR does not measure kidney function (KDIGO G5D)"
        elif p.sex is None or np.isnan(c.age_years[i]):
            note = "needs age and sex"
        elif not np.isfinite(egfr[i]):
            note = "CKD-EPI applies to adults (age >= 18 years) only"
        value = None if note else round(float(egfr[i]), 1)
        found.append(
            (
                Finding(
                    "egfr_ckd_epi_2021",
                    "eGFR (CKD-EPI 2021, race-free)",
                    value,
                    "mL/min/1.73 m2",
                    "" if note else f"KDIGO {g[i]}",
                    source,
                    note,
                ),
            )
        )
    return found


def _albuminuria(patients: Sequence[PatientLabs], c: _Columns) -> PerPatient:
    acr = c["urine_acr"]
    a = der.kdigo_albuminuria_category(acr)
    source = _src("kdigo_albuminuria_category_bounds")
    return [
        (
            Finding(
                "albuminuria_category", "Albuminuria category (KDIGO)", str(a[i]), "", "", source
            ),
        )
        if np.isfinite(acr[i])
        else ()
        for i in range(len(patients))
    ]


def _corrected_calcium(patients: Sequence[PatientLabs], c: _Columns) -> PerPatient:
    ca = der.corrected_calcium(c["calcium"], c["albumin"])
    missing = _missing(c["calcium"], c["albumin"])
    note = (
        "ionized Ca is preferred where it matters; the albumin correction is less reliable in CKD"
    )
    return [
        ()
        if missing[i]
        else (
            Finding(
                "calcium_albumin_corrected",
                "Calcium, albumin-corrected (Payne)",
                round(float(ca[i]), 3),
                "mmol/L",
                "",
                _src("corrected_calcium_albumin_slope"),
                note,
            ),
        )
        for i in range(len(patients))
    ]


def _anion_gap(patients: Sequence[PatientLabs], c: _Columns) -> PerPatient:
    na, cl, hco3, k, alb = (
        c["sodium"],
        c["chloride"],
        c["bicarbonate"],
        c["potassium"],
        c["albumin"],
    )
    base_missing = _missing(na, cl, hco3)
    with_k = np.isfinite(k)
    gap = np.where(
        with_k, der.anion_gap(na, cl, hco3, np.where(with_k, k, 0.0)), der.anion_gap(na, cl, hco3)
    )
    adjusted = der.albumin_adjusted_anion_gap(gap, alb)
    source = _src("anion_gap_albumin_slope")
    found: PerPatient = []
    for i in range(len(patients)):
        if base_missing[i]:
            found.append(())
            continue
        formula = "(Na + K) - (Cl + HCO3)" if with_k[i] else "Na - (Cl + HCO3)"
        note = formula + (
            "" if not np.isfinite(alb[i]) else f"; albumin-adjusted {adjusted[i]:.1f} mmol/L"
        )
        found.append(
            (
                Finding(
                    "anion_gap", "Anion gap", round(float(gap[i]), 1), "mmol/L", "", source, note
                ),
            )
        )
    return found


def _femg(patients: Sequence[PatientLabs], c: _Columns) -> PerPatient:
    inputs = (c["urine_magnesium"], c["magnesium"], c["urine_creatinine"], c["creatinine"])
    fe = der.fractional_excretion_mg(*inputs)
    missing = _missing(*inputs)
    hypo = cat.hypomagnesemia(c["magnesium"])
    gfr_category = der.kdigo_gfr_category(c.egfr)
    wasting = parameters()["femg_renal_wasting_threshold"].to("%")
    extrarenal = parameters()["femg_extrarenal_threshold"].to("%")
    source = _src("femg_ultrafilterable_fraction")
    found: PerPatient = []
    for i, p in enumerate(patients):
        if missing[i]:
            found.append(())
            continue
        category, note = "", "interpreted only in hypomagnesemia"
        if hypo[i] == "yes":
            category = (
                "suggests renal Mg wasting"
                if fe[i] > wasting
                else "suggests extrarenal loss or low intake"
                if fe[i] < extrarenal
                else "indeterminate"
            )
            note = f"cut-points {extrarenal:g} % and {wasting:g} %"
        if p.dialysis is Dialysis.NONE and gfr_category[i] not in _FEMG_READABLE_GFR:
            note += (
                "; FEMg rises adaptively as GFR falls: below G3a do not read wasting from it alone"
            )
        found.append(
            (
                Finding(
                    "fractional_excretion_mg",
                    "Fractional excretion of Mg",
                    round(float(fe[i]), 2),
                    "%",
                    category,
                    source,
                    note,
                ),
            )
        )
    return found


def _magnesium(patients: Sequence[PatientLabs], c: _Columns) -> PerPatient:
    mg = c["magnesium"]
    hypo = cat.hypomagnesemia(mg)
    ref = cat.reference_range_category(mg)
    proposed = cat.below_proposed_cutpoint(mg)
    band = cat.hemodialysis_band(mg)
    found: PerPatient = []
    for i, p in enumerate(patients):
        if not np.isfinite(mg[i]):
            found.append(())
            continue
        row = [
            Finding(
                "hypomagnesemia",
                "Hypomagnesemia (< 1.8 mg/dL)",
                str(hypo[i]),
                source=_src("mg_hypomagnesemia_cutpoint"),
            )
        ]
        flagged = proposed[i] == "yes"
        row.append(
            Finding(
                "mg_reference_range",
                "Mg vs reference range 0.7-1.1 mmol/L",
                str(ref[i]),
                category="below proposed 0.8 mmol/L cut-point" if flagged else "",
                source=_src("mg_reference_range_general"),
                note="< 0.8 mmol/L goes with CVD and mortality (an association)" if flagged else "",
            )
        )
        if p.dialysis is Dialysis.HEMODIALYSIS:
            row.append(
                Finding(
                    "mg_hemodialysis_band",
                    "Pre-dialysis Mg band (JSDT)",
                    str(band[i]),
                    "mg/dL",
                    source=_src("mg_hemodialysis_band_edges"),
                    note="JSDT: lowest 1-year mortality at 2.7-3.0 mg/dL; an association in "
                    "Japanese HD patients, not a treatment target",
                )
            )
        found.append(tuple(row))
    return found


def _ionized(patients: Sequence[PatientLabs], c: _Columns) -> PerPatient:
    img = c["magnesium_ionized"]
    category = cat.ionized_category(img)
    return [
        (
            Finding(
                "mg_ionized_range",
                "Ionized Mg vs reference 0.45-0.60 mmol/L",
                str(category[i]),
                source=_src("mg_ionized_reference_range"),
            ),
        )
        if np.isfinite(img[i])
        else ()
        for i in range(len(patients))
    ]


_RULES: tuple[_Rule, ...] = (
    _magnesium,
    _ionized,
    _egfr,
    _albuminuria,
    _corrected_calcium,
    _anion_gap,
    _femg,
)


def _conversions(p: PatientLabs) -> tuple[Conversion, ...]:
    rows = []
    for value in p.labs.values():
        a = analyte(value.analyte)
        rows.append(
            Conversion(
                analyte=a.name,
                loinc=value.loinc,
                reported=f"{value.value:g} {value.unit}",
                internal_value=value.value_internal,
                internal_unit=a.internal_unit,
                in_units={
                    u: convert(value.value_internal, a.internal_unit, u, analyte=a.name)
                    for u in a.units
                },
            )
        )
    return tuple(rows)


def assess(patients: PatientLabs | Sequence[PatientLabs]) -> list[Assessment]:
    """Interpret a batch of patients (one patient is a batch of one).

    Derived values are computed vectorized over the batch; each comes with its source and,
    when it cannot be computed, a note saying why.
    """
    batch = [patients] if isinstance(patients, PatientLabs) else list(patients)
    columns = _Columns(batch)
    per_rule = [rule(batch, columns) for rule in _RULES]
    return [
        Assessment(
            p.patient_id,
            _conversions(p),
            tuple(f for found in per_rule for f in found[i]),
            p.warnings,
        )
        for i, p in enumerate(batch)
    ]
