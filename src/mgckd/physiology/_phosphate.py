"""The phosphate module of the whole-body model: gut (calcitriol-driven absorption, binders),
extracellular fluid, intracellular phosphate, bone mineral (with Ca, hydroxyapatite
stoichiometry), kidney (proximal reabsorption up to a transport maximum that PTH and FGF23 lower).

Amounts in mmol of phosphate, time in hours. See docs/physiology.md#phosphate.
"""

from __future__ import annotations

import sympy

from mgckd.model import Flux, Param, Rule, Species, sym
from mgckd.physiology._gut import gut_declarations
from mgckd.physiology._parts import Part, exchange, registry_parameters


def _parameters() -> tuple[Param, ...]:
    return registry_parameters(
        (
            ("diet_pi_mmol_h", "mmol/h", "diet_pi_mmol_d"),
            ("diet_reference_pi_mmol_h", "mmol/h", "diet_pi_mmol_d"),
            ("pi_absorbed_fraction_reference", "1", "pi_absorbed_fraction_reference"),
            ("pi_active_share_reference", "1", "pi_active_share_reference"),
            ("binder_pi_capacity_mmol_h", "mmol/h", "binder_pi_capacity_none_mmol_d"),
            ("mg_salt_pi_binding_ratio", "1", "mg_salt_pi_binding_ratio"),
            ("gut_mg_phosphate_binding", "1", "gut_mg_phosphate_binding_on"),
            ("plasma_pi_reference_mmol_l", "mmol/L", "reference_normal_plasma_phosphate"),
            ("pi_ultrafilterable_fraction", "1", "pi_ultrafilterable_fraction"),
            ("pi_reabsorption_splay", "1", "pi_reabsorption_splay"),
            ("pi_tm_pth_exponent", "1", "pi_tm_pth_exponent"),
            ("pi_tm_fgf23_exponent", "1", "pi_tm_fgf23_exponent"),
            ("pi_cell_reference_mmol", "mmol", "pi_cell_reference_mmol"),
            ("pi_mobilization_clearance_l_h", "L/h", "pi_mobilization_clearance_ml_min"),
            ("bone_pi_ca_ratio", "1", "hydroxyapatite_phosphate_calcium_ratio"),
        )
    )


def _reabsorbed(filtrate: sympy.Expr, maximum: sympy.Expr, splay: sympy.Expr) -> sympy.Expr:
    """Reabsorbed phosphate per litre of filtrate: the smaller root of
    θR² − (c + Tm)R + c·Tm = 0, a smooth minimum of c and Tm (θ → 1: min(c, Tm))."""
    total = filtrate + maximum
    return (total - sympy.sqrt(total**2 - 4 * splay * filtrate * maximum)) / (2 * splay)


def _kidney_rules() -> tuple[Rule, ...]:
    s = sym
    uf, splay = s("pi_ultrafilterable_fraction"), s("pi_reabsorption_splay")
    filtrate = uf * s("plasma_pi_mmol_l")
    filtrate_ref = uf * s("plasma_pi_reference_mmol_l")
    urine_ref = s("pi_absorbed_fraction_reference") * s("diet_reference_pi_mmol_h")
    reabsorbed_ref = filtrate_ref - urine_ref / s("gfr_reference_l_h")
    tm_ref = (
        reabsorbed_ref * (filtrate_ref - splay * reabsorbed_ref) / (filtrate_ref - reabsorbed_ref)
    )
    tm = (
        s("pi_tm_reference_mmol_l")
        * (1 - s("tubular_injury"))
        * s("pth_relative") ** (-s("pi_tm_pth_exponent"))
        * s("fgf23_renal_signal") ** (-s("pi_tm_fgf23_exponent"))
    )
    return (
        Rule(
            "pi_tm_reference_mmol_l",
            tm_ref,
            "mmol/L",
            "proximal phosphate transport maximum per litre of filtrate (TmP/GFR) in health",
        ),
        Rule(
            "pi_tm_mmol_l",
            tm,
            "mmol/L",
            "TmP/GFR: lowered by PTH and FGF23 (NaPi-2a/2c) and by tubular injury",
        ),
        Rule(
            "pi_urine_mmol_h",
            s("gfr_l_h") * (filtrate - _reabsorbed(filtrate, s("pi_tm_mmol_l"), splay)),
            "mmol/h",
            "urinary phosphate excretion",
        ),
        Rule(
            "urine_pi_mmol_d",
            s("pi_urine_mmol_h"),
            "mmol/h",
            "urinary phosphate excretion (reference about 19–48 mmol/d, 0.6–1.5 g)",
            observable=True,
            report_unit="mmol/d",
        ),
        Rule(
            "fe_pi_percent",
            s("pi_urine_mmol_h") / (s("gfr_l_h") * s("plasma_pi_mmol_l")),
            "1",
            "fractional excretion of phosphate (urine over GFR × plasma phosphate); "
            "reference about 5–20 %",
            observable=True,
            report_unit="%",
        ),
    )


