"""Checks of the CPP model and the in-silico T50 test (`mgckd.cpp`).

Calibration targets (the population T50 means of PREVEND, CRIC and ISAR) pass by construction:
`mgckd calibrate` fitted the nucleation rate, the nucleation barrier and Mg's half-inhibiting
level to them and to S0-16's between-arm difference, and the detail says so. S0-16's check lives
in ``checks_dialysis.py``: there the arms' serum Mg comes from the dialysis model, not from the
calibration's assumed gap. Everything else is predicted: the mechanisms' directions (S0-13,
S0-14, S1-6, S1-8, S1-9) and the T50 response to oral Mg in CKD (S0-17), each from sweeps of one
input on a reference serum.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from mgckd.calibrate.problems_cpp import POPULATIONS
from mgckd.chemistry import PlasmaComposition, constant_set
from mgckd.cpp import (
    Serum,
    T50Simulation,
    in_vivo_cpp,
    reference_serum,
    serum,
    simulate_t50,
)
from mgckd.params import parameters
from mgckd.units import convert
from mgckd.validate._checks import CheckResult, Verdict, check
from mgckd.validate._claims import claim

_BY_CONSTRUCTION = (
    "calibration target: the CPP nucleation rate, nucleation barrier and Mg half-inhibition were "
    "fitted to it by `mgckd calibrate` (problem cpp), so it passes by construction"
)
_INHIBITORS = ("fetuin_a_g_l", "pyrophosphate_umol_l")


def sweep(base: str, field: str, values: list[float]) -> Serum:
    """The reference serum `base` repeated, with `field` (a composition field, ``fetuin_a_g_l``
    or ``pyrophosphate_umol_l``) set to each of `values`."""
    start = reference_serum(base)
    n = len(values)
    columns = {k: np.repeat(v, n) for k, v in start.composition.to_dict().items()}
    inhibitors = {name: np.repeat(getattr(start, name), n) for name in _INHIBITORS}
    target = inhibitors if field in _INHIBITORS else columns
    target[field] = np.asarray(values, dtype=np.float64)
    return serum(PlasmaComposition.from_dict(columns), **inhibitors)


def _t50(sample: Serum) -> NDArray[np.float64]:
    result: T50Simulation = simulate_t50(sample)
    return result.t50_min


def _slope(base: str, field: str, low: float, high: float) -> float:
    """dT50/d(field) on the reference serum `base`, min per unit of the field."""
    t50 = _t50(sweep(base, field, [low, high]))
    return float(t50[1] - t50[0]) / (high - low)


def _calibration(claim_id: str, model: float, where: str) -> CheckResult:
    return CheckResult(
        model=round(model, 1),
        verdict=Verdict.PASS if claim(claim_id).judge(model) else Verdict.FAIL,
        detail=f"{_BY_CONSTRUCTION} ({where})",
    )


def _population(name: str) -> CheckResult:
    claim_id = dict(POPULATIONS)[name]
    t50 = float(_t50(reference_serum(name))[0])
    return _calibration(
        claim_id,
        t50,
        f"T50 of the reference {name} serum, a typical composition, against the published "
        "population mean",
    )


@check("L-eelderink-2020-t50-general-population")
def t50_general_population() -> CheckResult:
    """T50 of the reference normal serum (a calibration target)."""
    return _population("normal")


@check("L-bundy-2019-t50-ckd")
def t50_ckd() -> CheckResult:
    """T50 of the reference CKD serum (a calibration target)."""
    return _population("ckd")


@check("L-lorenz-2017-t50-hemodialysis")
def t50_hemodialysis() -> CheckResult:
    """T50 of the reference hemodialysis serum (a calibration target)."""
    return _population("hemodialysis")


@check("S0-13")
def phosphate_drives_cpp_maturation() -> CheckResult:
    """Plasma supersaturated; higher phosphate → faster CPP1 → CPP2 (shorter T50, faster in vivo).

    The third part (calcification by CPP2, not CPP1) needs the calcification model (issue 7).
    """
    plasma = in_vivo_cpp(sweep("normal", "phosphate_mmol_l", [1.1, 1.6]))
    si = float(plasma.si_hydroxyapatite[0])
    per_mmol = _slope("normal", "phosphate_mmol_l", 1.1, 1.6)
    faster = float(plasma.relative_cpp2_formation[1] / plasma.relative_cpp2_formation[0])
    text = f"SI HAP {si:.2f}; dT50/dPi {per_mmol:+.0f} min per mmol/L"
    if not (si > 0 and per_mmol < 0 and faster > 1):
        return CheckResult(
            model=text,
            verdict=Verdict.FAIL,
            detail=f"a direction is wrong: {text}; in-vivo CPP2 formation x{faster:.2f}",
        )
    return CheckResult(
        model=text,
        verdict=Verdict.PENDING,
        detail=(
            f"two parts hold: the reference normal plasma is supersaturated with hydroxyapatite "
            f"(SI {si:.2f}); phosphate 1.1 -> 1.6 mmol/L shortens the in-silico T50 "
            f"({per_mmol:+.0f} min per mmol/L) and speeds CPP2 formation in plasma "
            f"x{faster:.2f}. Calcification by CPP2 rather than CPP1 needs the calcification "
            "model (issue 7)"
        ),
    )


def _mg_response() -> tuple[float, float]:
    """(dT50/dMg on the reference normal serum, min per 0.1 mmol/L; ratio of in-vivo CPP2
    formation at +0.1 mmol/L Mg)."""
    per_mmol = _slope("normal", "magnesium_mmol_l", 0.9, 1.0)
    plasma = in_vivo_cpp(sweep("normal", "magnesium_mmol_l", [0.9, 1.0]))
    ratio = float(plasma.relative_cpp2_formation[1] / plasma.relative_cpp2_formation[0])
    return per_mmol / 10.0, ratio


def _mg_direction(claim_id: str, what: str) -> CheckResult:
    per_tenth, ratio = _mg_response()
    ok = claim(claim_id).tolerance.judge(per_tenth, sign=+1) and ratio < 1
    return CheckResult(
        model=f"{per_tenth:+.1f} min per +0.1 mmol/L Mg",
        verdict=Verdict.PASS if ok else Verdict.FAIL,
        detail=(
            f"reference normal serum, total Mg 0.9 -> 1.0 mmol/L: in-silico T50 "
            f"{per_tenth:+.1f} min, in-vivo CPP2 formation x{ratio:.3f}. The sign is the "
            "model's (Mg adsorption inhibits nucleation and growth); its size was calibrated "
            f"on S0-16.{' ' + what if what else ''}"
        ),
    )


@check("S0-14")
def mg_suppresses_cpp_maturation() -> CheckResult:
    """Higher Mg → slower CPP1 → CPP2 maturation (longer T50)."""
    return _mg_direction(
        "S0-14",
        "Mg acts by adsorption (Ding 2014), not by substitution into the lattice, which the "
        "model does not represent.",
    )


@check("S1-9")
def serum_mg_delays_maturation() -> CheckResult:
    """Higher serum Mg → longer T50."""
    return _mg_direction("S1-9", "")


@check("S1-6")
def mg_less_acp_slower_conversion() -> CheckResult:
    """Higher Mg → less ACP (CPP1) formed and slower ACP → apatite conversion."""
    result = simulate_t50(sweep("normal", "magnesium_mmol_l", [0.9, 1.3]))
    cpp1 = result.states[2].max(axis=1)
    t50 = result.t50_min
    less, slower = float(cpp1[1] - cpp1[0]), float(t50[1] - t50[0])
    ok = less < 0 and slower > 0
    return CheckResult(
        model=f"CPP1 {less:+.3f} mmol/L Ca; T50 {slower:+.0f} min",
        verdict=Verdict.PASS if ok else Verdict.FAIL,
        detail=(
            "reference normal serum, total Mg 0.9 -> 1.3 mmol/L in the T50 well: peak CPP1 "
            f"changes by {less:+.3f} mmol/L Ca (Mg-phosphate complexes lower the ACP "
            "supersaturation; Mg has no kinetic effect on ACP formation, Ding 2014) and T50 by "
            f"{slower:+.0f} min (slower conversion)"
        ),
    )


@check("S1-8")
def mg_phosphate_complexes_and_pyrophosphate() -> CheckResult:
    """Mg-phosphate complexes stronger than Ca's; more pyrophosphate → slower apatite formation."""
    cs = constant_set("plasma")
    pairs = (("CaHPO4", "MgHPO4"), ("CaPO4-", "MgPO4-"), ("CaH2PO4+", "MgH2PO4+"))
    gaps = {mg: cs.log_k[cs.index(mg)] - cs.log_k[cs.index(ca)] for ca, mg in pairs}
    text = ", ".join(f"{mg} {gap:+.2f}" for mg, gap in gaps.items())
    normal = parameters()["reference_normal_plasma_pyrophosphate"].to("umol/L")
    per_umol = _slope("normal", "pyrophosphate_umol_l", normal / 2.5, normal)
    ok = all(gap > 0 for gap in gaps.values()) and per_umol > 0
    return CheckResult(
        model=f"{text}; dT50/dPPi {per_umol:+.0f} min per umol/L",
        verdict=Verdict.PASS if ok else Verdict.FAIL,
        detail=(
            f"log10 K at 37 °C of each Mg-phosphate complex minus its Ca twin: {text}; "
            f"pyrophosphate {normal / 2.5:.2f} -> {normal:g} umol/L (the 2.5-fold of "
            f"pseudoxanthoma elasticum) lengthens the in-silico T50 by {per_umol:+.0f} min per "
            "umol/L (pyrophosphate inhibition of nucleation and growth)"
        ),
    )


