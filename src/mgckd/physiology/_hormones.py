"""The hormone module of the whole-body model: PTH (parathyroid CaSR with Mg as a partial
agonist, gland adaptation), calcitriol (1α-hydroxylase driven by PTH, suppressed by FGF23 and
phosphate), FGF23 (from bone, driven by phosphate and calcitriol, resisted by klotho loss) and
klotho (kidney; falls with GFR and with low Mg). Relative effects are normalized to 1 in health.

Hormone amounts in pmol in the ECF volume (FGF23 and the gland's capacity relative, 1 in health);
time in hours. See docs/physiology.md#hormones.
"""

from __future__ import annotations

import sympy

from mgckd.model import Flux, Param, Rule, Species, hill, sym
from mgckd.physiology._parts import Part, registry_parameters


def _parameters() -> tuple[Param, ...]:
    return registry_parameters(
        (
            ("pth_reference_pmol_l", "pmol/L", "pth_healthy_pmol_l"),
            ("pth_clearance_per_h", "1/h", "pth_clearance_per_h"),
            ("pth_secretion_max_ratio", "1", "pth_secretion_max_ratio"),
            ("pth_secretion_min_ratio", "1", "pth_secretion_min_ratio"),
            ("pth_casr_hill", "1", "pth_casr_hill"),
            ("calcimimetic_ca_equivalent_mmol_l", "mmol/L", "calcimimetic_ca_equivalent_none"),
            ("gland_rate_per_h", "1/h", "parathyroid_gland_rate_per_h"),
            ("gland_max", "1", "parathyroid_gland_max"),
            ("gland_min", "1", "parathyroid_gland_min"),
            ("gland_calcitriol_half_pmol_l", "pmol/L", "parathyroid_gland_calcitriol_half_pmol_l"),
            ("gland_calcitriol_hill", "1", "parathyroid_gland_calcitriol_hill"),
            ("calcitriol_reference_pmol_l", "pmol/L", "calcitriol_healthy_pmol_l"),
            ("calcitriol_clearance_per_h", "1/h", "calcitriol_clearance_per_h"),
            ("calcitriol_pth_half_pmol_l", "pmol/L", "calcitriol_pth_half_pmol_l"),
            ("calcitriol_pth_hill", "1", "calcitriol_pth_hill"),
            ("calcitriol_pi_half_mmol_l", "mmol/L", "calcitriol_phosphate_half_mmol_l"),
            ("calcitriol_pi_hill", "1", "calcitriol_phosphate_hill"),
            ("calcitriol_fgf23_exponent", "1", "calcitriol_fgf23_exponent"),
            ("calcitriol_gut_half_pmol_l", "pmol/L", "calcitriol_gut_half_pmol_l"),
            ("calcitriol_dose_pmol_h", "pmol/h", "calcitriol_dose_none_pmol_d"),
            ("fgf23_rate_per_h", "1/h", "fgf23_rate_per_h"),
            ("fgf23_pi_exponent", "1", "fgf23_phosphate_exponent"),
            ("fgf23_calcitriol_exponent", "1", "fgf23_calcitriol_exponent"),
            ("fgf23_klotho_exponent", "1", "fgf23_klotho_exponent"),
            ("fgf23_renal_clearance_share", "1", "fgf23_renal_clearance_share"),
            ("klotho_gfr_exponent", "1", "klotho_gfr_exponent"),
            ("klotho_mg_exponent", "1", "klotho_mg_exponent"),
            ("bone_resorption_pth_exponent", "1", "bone_resorption_pth_exponent"),
            ("bone_formation_pth_exponent", "1", "bone_formation_pth_exponent"),
        )
    )


