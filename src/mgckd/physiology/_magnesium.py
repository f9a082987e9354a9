"""The human whole-body Mg model: gut, extracellular fluid, intracellular and bone pools, kidney.

Amounts in mmol, time in hours. Every number comes from the parameter registry
(``params/data/physiology.toml``) or from `mgckd.chemistry` (the ionized and ultrafilterable
fractions of plasma Mg and the ionized Ca of the reference normal plasma). The equations and
their reasoning are in docs/physiology.md; this module only declares them.

>>> from mgckd.physiology import magnesium_model
>>> model = magnesium_model()
>>> model.species_names[:2]
('mg_gut', 'mg_ecf')
"""

from __future__ import annotations

from functools import cache

import sympy

from mgckd.chemistry import reference_plasma, speciate
from mgckd.model import (
    TIME,
    Compartment,
    Flux,
    Model,
    Param,
    Rule,
    Species,
    hill,
    saturable,
    sym,
)
from mgckd.physiology._ckd import gfr_expression

MODEL_NAME = "mg_whole_body"


def _registry_parameters() -> tuple[Param, ...]:
    """Model parameters read from the registry: (model name, model unit, registry name)."""
    table = (
        ("ecf_volume_l", "L", "ecf_volume_l"),
        ("gfr_start_l_h", "L/h", "gfr_healthy_ml_min"),
        ("gfr_floor_l_h", "L/h", "gfr_healthy_ml_min"),
        ("gfr_decline_per_h", "1/h", "gfr_decline_healthy_per_year"),
        ("gfr_reference_l_h", "L/h", "gfr_healthy_ml_min"),
        ("diet_mg_mmol_h", "mmol/h", "diet_mg_mmol_d"),
        ("diet_reference_mg_mmol_h", "mmol/h", "diet_mg_mmol_d"),
        ("supplement_mg_mmol_h", "mmol/h", "mg_supplement_none_mmol_d"),
        ("absorbed_fraction_low_intake", "1", "mg_absorbed_fraction_low_intake"),
        ("absorbed_fraction_paracellular", "1", "mg_absorbed_fraction_paracellular"),
        ("absorbed_fraction_reference", "1", "mg_absorbed_fraction_reference_diet"),
        ("gut_transit_per_h", "1/h", "gut_mg_transit_per_h"),
        ("plasma_mg_reference_mmol_l", "mmol/L", "reference_normal_plasma_magnesium"),
        ("pt_reabsorbed_fraction", "1", "mg_pt_reabsorbed_fraction"),
        ("dct_reabsorbed_fraction_reference", "1", "mg_dct_reabsorbed_fraction_reference"),
        ("casr_ca_half_mmol_l", "mmol/L", "casr_ca_half_activation_mmol_l"),
        ("casr_hill", "1", "casr_hill"),
        ("casr_mg_potency_ratio", "1", "casr_mg_potency_ratio"),
        ("adaptation_exponent", "1", "nephron_adaptation_exponent"),
        ("tubular_injury", "1", "tubular_injury_healthy"),
        ("loop_diuretic_inhibition", "1", "loop_diuretic_tal_inhibition_none"),
        ("thiazide_inhibition", "1", "thiazide_dct_inhibition_none"),
        ("femg_ultrafilterable_fraction", "1", "femg_ultrafilterable_fraction"),
        ("cell_fast_reference_mmol", "mmol", "mg_cell_fast_reference_mmol"),
        ("cell_fast_half_life_h", "h", "mg_cell_fast_half_life_h"),
        ("cell_slow_reference_mmol", "mmol", "mg_cell_slow_reference_mmol"),
        ("cell_slow_half_life_h", "h", "mg_cell_slow_half_life_h"),
        ("bone_surface_reference_mmol", "mmol", "mg_bone_surface_reference_mmol"),
        ("bone_surface_half_life_h", "h", "mg_bone_surface_half_life_h"),
        ("bone_deep_reference_mmol", "mmol", "mg_bone_deep_reference_mmol"),
        ("bone_deep_resorption_per_h", "1/h", "bone_deep_resorption_per_h"),
    )
    return tuple(Param(name, unit, registry=entry) for name, unit, entry in table)


