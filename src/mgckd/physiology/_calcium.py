"""The Ca module of the whole-body model: gut (calcitriol-driven absorption), extracellular fluid,
exchangeable and deep bone (remodelling under PTH), kidney (PT, TAL with CaSR, DCT with PTH).

Amounts in mmol, time in hours; numbers from ``params/data/physiology.toml`` and, for the
ionized and ultrafilterable fractions of plasma Ca, `mgckd.chemistry` at the reference plasma.
See docs/physiology.md#calcium.
"""

from __future__ import annotations

from mgckd.model import Flux, Param, Rule, Species, hill, sym
from mgckd.physiology._gut import gut_declarations
from mgckd.physiology._magnesium import reference_chemistry
from mgckd.physiology._nephron import segment_rules
from mgckd.physiology._parts import Part, exchange, registry_parameters

_SOURCE = "mgckd.chemistry at the reference normal plasma"


def _parameters() -> tuple[Param, ...]:
    table = registry_parameters(
        (
            ("diet_ca_mmol_h", "mmol/h", "diet_ca_mmol_d"),
            ("diet_reference_ca_mmol_h", "mmol/h", "diet_ca_mmol_d"),
            ("supplement_ca_mmol_h", "mmol/h", "ca_supplement_none_mmol_d"),
            ("ca_absorbed_fraction_reference", "1", "ca_absorbed_fraction_reference"),
            ("ca_active_share_reference", "1", "ca_active_share_reference"),
            ("plasma_ca_reference_mmol_l", "mmol/L", "reference_normal_plasma_calcium"),
            ("ca_pt_reabsorbed_fraction", "1", "ca_pt_reabsorbed_fraction"),
            ("ca_adaptation_exponent", "1", "ca_nephron_adaptation_exponent"),
            ("ca_dct_reabsorbed_fraction_reference", "1", "ca_dct_reabsorbed_fraction_reference"),
            ("ca_dct_pth_half_relative", "1", "ca_dct_pth_half_relative"),
            ("ca_bone_exchangeable_reference_mmol", "mmol", "ca_bone_exchangeable_reference_mmol"),
            ("ca_bone_exchange_half_life_h", "h", "ca_bone_exchange_half_life_h"),
            ("ca_bone_deep_reference_mmol", "mmol", "ca_bone_deep_reference_mmol"),
        )
    )
    return (
        *table,
        Param(
            "ca_ultrafilterable_fraction",
            "1",
            value=reference_chemistry("ca_ultrafilterable_fraction"),
            description=f"ultrafilterable (not protein-bound) fraction of plasma Ca, {_SOURCE}",
        ),
        Param(
            "ca_ionized_fraction",
            "1",
            value=reference_chemistry("ca_ionized_fraction"),
            description=f"ionized fraction of plasma Ca, {_SOURCE}",
        ),
    )


def _rules() -> tuple[Rule, ...]:
    s = sym
    total = s("plasma_ca_total_mmol_l")
    pth = hill(s("pth_relative"), s("ca_dct_pth_half_relative"), 1) / hill(
        1, s("ca_dct_pth_half_relative"), 1
    )
    return (
        Rule(
            "plasma_ca_total_mmol_l",
            s("ca_ecf") / s("ecf_volume_l"),
            "mmol/L",
            "plasma total Ca (reference range 2.2–2.6 mmol/L)",
            observable=True,
        ),
        Rule(
            "plasma_ca_ionized_mmol_l",
            s("ca_ionized_fraction") * total,
            "mmol/L",
            "plasma ionized Ca (reference about 1.1–1.3 mmol/L)",
            observable=True,
        ),
        *segment_rules(
            "ca",
            plasma_total=total,
            plasma_reference=s("plasma_ca_reference_mmol_l"),
            absorbed_reference=s("ca_absorbed_fraction_reference") * s("diet_reference_ca_mmol_h"),
            tal_capacity=(1 - s("loop_diuretic_inhibition")),
            dct_capacity=pth,
            element="Ca",
        ),
        Rule(
            "urine_ca_mmol_d",
            s("ca_urine_mmol_h"),
            "mmol/h",
            "urinary Ca excretion (reference about 2.5–7.5 mmol/d)",
            observable=True,
            report_unit="mmol/d",
        ),
    )


def calcium_part() -> Part:
    """The Ca module. Reads `pth_relative`, `plasma_calcitriol_pmol_l` and the bone remodelling
    rules of the hormone module."""
    s = sym
    gut, gut_fluxes, gut_rules = gut_declarations("ca", "Ca")
    partition = s("ca_bone_exchangeable_reference_mmol") / (
        s("ecf_volume_l") * s("plasma_ca_reference_mmol_l")
    )
    deep_ratio = s("ca_bone_deep_reference_mmol") / s("ca_bone_exchangeable_reference_mmol")
    species = (
        gut,
        Species(
            "ca_ecf",
            "ecf",
            s("ecf_volume_l") * s("plasma_ca_reference_mmol_l"),
            element="Ca",
            description="Ca in the extracellular fluid",
        ),
        Species(
            "ca_bone_exchangeable",
            "bone",
            s("ca_bone_exchangeable_reference_mmol"),
            element="Ca",
            description="immediately exchangeable Ca of the bone mineral surface",
        ),
        Species(
            "ca_bone_deep",
            "bone",
            s("ca_bone_deep_reference_mmol"),
            element="Ca",
            description="Ca in deep bone mineral, exchanged by remodelling",
        ),
    )
    fluxes = (
        *gut_fluxes,
        Flux.transfer(
            "ca_supplement",
            s("supplement_ca_mmol_h"),
            source=None,
            target="ca_gut",
            description="Ca from supplements and Ca-based binders (daily average)",
        ),
        Flux.transfer(
            "ca_urine",
            s("ca_urine_mmol_h"),
            source="ca_ecf",
            target=None,
            description="urinary Ca excretion",
        ),
        *exchange(
            "ca_bone_exchangeable",
            "ca_ecf",
            reference=partition,
            half_life="ca_bone_exchange_half_life_h",
            description="exchangeable bone Ca",
        ),
        Flux.transfer(
            "ca_bone_formation",
            s("ca_bone_formation_mmol_h"),
            source="ca_bone_exchangeable",
            target="ca_bone_deep",
            description="Ca buried in deep bone by formation",
        ),
        Flux.transfer(
            "ca_bone_resorption",
            s("ca_bone_resorption_mmol_h"),
            source="ca_bone_deep",
            target="ca_bone_exchangeable",
            description="Ca freed from deep bone by osteoclastic resorption",
        ),
    )
    remodelling = (
        Rule(
            "ca_bone_formation_mmol_h",
            s("bone_deep_resorption_per_h")
            * s("bone_formation_relative")
            * deep_ratio
            * s("ca_bone_exchangeable"),
            "mmol/h",
            "Ca moved into deep bone by formation",
        ),
        Rule(
            "ca_bone_resorption_mmol_h",
            s("bone_deep_resorption_per_h") * s("bone_resorption_relative") * s("ca_bone_deep"),
            "mmol/h",
            "Ca freed from deep bone by resorption",
        ),
        Rule(
            "bone_ca_mmol",
            s("ca_bone_exchangeable") + s("ca_bone_deep"),
            "mmol",
            "Ca in bone (reference about 25,000 mmol)",
            observable=True,
        ),
    )
    return Part(
        species=species,
        parameters=_parameters(),
        fluxes=fluxes,
        rules=gut_rules + _rules() + remodelling,
    )
