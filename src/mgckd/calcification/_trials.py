"""The arms of the two Mg–calcification trials the model answers to, as plasma courses.

Until the whole-body model simulates Ca and phosphate, each arm is a typical patient: a
reference plasma of the registry with the arm's published serum Mg, held over the trial (and,
for S0-10, an assumed phosphate change from Mg's gut binding). Every number is a registry entry
(``mgckd params --module calcification``); `TrialArms` takes simulated courses as well, so the
arms switch to the whole-body model's trajectories without changing the checks.
"""

from __future__ import annotations

from dataclasses import dataclass

from mgckd.calcification._course import PlasmaCourse, plasma_course
from mgckd.calcification._decompose import MgEffectDecomposition, decompose_mg_effect
from mgckd.calcification._params import CalcificationParameters
from mgckd.cpp import KineticParameters
from mgckd.params import parameters
from mgckd.units import convert

TYPICAL = ("typical_patient",)
"""The one patient of an arm built from published numbers."""


@dataclass(frozen=True, eq=False)
class TrialArms:
    """Two arms of a trial as plasma courses, with what the model needs besides.

    Attributes
    ----------
    claim_id : the claim of ``claims.yaml`` the trial answers.
    control, treated : the arms' plasma courses (same times and patients).
    treated_without_gut_binding : the treated arm with Mg's gut phosphate binding removed
        (None: the trial reports no phosphate difference to attribute).
    baseline_agatston : the arms' baseline score (assumed).
    description : one line on how the arms were built.
    """

    claim_id: str
    control: PlasmaCourse
    treated: PlasmaCourse
    treated_without_gut_binding: PlasmaCourse | None
    baseline_agatston: float
    description: str

    def decomposition(
        self,
        *,
        params: CalcificationParameters | None = None,
        cpp_params: KineticParameters | None = None,
    ) -> MgEffectDecomposition:
        """Mg's effect on CAC between the arms, split by route (`decompose_mg_effect`)."""
        return decompose_mg_effect(
            self.treated,
            self.control,
            treated_without_gut_binding=self.treated_without_gut_binding,
            baseline_agatston=self.baseline_agatston,
            params=params,
            cpp_params=cpp_params,
        )


def _mg_mmol_l(name: str) -> float:
    value = parameters()[name].to("mg/dL")
    return float(convert(value, "mg/dL", "mmol/L", analyte="magnesium"))


def _hours(name: str) -> list[float]:
    return [0.0, parameters()[name].to("h")]


def _baseline() -> float:
    return parameters()["cac_baseline_agatston_reference"].to("1")


def sakaguchi_2019_arms() -> TrialArms:
    """S0-10 (calibration): MgO vs control in CKD G3–G4 for 2 years.

    The reference CKD plasma with serum Mg 2.0 (control) and 2.3 mg/dL (MgO), held; the MgO arm's
    phosphate lower by ``sakaguchi_2019_mgo_phosphate_change`` (assumed) through gut binding,
    and the same arm without it for the decomposition. Baseline: the assumed median.

    Examples
    --------
    >>> arms = sakaguchi_2019_arms()
    >>> round(float(arms.treated.values["magnesium_mmol_l"][0, 0]), 3)
    0.946
    """
    time_h = _hours("sakaguchi_2019_duration")
    control_mg = _mg_mmol_l("sakaguchi_2019_serum_mg_control")
    treated_mg = _mg_mmol_l("sakaguchi_2019_serum_mg_mgo")
    control = plasma_course(time_h, {"magnesium_mmol_l": control_mg}, patient_ids=TYPICAL)
    without = plasma_course(time_h, {"magnesium_mmol_l": treated_mg}, patient_ids=TYPICAL)
    change = parameters()["sakaguchi_2019_mgo_phosphate_change"].to("mmol/L")
    phosphate = without.values["phosphate_mmol_l"] + change
    return TrialArms(
        claim_id="S0-10",
        control=control,
        treated=without.with_values(phosphate_mmol_l=phosphate),
        treated_without_gut_binding=without,
        baseline_agatston=_baseline(),
        description=(
            f"reference CKD G3-G4 plasma, serum Mg {control_mg:.3f} vs {treated_mg:.3f} mmol/L "
            f"held for 2 years, phosphate {change:+g} mmol/L with MgO (gut binding, assumed), "
            f"baseline Agatston {_baseline():g} (assumed median)"
        ),
    )


def tzanakis_2014_arms() -> TrialArms:
    """S0-12 (validation): MgCO₃ + Ca acetate vs Ca acetate in hemodialysis for 12 months.

    The reference hemodialysis plasma with the arms' time-averaged serum Mg (2.83 vs
    2.52 mg/dL), held; the trial found no other biochemical difference, so phosphate is the same
    in both arms and there is no gut part.
    """
    time_h = _hours("tzanakis_2014_duration")
    arms = {}
    for arm, name in (
        ("mg", "tzanakis_2014_serum_mg_mg_group"),
        ("ca", "tzanakis_2014_serum_mg_ca_group"),
    ):
        arms[arm] = plasma_course(
            time_h, {"magnesium_mmol_l": _mg_mmol_l(name)}, base="hemodialysis", patient_ids=TYPICAL
        )
    mg, ca = (float(arms[a].values["magnesium_mmol_l"][0, 0]) for a in ("mg", "ca"))
    return TrialArms(
        claim_id="S0-12",
        control=arms["ca"],
        treated=arms["mg"],
        treated_without_gut_binding=None,
        baseline_agatston=_baseline(),
        description=(
            f"reference hemodialysis plasma, serum Mg {mg:.3f} vs {ca:.3f} mmol/L held for 12 "
            "months, phosphate equal (no other biochemical difference reported), baseline "
            f"Agatston {_baseline():g} (assumed)"
        ),
    )