def _chemistry_parameters() -> tuple[Param, ...]:
    """Fractions of plasma Mg and ionized Ca from `mgckd.chemistry` at the reference plasma."""
    frame = speciate(reference_plasma("normal")).to_frame()
    ionized_ca = float(frame["ca_ionized_mmol_l"].iloc[0])
    source = "mgckd.chemistry at the reference normal plasma"
    return (
        Param(
            "mg_ultrafilterable_fraction",
            "1",
            value=float(frame["mg_ultrafilterable_fraction"].iloc[0]),
            description=f"ultrafilterable (not protein-bound) fraction of plasma Mg, {source}",
        ),
        Param(
            "mg_ionized_fraction",
            "1",
            value=float(frame["mg_ionized_fraction"].iloc[0]),
            description=f"ionized fraction of plasma Mg, {source}",
        ),
        Param(
            "ca_ionized_mmol_l",
            "mmol/L",
            value=ionized_ca,
            description=f"plasma ionized Ca (held constant until the Ca module), {source}",
        ),
        Param(
            "ca_ionized_reference_mmol_l",
            "mmol/L",
            value=ionized_ca,
            description=f"plasma ionized Ca of the healthy reference state, {source}",
        ),
    )


def _derived_rules() -> tuple[Rule, ...]:
    """Constants derived from the registry's reference state (expressions of parameters)."""
    s = sym
    transit = s("gut_transit_per_h")
    low, para, ref = (
        s("absorbed_fraction_low_intake"),
        s("absorbed_fraction_paracellular"),
        s("absorbed_fraction_reference"),
    )
    intake_ref = s("diet_reference_mg_mmol_h")
    gut_ref = (1 - ref) * intake_ref / transit
    paracellular = transit * para / (1 - para)
    saturable_slope = transit * low / (1 - low) - paracellular  # V_max / K, 1/h
    saturable_ref = ref * intake_ref - paracellular * gut_ref
    half = saturable_ref * gut_ref / (saturable_slope * gut_ref - saturable_ref)
    filtered_ref = s("mg_ultrafilterable_fraction") * s("plasma_mg_reference_mmol_l")
    fe_ref = ref * intake_ref / (s("gfr_reference_l_h") * filtered_ref)
    pt, dct = s("pt_reabsorbed_fraction"), s("dct_reabsorbed_fraction_reference")
    tal_fraction_ref = 1 - pt - dct - fe_ref  # of the filtered load
    tal_delivered_ref = 1 - pt
    return (
        Rule("gut_reference_mg_mmol", gut_ref, "mmol", "Mg in the gut lumen at the reference diet"),
        Rule("paracellular_per_h", paracellular, "1/h", "linear (paracellular) absorption rate"),
        Rule("saturable_half_mmol", half, "mmol", "half-saturating lumen Mg, saturable route"),
        Rule(
            "saturable_max_mmol_h",
            saturable_slope * half,
            "mmol/h",
            "maximal rate of the saturable (transcellular, TRPM6) route",
        ),
        Rule(
            "tal_reabsorbed_fraction_reference",
            tal_fraction_ref,
            "1",
            "fraction of filtered Mg reabsorbed in the TAL in the healthy reference state",
        ),
        Rule(
            "tal_half_mmol_l",
            filtered_ref
            * tal_delivered_ref
            * tal_fraction_ref
            / (tal_delivered_ref - tal_fraction_ref),
            "mmol/L",
            "TAL luminal Mg at which half the delivered load is reabsorbed (capacity 1)",
        ),
        Rule(
            "dct_odds_reference",
            dct / fe_ref,
            "1",
            "odds of DCT reabsorption (reabsorbed / excreted) in the healthy reference state",
        ),
        Rule(
            "casr_agonist_reference_mmol_l",
            s("ca_ionized_reference_mmol_l")
            + s("mg_ionized_fraction")
            * s("plasma_mg_reference_mmol_l")
            / s("casr_mg_potency_ratio"),
            "mmol/L",
            "CaSR agonist (Ca-equivalent ionized Ca + Mg) of the healthy reference state",
        ),
    )


