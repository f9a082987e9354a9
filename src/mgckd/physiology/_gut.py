"""Intestinal absorption of Ca and phosphate, declared once for both: a lumen pool fed by the diet,
emptied by transit (feces) and by absorption through a passive (paracellular) route and an active
one that calcitriol drives (TRPV6 for Ca, NaPi-2b for phosphate). See docs/physiology.md#gut."""

from __future__ import annotations

from mgckd.model import Flux, Rule, Species, hill, sym


def gut_declarations(
    x: str, element: str, *, binding: Flux | None = None
) -> tuple[Species, tuple[Flux, ...], tuple[Rule, ...]]:
    """The lumen species ``{x}_gut``, its fluxes (diet, absorption, feces) and derived rules.

    Parameters named ``diet_{x}_mmol_h``, ``diet_reference_{x}_mmol_h``,
    ``{x}_absorbed_fraction_reference``, ``{x}_active_share_reference`` and
    ``calcitriol_gut_half_pmol_l`` must exist; `binding` is an extra flux out of the lumen
    (phosphate binders) that the absorption constants are derived without.
    """
    s = sym
    gut, ecf = f"{x}_gut", f"{x}_ecf"
    transit = s("gut_transit_per_h")
    fraction = s(f"{x}_absorbed_fraction_reference")
    share = s(f"{x}_active_share_reference")
    intake_ref = s(f"diet_reference_{x}_mmol_h")
    lumen_ref = (1 - fraction) * intake_ref / transit
    rate_ref = transit * fraction / (1 - fraction)
    calcitriol = hill(s("plasma_calcitriol_pmol_l"), s("calcitriol_gut_half_pmol_l"), 1)
    calcitriol_ref = hill(s("calcitriol_reference_pmol_l"), s("calcitriol_gut_half_pmol_l"), 1)
    rules = (
        Rule(
            f"gut_reference_{x}_mmol",
            lumen_ref,
            "mmol",
            f"{element} in the gut lumen at the reference diet",
        ),
        Rule(
            f"{x}_absorption_per_h",
            rate_ref * ((1 - share) + share * calcitriol / calcitriol_ref),
            "1/h",
            f"{element} absorption rate constant: passive plus calcitriol-driven active route",
        ),
        Rule(
            f"{x}_absorbed_mmol_d",
            s(f"{x}_absorption_per_h") * s(gut),
            "mmol/h",
            f"intestinal {element} absorption",
            observable=True,
            report_unit="mmol/d",
        ),
    )
    fluxes = (
        Flux.transfer(
            f"{x}_diet",
            s(f"diet_{x}_mmol_h"),
            source=None,
            target=gut,
            description=f"dietary {element} intake",
        ),
        Flux.transfer(
            f"{x}_absorption",
            s(f"{x}_absorption_per_h") * s(gut),
            source=gut,
            target=ecf,
            description=f"intestinal {element} absorption",
        ),
        Flux.transfer(
            f"{x}_feces",
            transit * s(gut),
            source=gut,
            target=None,
            description=f"unabsorbed {element} leaving in the feces",
        ),
        *((binding,) if binding is not None else ()),
    )
    species = Species(
        gut,
        "gut_lumen",
        s(f"gut_reference_{x}_mmol"),
        element=element,
        description=f"{element} in the absorptive gut lumen",
    )
    return species, fluxes, rules
