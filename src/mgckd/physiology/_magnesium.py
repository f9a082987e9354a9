"""The Mg module of the whole-body model: gut, extracellular fluid, intracellular and bone
pools, kidney; and the Mg-only model (`magnesium_model`: Ca and hormones held at health).

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
from mgckd.model import Flux, Model, Param, Rule, Species, saturable, sym
from mgckd.physiology._body import body_part
from mgckd.physiology._nephron import segment_rules
from mgckd.physiology._parts import Part, assemble, exchange, registry_parameters

MODEL_NAME = "mg_whole_body"

MG_SALT_INPUTS: dict[str, str] = {
    f"supplement_mg_{salt}_mmol_h": f"mg_{salt}_available_fraction"
    for salt in ("oxide", "hydroxide", "carbonate")
}
"""Mg salts the gut takes as separate inputs: the parameter of each salt's elemental Mg (daily
average, mmol/h) and the parameter (and registry entry) of the fraction of it that dissolves and
enters the absorptive lumen pool (docs/physiology.md#interventions)."""


def _registry_parameters() -> tuple[Param, ...]:
    return registry_parameters(
        (
            ("diet_mg_mmol_h", "mmol/h", "diet_mg_mmol_d"),
            ("diet_reference_mg_mmol_h", "mmol/h", "diet_mg_mmol_d"),
            ("supplement_mg_mmol_h", "mmol/h", "mg_supplement_none_mmol_d"),
            *((rate, "mmol/h", "mg_supplement_none_mmol_d") for rate in MG_SALT_INPUTS),
            *((fraction, "1", fraction) for fraction in MG_SALT_INPUTS.values()),
            ("absorbed_fraction_low_intake", "1", "mg_absorbed_fraction_low_intake"),
            ("absorbed_fraction_paracellular", "1", "mg_absorbed_fraction_paracellular"),
            ("absorbed_fraction_reference", "1", "mg_absorbed_fraction_reference_diet"),
            ("plasma_mg_reference_mmol_l", "mmol/L", "reference_normal_plasma_magnesium"),
            ("mg_pt_reabsorbed_fraction", "1", "mg_pt_reabsorbed_fraction"),
            ("mg_adaptation_exponent", "1", "mg_nephron_adaptation_exponent"),
            ("mg_dct_reabsorbed_fraction_reference", "1", "mg_dct_reabsorbed_fraction_reference"),
            ("mg_dct_pth_exponent", "1", "mg_dct_pth_exponent"),
            ("mg_dct_calcitriol_exponent", "1", "mg_dct_calcitriol_exponent"),
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
    )


@cache
def reference_chemistry(column: str) -> float:
    """A column of `mgckd.chemistry.speciate` at the reference normal plasma."""
    return float(speciate(reference_plasma("normal")).to_frame()[column].iloc[0])


def _chemistry_parameters() -> tuple[Param, ...]:
    """Fractions of plasma Mg and the reference ionized Ca from `mgckd.chemistry`."""
    source = "mgckd.chemistry at the reference normal plasma"
    value = reference_chemistry
    return (
        Param(
            "mg_ultrafilterable_fraction",
            "1",
            value=value("mg_ultrafilterable_fraction"),
            description=f"ultrafilterable (not protein-bound) fraction of plasma Mg, {source}",
        ),
        Param(
            "mg_ionized_fraction",
            "1",
            value=value("mg_ionized_fraction"),
            description=f"ionized fraction of plasma Mg, {source}",
        ),
        Param(
            "ca_ionized_reference_mmol_l",
            "mmol/L",
            value=value("ca_ionized_mmol_l"),
            description=f"plasma ionized Ca of the healthy reference state, {source}",
        ),
    )


def _gut_rules() -> tuple[Rule, ...]:
    """Absorption constants derived from the three Fine 1991 anchors, and absorption itself."""
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
    soluble = s("supplement_mg_mmol_h")
    return (
        Rule(
            "mg_salts_taken_mmol_h",
            soluble + sympy.Add(*(s(rate) for rate in MG_SALT_INPUTS)),
            "mmol/h",
            "elemental Mg taken in supplements and Mg salts, dissolved or not (daily average)",
        ),
        Rule(
            "mg_supplement_dissolved_mmol_h",
            soluble + sympy.Add(*(s(f) * s(rate) for rate, f in MG_SALT_INPUTS.items())),
            "mmol/h",
            "Mg of supplements and Mg salts that dissolves and enters the absorptive lumen pool "
            "(each salt's available fraction; the rest passes into the feces undissolved)",
        ),
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
            "mg_absorption_mmol_h",
            saturable(s("mg_gut"), s("saturable_max_mmol_h"), s("saturable_half_mmol"))
            + s("paracellular_per_h") * s("mg_gut"),
            "mmol/h",
            "absorption from the gut lumen: saturable plus paracellular",
        ),
        Rule(
            "mg_absorbed_mmol_d",
            s("mg_absorption_mmol_h"),
            "mmol/h",
            "intestinal Mg absorption",
            observable=True,
            report_unit="mmol/d",
        ),
    )


def _kidney_rules() -> tuple[Rule, ...]:
    """Segmental Mg handling (`segment_rules`), with DCT (TRPM6) modulation by PTH and
    calcitriol, and the clinical observables."""
    s = sym
    hormones = s("pth_relative") ** s("mg_dct_pth_exponent") * s("calcitriol_relative") ** s(
        "mg_dct_calcitriol_exponent"
    )
    total = s("plasma_mg_total_mmol_l")
    return (
        *segment_rules(
            "mg",
            plasma_total=total,
            plasma_reference=s("plasma_mg_reference_mmol_l"),
            absorbed_reference=s("absorbed_fraction_reference") * s("diet_reference_mg_mmol_h"),
            tal_capacity=1 - s("loop_diuretic_inhibition"),
            dct_capacity=(1 - s("thiazide_inhibition")) * hormones,
            element="Mg",
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
            s("mg_urine_mmol_h") / (s("gfr_l_h") * s("femg_ultrafilterable_fraction") * total),
            "1",
            "fractional excretion of Mg, the clinical definition of mgckd.labs (0.7 × plasma "
            "total Mg); reference 1–5 %",
            observable=True,
            report_unit="%",
        ),
    )


def _plasma_rules() -> tuple[Rule, ...]:
    s = sym
    return (
        Rule(
            "plasma_mg_total_mmol_l",
            s("mg_ecf") / s("ecf_volume_l"),
            "mmol/L",
            "plasma total Mg (reference range 0.7–1.0 mmol/L)",
            observable=True,
        ),
        Rule(
            "plasma_mg_ionized_mmol_l",
            s("mg_ionized_fraction") * s("plasma_mg_total_mmol_l"),
            "mmol/L",
            "plasma ionized Mg (reference about 0.45–0.60 mmol/L)",
            observable=True,
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


def _pool(pool: str, reference: str, half_life: str, description: str) -> tuple[Flux, Flux]:
    partition = sym(reference) / (sym("ecf_volume_l") * sym("plasma_mg_reference_mmol_l"))
    return exchange(
        pool, "mg_ecf", reference=partition, half_life=half_life, description=description
    )


def magnesium_part() -> Part:
    """The Mg module: its species, parameters, fluxes and rules. It reads `pth_relative`,
    `calcitriol_relative`, `bone_resorption_relative`, `bone_formation_relative` and
    `plasma_ca_ionized_mmol_l`, which the hormone and Ca modules (or `clamped_part`) provide."""
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
            s("mg_supplement_dissolved_mmol_h"),
            source=None,
            target="mg_gut",
            description="dissolved Mg from supplements and Mg-containing drugs (daily average)",
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
        *_pool(
            "mg_cell_fast",
            "cell_fast_reference_mmol",
            "cell_fast_half_life_h",
            "fast intracellular pool",
        ),
        *_pool(
            "mg_cell_slow",
            "cell_slow_reference_mmol",
            "cell_slow_half_life_h",
            "slow intracellular pool",
        ),
        *_pool(
            "mg_bone_surface",
            "bone_surface_reference_mmol",
            "bone_surface_half_life_h",
            "bone surface",
        ),
        Flux.transfer(
            "mg_bone_formation",
            s("bone_deep_resorption_per_h")
            * s("bone_formation_relative")
            * s("bone_deep_reference_mmol")
            / s("bone_surface_reference_mmol")
            * s("mg_bone_surface"),
            source="mg_bone_surface",
            target="mg_bone_deep",
            description="Mg buried in deep bone by formation",
        ),
        Flux.transfer(
            "mg_bone_resorption",
            s("bone_deep_resorption_per_h") * s("bone_resorption_relative") * s("mg_bone_deep"),
            source="mg_bone_deep",
            target="mg_bone_surface",
            description="Mg freed from deep bone by resorption",
        ),
    )
    return Part(
        species=species,
        parameters=_registry_parameters() + _chemistry_parameters(),
        fluxes=fluxes,
        rules=_gut_rules() + _kidney_rules() + _plasma_rules(),
    )


def clamped_part() -> Part:
    """The inputs the Ca and hormone modules would give, held at their healthy values: ionized Ca
    a parameter (per patient), PTH, calcitriol and bone remodelling at 1 (the Mg-only model)."""
    one = sympy.Integer(1)
    return Part(
        parameters=(
            Param(
                "ca_ionized_mmol_l",
                "mmol/L",
                value=reference_chemistry("ca_ionized_mmol_l"),
                description="plasma ionized Ca (per patient), mgckd.chemistry at the reference "
                "normal plasma by default",
            ),
        ),
        rules=(
            Rule(
                "plasma_ca_ionized_mmol_l",
                sym("ca_ionized_mmol_l"),
                "mmol/L",
                "plasma ionized Ca, held at its parameter",
            ),
            Rule("pth_relative", one, "1", "PTH relative to health, held at 1"),
            Rule("calcitriol_relative", one, "1", "calcitriol relative to health, held at 1"),
            Rule("bone_resorption_relative", one, "1", "bone resorption relative to health, 1"),
            Rule("bone_formation_relative", one, "1", "bone formation relative to health, 1"),
        ),
    )


@cache
def magnesium_model() -> Model:
    """The human whole-body Mg model with Ca and hormones held at their healthy values."""
    return assemble(
        MODEL_NAME,
        "Human whole-body Mg: gut lumen (saturable + paracellular absorption), extracellular "
        "fluid, fast and slow intracellular pools, exchangeable bone surface and deep bone "
        "(remodelling), kidney (filtration of ultrafilterable Mg, PT, TAL with CaSR and load "
        "dependence, DCT; nephron adaptation, tubular injury, diuretics). Ionized Ca, PTH and "
        "calcitriol held at their healthy values.",
        body_part(),
        magnesium_part(),
        clamped_part(),
    )