def _state_rules() -> tuple[Rule, ...]:
    """Quantities of the current state: concentrations, GFR, segment handling, observables."""
    s = sym
    gfr = s("gfr_l_h")
    total = s("plasma_mg_total_mmol_l")
    casr = hill(s("casr_agonist_mmol_l"), s("casr_ca_half_mmol_l"), s("casr_hill"))
    casr_ref = hill(s("casr_agonist_reference_mmol_l"), s("casr_ca_half_mmol_l"), s("casr_hill"))
    adaptation = (gfr / s("gfr_reference_l_h")) ** s("adaptation_exponent")
    healthy_tubule = 1 - s("tubular_injury")
    tal_luminal = (1 - s("pt_reabsorbed_fraction")) * s("mg_ultrafilterable_fraction") * total
    tal_odds = (
        s("tal_half_mmol_l")
        * adaptation
        * healthy_tubule
        * (1 - s("loop_diuretic_inhibition"))
        / (tal_luminal * casr / casr_ref)
    )
    dct_odds = (
        s("dct_odds_reference") * adaptation * healthy_tubule * (1 - s("thiazide_inhibition"))
    )
    filtered = s("mg_filtered_mmol_h")
    to_dct = filtered * (1 - s("pt_reabsorbed_fraction")) * (1 - s("tal_reabsorbed_fraction"))
    return (
        Rule(
            "gfr_l_h",
            gfr_expression(s("gfr_start_l_h"), s("gfr_floor_l_h"), s("gfr_decline_per_h"), TIME),
            "L/h",
            "GFR following the CKD course",
        ),
        Rule(
            "plasma_mg_total_mmol_l",
            s("mg_ecf") / s("ecf_volume_l"),
            "mmol/L",
            "plasma total Mg (reference range 0.7–1.0 mmol/L)",
            observable=True,
        ),
        Rule(
            "plasma_mg_ionized_mmol_l",
            s("mg_ionized_fraction") * total,
            "mmol/L",
            "plasma ionized Mg (reference about 0.45–0.60 mmol/L)",
            observable=True,
        ),
        Rule(
            "casr_agonist_mmol_l",
            s("ca_ionized_mmol_l") + s("plasma_mg_ionized_mmol_l") / s("casr_mg_potency_ratio"),
            "mmol/L",
            "CaSR agonist seen by the TAL: ionized Ca plus ionized Mg over its potency ratio",
        ),
        Rule(
            "mg_filtered_mmol_h",
            gfr * s("mg_ultrafilterable_fraction") * total,
            "mmol/h",
            "filtered Mg load: GFR × ultrafilterable Mg",
        ),
        Rule(
            "tal_reabsorbed_fraction",
            tal_odds / (1 + tal_odds),
            "1",
            "fraction of the Mg delivered to the TAL that it reabsorbs",
        ),
        Rule(
            "dct_reabsorbed_fraction",
            dct_odds / (1 + dct_odds),
            "1",
            "fraction of the Mg delivered to the DCT that it reabsorbs",
        ),
        Rule(
            "mg_urine_mmol_h",
            to_dct * (1 - s("dct_reabsorbed_fraction")),
            "mmol/h",
            "urinary Mg excretion",
        ),
        Rule(
            "gfr_ml_min",
            gfr,
            "L/h",
            "GFR",
            observable=True,
            report_unit="mL/min",
        ),
        Rule(
            "urine_mg_mmol_d",
            s("mg_urine_mmol_h"),
            "mmol/h",
            "urinary Mg excretion (reference about 3–5 mmol/d)",
            observable=True,
            report_unit="mmol/d",
        ),
        Rule(
            "fe_mg_percent",
            s("mg_urine_mmol_h") / (gfr * s("femg_ultrafilterable_fraction") * total),
            "1",
            "fractional excretion of Mg, the clinical definition of mgckd.labs (0.7 × plasma "
            "total Mg); reference 1–5 %",
            observable=True,
            report_unit="%",
        ),
        Rule(
            "mg_absorbed_mmol_d",
            s("mg_absorption_mmol_h"),
            "mmol/h",
            "intestinal Mg absorption",
            observable=True,
            report_unit="mmol/d",
        ),
        Rule(
            "mg_absorption_mmol_h",
            saturable(s("mg_gut"), s("saturable_max_mmol_h"), s("saturable_half_mmol"))
            + s("paracellular_per_h") * s("mg_gut"),
            "mmol/h",
            "absorption from the gut lumen: saturable plus paracellular",
        ),
        Rule(
            "body_mg_mmol",
            sympy.Add(*(s(n) for n in _SPECIES_NAMES if n != "mg_gut")),
            "mmol",
            "Mg in the body (gut lumen excluded), reference about 1000 mmol",
            observable=True,
        ),
    )


_SPECIES_NAMES = (
    "mg_gut",
    "mg_ecf",
    "mg_cell_fast",
    "mg_cell_slow",
    "mg_bone_surface",
    "mg_bone_deep",
)


def _exchange(pool: str, reference: str, half_life: str, description: str) -> tuple[Flux, Flux]:
    """First-order exchange between the ECF and `pool`, in equilibrium at the reference state."""
    s = sym
    rate = sympy.log(2) / s(half_life)
    partition = s(reference) / (s("ecf_volume_l") * s("plasma_mg_reference_mmol_l"))
    return (
        Flux.transfer(
            f"{pool}_uptake",
            rate * partition * s("mg_ecf"),
            source="mg_ecf",
            target=pool,
            description=f"{description}: uptake from the ECF",
        ),
        Flux.transfer(
            f"{pool}_release",
            rate * s(pool),
            source=pool,
            target="mg_ecf",
            description=f"{description}: release to the ECF",
        ),
    )