@check("S0-17")
def oral_mg_raises_t50_in_ckd() -> CheckResult:
    """Predicted T50 change when oral Mg raises serum Mg in CKD G3–G4 (validation, not fitted)."""
    rise = parameters()["magnesium_hydroxide_serum_mg_rise"]
    rise_mmol_l = float(convert(rise.to("mg/dL"), "mg/dL", "mmol/L", analyte="magnesium"))
    base = float(reference_serum("ckd").composition.magnesium_mmol_l[0])
    t50 = _t50(sweep("ckd", "magnesium_mmol_l", [base, base + rise_mmol_l]))
    change = float(t50[1] - t50[0])
    return CheckResult(
        model=f"{change:+.0f} min",
        verdict=Verdict.PASS if claim("S0-17").judge(change, sign=+1) else Verdict.FAIL,
        detail=(
            f"reference CKD serum, total Mg {base:g} -> {base + rise_mmol_l:.2f} mmol/L "
            f"(+{rise.to('mg/dL'):g} mg/dL: an assumed, UNCONFIRMED rise with oral Mg): T50 "
            f"{t50[0]:.0f} -> {t50[1]:.0f} min. Predicted, not fitted; the serum Mg rise itself "
            "awaits oral Mg absorption (issue 5) and the trial its in-silico version (issue 8)"
        ),
    )
