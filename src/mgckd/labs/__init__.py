"""Lab records and their interpretation: units, plausibility, derived values, Mg categories.

>>> from mgckd.labs import PatientLabs, assess
>>> p = PatientLabs(age_years=70, sex="male", labs={"creatinine": "0.8 mg/dL"})
>>> assess(p)[0].finding("egfr_ckd_epi_2021").value
95.2
"""

from mgckd.exceptions import SkippedObservationWarning
from mgckd.labs._assess import DISCLAIMER, Assessment, Conversion, Finding, assess, lab_column
from mgckd.labs._categories import (
    below_proposed_cutpoint,
    hemodialysis_band,
    hypomagnesemia,
    ionized_category,
    reference_range_category,
)
from mgckd.labs._derived import (
    albumin_adjusted_anion_gap,
    anion_gap,
    corrected_calcium,
    egfr_ckd_epi_2021,
    fractional_excretion_mg,
    kdigo_albuminuria_category,
    kdigo_gfr_category,
)
from mgckd.labs._fhir import patients_from_bundle
from mgckd.labs._io import read_patients
from mgckd.labs._limits import Limits, limits, unit_mixup_hint
from mgckd.labs._record import Dialysis, LabValue, PatientLabs, Sex

__all__ = [
    "DISCLAIMER",
    "Assessment",
    "Conversion",
    "Dialysis",
    "Finding",
    "LabValue",
    "Limits",
    "PatientLabs",
    "Sex",
    "SkippedObservationWarning",
    "albumin_adjusted_anion_gap",
    "anion_gap",
    "assess",
    "below_proposed_cutpoint",
    "corrected_calcium",
    "egfr_ckd_epi_2021",
    "fractional_excretion_mg",
    "hemodialysis_band",
    "hypomagnesemia",
    "ionized_category",
    "kdigo_albuminuria_category",
    "kdigo_gfr_category",
    "lab_column",
    "limits",
    "patients_from_bundle",
    "read_patients",
    "reference_range_category",
    "unit_mixup_hint",
]