def phosphate_part() -> Part:
    """The phosphate module. Reads `pth_relative`, `fgf23_renal_signal`,
    `plasma_calcitriol_pmol_l`, the Ca bone remodelling fluxes and the Mg taken in salts
    (`mg_salts_taken_mmol_h`, dissolved or not)."""
    s = sym
    binder_capacity = s("binder_pi_capacity_mmol_h") + s("gut_mg_phosphate_binding") * s(
        "mg_salt_pi_binding_ratio"
    ) * s("mg_salts_taken_mmol_h")
    binding = Flux.transfer(
        "pi_binding",
        binder_capacity * s("pi_gut") / s("gut_reference_pi_mmol"),
        source="pi_gut",
        target=None,
        description="phosphate bound in the lumen by binders and Mg salts, lost in the feces",
    )
    gut, gut_fluxes, gut_rules = gut_declarations("pi", "P", binding=binding)
    partition = s("pi_cell_reference_mmol") / (s("ecf_volume_l") * s("plasma_pi_reference_mmol_l"))
    species = (
        gut,
        Species(
            "pi_ecf",
            "ecf",
            s("ecf_volume_l") * s("plasma_pi_reference_mmol_l"),
            element="P",
            description="inorganic phosphate in the extracellular fluid",
        ),
        Species(
            "pi_cell",
            "cells",
            s("pi_cell_reference_mmol"),
            element="P",
            description="intracellular phosphate exchanging with the ECF",
        ),
        Species(
            "pi_bone",
            "bone",
            s("bone_pi_ca_ratio") * s("ca_bone_deep_reference_mmol"),
            element="P",
            description="phosphate in deep bone mineral (hydroxyapatite, with Ca)",
        ),
    )
    fluxes = (
        *gut_fluxes,
        Flux.transfer(
            "pi_urine",
            s("pi_urine_mmol_h"),
            source="pi_ecf",
            target=None,
            description="urinary phosphate excretion",
        ),
        *exchange(
            "pi_cell",
            "pi_ecf",
            reference=partition,
            half_life="pi_cell_half_life_h",
            description="intracellular phosphate",
        ),
        Flux.transfer(
            "pi_bone_formation",
            s("bone_pi_ca_ratio") * s("ca_bone_formation_mmol_h"),
            source="pi_ecf",
            target="pi_bone",
            description="phosphate laid down in bone with Ca (hydroxyapatite)",
        ),
        Flux.transfer(
            "pi_bone_resorption",
            s("bone_deep_resorption_per_h") * s("bone_resorption_relative") * s("pi_bone"),
            source="pi_bone",
            target="pi_ecf",
            description="phosphate freed from bone by resorption",
        ),
    )
    half_life = Rule(
        "pi_cell_half_life_h",
        sympy.log(2)
        * s("pi_cell_reference_mmol")
        / (s("pi_mobilization_clearance_l_h") * s("plasma_pi_reference_mmol_l")),
        "h",
        "turnover half-time of intracellular phosphate: the one whose uptake clears the ECF at "
        "the measured mobilization clearance (ln 2 · pool_ref / (K_M · plasma_ref))",
    )
    plasma = Rule(
        "plasma_pi_mmol_l",
        s("pi_ecf") / s("ecf_volume_l"),
        "mmol/L",
        "plasma inorganic phosphate (reference range 0.8–1.5 mmol/L)",
        observable=True,
    )
    return Part(
        species=species,
        parameters=_parameters(),
        fluxes=fluxes,
        rules=(plasma, half_life, *gut_rules, *_kidney_rules()),
    )