def _pth_rules() -> tuple[Rule, ...]:
    s = sym
    low, high, n = s("pth_secretion_min_ratio"), s("pth_secretion_max_ratio"), s("pth_casr_hill")
    open_ref = (1 - low) / (high - low)  # 1 − H at the reference agonist
    half = s("casr_agonist_reference_mmol_l") * (open_ref / (1 - open_ref)) ** (1 / n)
    agonist = s("casr_agonist_mmol_l") + s("calcimimetic_ca_equivalent_mmol_l")
    return (
        Rule(
            "pth_casr_half_mmol_l",
            half,
            "mmol/L",
            "parathyroid CaSR agonist at half-maximal suppression of PTH secretion",
        ),
        Rule(
            "pth_secretion_relative",
            s("parathyroid_gland")
            * (low + (high - low) * (1 - hill(agonist, s("pth_casr_half_mmol_l"), n))),
            "1",
            "PTH secretion relative to health: gland capacity × the inverted CaSR curve of ionized "
            "Ca + Mg (a partial agonist) + calcimimetic",
        ),
        Rule(
            "plasma_pth_pmol_l",
            s("pth") / s("ecf_volume_l"),
            "pmol/L",
            "plasma intact PTH (reference about 1.6–6.9 pmol/L, 15–65 pg/mL)",
            observable=True,
        ),
        Rule(
            "pth_relative", s("plasma_pth_pmol_l") / s("pth_reference_pmol_l"), "1", "PTH / health"
        ),
        Rule(
            "parathyroid_gland_target",
            _gland_curve(s("plasma_calcitriol_pmol_l"))
            / _gland_curve(s("calcitriol_reference_pmol_l")),
            "1",
            "gland capacity the parathyroid tends to: larger when calcitriol is low",
        ),
    )


def _gland_curve(calcitriol: sympy.Expr) -> sympy.Expr:
    s = sym
    low, high = s("gland_min"), s("gland_max")
    suppressed = hill(calcitriol, s("gland_calcitriol_half_pmol_l"), s("gland_calcitriol_hill"))
    return low + (high - low) * (1 - suppressed)


def _calcitriol_rules() -> tuple[Rule, ...]:
    s = sym
    pth = hill(
        s("plasma_pth_pmol_l"), s("calcitriol_pth_half_pmol_l"), s("calcitriol_pth_hill")
    ) / hill(s("pth_reference_pmol_l"), s("calcitriol_pth_half_pmol_l"), s("calcitriol_pth_hill"))
    half, n = s("calcitriol_pi_half_mmol_l"), s("calcitriol_pi_hill")
    phosphate = (1 - hill(s("plasma_pi_mmol_l"), half, n)) / (
        1 - hill(s("plasma_pi_reference_mmol_l"), half, n)
    )
    return (
        Rule(
            "calcitriol_synthesis_relative",
            pth * phosphate * s("fgf23_renal_signal") ** (-s("calcitriol_fgf23_exponent")),
            "1",
            "renal 1α-hydroxylase activity relative to health: PTH up, phosphate and FGF23 down",
        ),
        Rule(
            "plasma_calcitriol_pmol_l",
            s("calcitriol") / s("ecf_volume_l"),
            "pmol/L",
            "plasma 1,25-dihydroxyvitamin D (reference about 48–110 pmol/L)",
            observable=True,
        ),
        Rule(
            "calcitriol_relative",
            s("plasma_calcitriol_pmol_l") / s("calcitriol_reference_pmol_l"),
            "1",
            "calcitriol / health",
        ),
    )


def _fgf23_rules() -> tuple[Rule, ...]:
    s = sym
    gfr = s("gfr_l_h") / s("gfr_reference_l_h")
    mg = s("plasma_mg_ionized_mmol_l") / (
        s("mg_ionized_fraction") * s("plasma_mg_reference_mmol_l")
    )
    share = s("fgf23_renal_clearance_share")
    return (
        Rule(
            "klotho_relative",
            gfr ** s("klotho_gfr_exponent") * mg ** s("klotho_mg_exponent"),
            "1",
            "renal α-klotho relative to health: falls with GFR and with low Mg (S0-6)",
            observable=True,
        ),
        Rule(
            "fgf23_production_relative",
            (s("plasma_pi_mmol_l") / s("plasma_pi_reference_mmol_l")) ** s("fgf23_pi_exponent")
            * s("calcitriol_relative") ** s("fgf23_calcitriol_exponent")
            * s("klotho_relative") ** (-s("fgf23_klotho_exponent")),
            "1",
            "FGF23 secretion by osteocytes relative to health: phosphate, calcitriol, and the "
            "feedback of klotho-deficient (FGF23-resistant) kidneys",
        ),
        Rule(
            "fgf23_clearance_relative",
            (1 - share) + share * gfr,
            "1",
            "FGF23 clearance relative to health (its renal share falls with GFR)",
        ),
        Rule(
            "plasma_fgf23_relative",
            s("fgf23"),
            "1",
            "plasma intact FGF23 relative to the healthy adult",
            observable=True,
        ),
        Rule(
            "fgf23_renal_signal",
            s("fgf23") * s("klotho_relative"),
            "1",
            "FGF23 signalling in the kidney (FGF23 × its co-receptor klotho) relative to health",
        ),
    )


