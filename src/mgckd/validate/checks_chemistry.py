"""Checks of plasma speciation (`mgckd.chemistry`): S0-22, its held-out prevalences and the normal
plasma calibration targets. (The speciation halves of S1-8 and S0-13 are checked with their CPP
halves in ``checks_cpp.py``.)

Calibration targets (S0-22's ionized fractions, normal ionized Ca and Mg) pass by construction:
the calibration program fitted the albumin and uremic-anion constants to them, and the detail
says so. The prevalences of hypermagnesemia published beside S0-22 were not fitted; they are
predicted on a virtual hemodialysis cohort in ``checks_populations.py``
(L-sakaguchi-2018-ionized-mg).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from mgckd.chemistry import (
    PlasmaComposition,
    Speciation,
    reference_plasma,
    speciate,
)
from mgckd.validate._checks import CheckResult, Verdict, check
from mgckd.validate._claims import claim

_PERCENT = 100.0
_BY_CONSTRUCTION = (
    "calibration target: the albumin and uremic-anion constants were fitted to it by "
    "`mgckd calibrate`, so it passes by construction"
)


def _sweep(base: str, field: str, values: NDArray[np.float64]) -> PlasmaComposition:
    fields = reference_plasma(base).to_dict()
    columns = {k: np.repeat(v, values.size) for k, v in fields.items()}
    columns[field] = values
    return PlasmaComposition.from_dict(columns)


def _mg_percent(comp: PlasmaComposition) -> NDArray[np.float64]:
    fraction: NDArray[np.float64] = speciate(comp).to_frame()["mg_ionized_fraction"].to_numpy()
    return _PERCENT * fraction


@check("S0-22")
def ionized_mg_fraction_hemodialysis_vs_ckd() -> CheckResult:
    """Ionized/total Mg on the reference hemodialysis and CKD plasmas, and its direction."""
    c = claim("S0-22")
    hd_item, ckd_item = (v.name for v in c.published.values)
    hd = float(_mg_percent(reference_plasma("hemodialysis"))[0])
    ckd = float(_mg_percent(reference_plasma("ckd"))[0])
    gap = _mg_percent(_sweep("hemodialysis", "uremic_anion_mmol_l", np.array([4.0, 10.0])))
    phosphate = _mg_percent(_sweep("hemodialysis", "phosphate_mmol_l", np.array([1.2, 2.4])))
    per_gap = float(np.diff(gap)[0]) / 6.0
    per_p = float(np.diff(phosphate)[0]) / 1.2
    ok = c.judge(hd, item=hd_item) and c.judge(ckd, item=ckd_item) and per_gap < 0 and per_p < 0
    return CheckResult(
        model=f"{hd:.1f} % hemodialysis; {ckd:.1f} % non-dialysis",
        verdict=Verdict.PASS if ok else Verdict.FAIL,
        detail=(
            f"{_BY_CONSTRUCTION} (reference hemodialysis and CKD plasmas); not fitted, the "
            f"direction: {per_gap:+.2f} points per mmol/L of anion gap, {per_p:+.2f} points per "
            "mmol/L of phosphate"
        ),
    )


def _normal_plasma(
    claim_id: str, ionized: Callable[[Speciation], NDArray[np.float64]]
) -> CheckResult:
    """An ionized concentration of the reference normal plasma, judged against `claim_id`."""
    value = float(ionized(speciate(reference_plasma("normal")))[0])
    return CheckResult(
        model=round(value, 4),
        verdict=Verdict.PASS if claim(claim_id).judge(value) else Verdict.FAIL,
        detail=f"{_BY_CONSTRUCTION} (reference normal plasma)",
    )


@check("L-normal-plasma-ionized-calcium")
def normal_ionized_calcium() -> CheckResult:
    """Ionized Ca of the reference normal plasma (a calibration target)."""
    return _normal_plasma("L-normal-plasma-ionized-calcium", lambda r: r.calcium_ionized_mmol_l)


@check("L-normal-plasma-ionized-magnesium")
def normal_ionized_magnesium() -> CheckResult:
    """Ionized Mg of the reference normal plasma (a calibration target)."""
    return _normal_plasma("L-normal-plasma-ionized-magnesium", lambda r: r.magnesium_ionized_mmol_l)


_PH_SPAN = np.array([7.3, 7.5])
"""pH values either side of 7.4 between which the ionized Mg and Ca slopes are taken."""


@check("L-ise-ionized-mg-ph-slope")
def ionized_mg_and_ca_fall_with_ph() -> CheckResult:
    """d log10 (ionized Mg, Ca) / dpH on the reference normal plasma, against the ISE slopes."""
    c = claim("L-ise-ionized-mg-ph-slope")
    mg_item, ca_item = (v.name for v in c.published.values)
    frame = speciate(_sweep("normal", "ph", _PH_SPAN)).to_frame()
    span = float(np.diff(_PH_SPAN)[0])
    mg = float(np.diff(np.log10(frame["mg_ionized_mmol_l"].to_numpy()))[0]) / span
    ca = float(np.diff(np.log10(frame["ca_ionized_mmol_l"].to_numpy()))[0]) / span
    ok = c.judge(mg, item=mg_item) and c.judge(ca, item=ca_item)
    return CheckResult(
        model=f"Mg {mg:+.3f}, Ca {ca:+.3f} per pH unit (log10)",
        verdict=Verdict.PASS if ok else Verdict.FAIL,
        detail=(
            f"reference normal plasma at pH {_PH_SPAN[0]:g} and {_PH_SPAN[1]:g} (total CO2 held); "
            "predicted, not fitted: the slopes follow from the albumin site's proton competition "
            "and the phosphate and carbonate equilibria"
        ),
    )