@cache
def magnesium_model() -> Model:
    """The human whole-body Mg model (one definition; compile with `mgckd.model.compile_model`)."""
    s = sym
    species = (
        Species(
            "mg_gut",
            "gut_lumen",
            s("gut_reference_mg_mmol"),
            element="Mg",
            description="Mg in the absorptive gut lumen",
        ),
        Species(
            "mg_ecf",
            "ecf",
            s("ecf_volume_l") * s("plasma_mg_reference_mmol_l"),
            element="Mg",
            description="Mg in the extracellular fluid",
        ),
        Species(
            "mg_cell_fast",
            "cells",
            s("cell_fast_reference_mmol"),
            element="Mg",
            description="rapidly exchanging intracellular Mg",
        ),
        Species(
            "mg_cell_slow",
            "cells",
            s("cell_slow_reference_mmol"),
            element="Mg",
            description="slowly exchanging intracellular Mg (muscle, soft tissue)",
        ),
        Species(
            "mg_bone_surface",
            "bone",
            s("bone_surface_reference_mmol"),
            element="Mg",
            description="exchangeable Mg on the bone mineral surface",
        ),
        Species(
            "mg_bone_deep",
            "bone",
            s("bone_deep_reference_mmol"),
            element="Mg",
            description="Mg in deep bone mineral, exchanged by remodelling",
        ),
    )
    fluxes = (
        Flux.transfer(
            "mg_diet",
            s("diet_mg_mmol_h"),
            source=None,
            target="mg_gut",
            description="dietary Mg intake",
        ),
        Flux.transfer(
            "mg_supplement",
            s("supplement_mg_mmol_h"),
            source=None,
            target="mg_gut",
            description="Mg from supplements and Mg-containing drugs (daily average)",
        ),
        Flux.transfer(
            "mg_absorption",
            s("mg_absorption_mmol_h"),
            source="mg_gut",
            target="mg_ecf",
            description="intestinal absorption",
        ),
        Flux.transfer(
            "mg_feces",
            s("gut_transit_per_h") * s("mg_gut"),
            source="mg_gut",
            target=None,
            description="unabsorbed Mg leaving in the feces",
        ),
        Flux.transfer(
            "mg_urine",
            s("mg_urine_mmol_h"),
            source="mg_ecf",
            target=None,
            description="urinary excretion",
        ),
        *_exchange(
            "mg_cell_fast",
            "cell_fast_reference_mmol",
            "cell_fast_half_life_h",
            "fast intracellular pool",
        ),
        *_exchange(
            "mg_cell_slow",
            "cell_slow_reference_mmol",
            "cell_slow_half_life_h",
            "slow intracellular pool",
        ),
        *_exchange(
            "mg_bone_surface",
            "bone_surface_reference_mmol",
            "bone_surface_half_life_h",
            "bone surface",
        ),
        Flux.transfer(
            "mg_bone_formation",
            s("bone_deep_resorption_per_h")
            * s("bone_deep_reference_mmol")
            / s("bone_surface_reference_mmol")
            * s("mg_bone_surface"),
            source="mg_bone_surface",
            target="mg_bone_deep",
            description="Mg buried in deep bone by formation",
        ),
        Flux.transfer(
            "mg_bone_resorption",
            s("bone_deep_resorption_per_h") * s("mg_bone_deep"),
            source="mg_bone_deep",
            target="mg_bone_surface",
            description="Mg freed from deep bone by resorption",
        ),
    )
    return Model(
        name=MODEL_NAME,
        compartments=(
            Compartment("gut_lumen", None, "absorptive gut lumen"),
            Compartment("ecf", "ecf_volume_l", "extracellular fluid (plasma-equivalent)"),
            Compartment("cells", None, "intracellular space"),
            Compartment("bone", None, "bone mineral"),
        ),
        species=species,
        parameters=_registry_parameters() + _chemistry_parameters(),
        fluxes=fluxes,
        rules=_derived_rules() + _state_rules(),
        description=(
            "Human whole-body Mg: gut lumen (saturable + paracellular absorption), extracellular "
            "fluid, fast and slow intracellular pools, exchangeable bone surface and deep bone "
            "(remodelling), kidney (filtration of ultrafilterable Mg, PT, TAL with CaSR and "
            "load dependence, DCT; nephron adaptation, tubular injury, diuretics)."
        ),
    )