def _bone_rules() -> tuple[Rule, ...]:
    """Bone remodelling under PTH (Mg, Ca and phosphate of deep bone alike)."""
    s = sym
    return (
        Rule(
            "bone_resorption_relative",
            s("pth_relative") ** s("bone_resorption_pth_exponent"),
            "1",
            "osteoclastic bone resorption relative to health (PTH)",
        ),
        Rule(
            "bone_formation_relative",
            s("pth_relative") ** s("bone_formation_pth_exponent"),
            "1",
            "bone formation relative to health (PTH)",
        ),
    )


def hormone_part() -> Part:
    """The hormone module: PTH, parathyroid gland, calcitriol, FGF23, klotho, bone remodelling."""
    s = sym
    volume = s("ecf_volume_l")
    species = (
        Species(
            "pth",
            "ecf",
            s("pth_reference_pmol_l") * volume,
            unit="pmol",
            description="intact PTH in the ECF",
        ),
        Species(
            "parathyroid_gland",
            "ecf",
            1,
            unit="1",
            description="parathyroid secretory capacity relative to health (hyperplasia > 1)",
        ),
        Species(
            "calcitriol",
            "ecf",
            s("calcitriol_reference_pmol_l") * volume,
            unit="pmol",
            description="1,25-dihydroxyvitamin D in the ECF",
        ),
        Species(
            "fgf23",
            "ecf",
            1,
            unit="1",
            description="intact FGF23 relative to health",
        ),
    )
    pth_rate, gland_rate = s("pth_clearance_per_h"), s("gland_rate_per_h")
    cal_rate, f_rate = s("calcitriol_clearance_per_h"), s("fgf23_rate_per_h")
    fluxes = (
        _source(
            "pth_secretion",
            pth_rate * s("pth_reference_pmol_l") * volume * s("pth_secretion_relative"),
            "pth",
            "PTH secretion",
        ),
        _sink("pth_clearance", pth_rate * s("pth"), "pth", "PTH clearance"),
        _source(
            "parathyroid_growth",
            gland_rate * s("parathyroid_gland_target"),
            "parathyroid_gland",
            "parathyroid gland growth towards its target",
        ),
        _sink(
            "parathyroid_involution",
            gland_rate * s("parathyroid_gland"),
            "parathyroid_gland",
            "parathyroid gland involution",
        ),
        _source(
            "calcitriol_synthesis",
            cal_rate
            * s("calcitriol_reference_pmol_l")
            * volume
            * s("calcitriol_synthesis_relative"),
            "calcitriol",
            "renal calcitriol synthesis",
        ),
        _source(
            "calcitriol_dose",
            s("calcitriol_dose_pmol_h"),
            "calcitriol",
            "oral calcitriol reaching the circulation (daily average)",
        ),
        _sink(
            "calcitriol_clearance",
            cal_rate * s("calcitriol"),
            "calcitriol",
            "calcitriol catabolism (CYP24A1)",
        ),
        _source(
            "fgf23_secretion", f_rate * s("fgf23_production_relative"), "fgf23", "FGF23 secretion"
        ),
        _sink(
            "fgf23_clearance",
            f_rate * s("fgf23_clearance_relative") * s("fgf23"),
            "fgf23",
            "FGF23 clearance",
        ),
    )
    return Part(
        species=species,
        parameters=_parameters(),
        fluxes=fluxes,
        rules=_pth_rules() + _calcitriol_rules() + _fgf23_rules() + _bone_rules(),
    )


def _source(name: str, rate: sympy.Expr, target: str, description: str) -> Flux:
    return Flux.transfer(name, rate, source=None, target=target, description=description)


def _sink(name: str, rate: sympy.Expr, source: str, description: str) -> Flux:
    return Flux.transfer(name, rate, source=source, target=None, description=description)
