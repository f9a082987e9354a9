"""Segmental reabsorption of a divalent cation (Mg, Ca) along the nephron, declared once for both.

Filtered load `GFR × f_UF × [X]`; the proximal tubule reabsorbs a fixed fraction; the thick
ascending limb a load-dependent fraction `odds/(1 + odds)` with
`odds = K_TAL · capacity / (c_TAL · s_CaSR)`; the distal convoluted tubule a fraction with odds
`odds_ref · capacity · hormones`. `K_TAL` and `odds_ref` are derived so that the healthy reference
state is a steady state (urine = absorbed intake). See docs/physiology.md#kidney.
"""

from __future__ import annotations

import sympy

from mgckd.model import Rule, hill, sym


def shared_kidney_rules() -> tuple[Rule, ...]:
    """Rules every segment model uses: nephron capacity and the TAL calcium-sensing receptor."""
    s = sym
    signal = hill(s("casr_agonist_mmol_l"), s("casr_ca_half_mmol_l"), s("casr_hill"))
    reference = hill(s("casr_agonist_reference_mmol_l"), s("casr_ca_half_mmol_l"), s("casr_hill"))
    return (
        Rule(
            "casr_agonist_mmol_l",
            s("plasma_ca_ionized_mmol_l")
            + s("plasma_mg_ionized_mmol_l") / s("casr_mg_potency_ratio"),
            "mmol/L",
            "CaSR agonist: ionized Ca plus ionized Mg over its potency ratio (S1-14)",
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
        Rule(
            "casr_tal_signal",
            signal / reference,
            "1",
            "TAL calcium-sensing receptor activation relative to the healthy reference state",
        ),
    )


def segment_rules(
    x: str,
    *,
    plasma_total: sympy.Expr,
    plasma_reference: sympy.Expr,
    absorbed_reference: sympy.Expr,
    tal_capacity: sympy.Expr,
    dct_capacity: sympy.Expr,
    element: str,
) -> tuple[Rule, ...]:
    """The segment rules of cation `x` ("mg", "ca"): filtered load, TAL and DCT fractions, urine.

    Parameters named ``{x}_ultrafilterable_fraction``, ``{x}_pt_reabsorbed_fraction``,
    ``{x}_dct_reabsorbed_fraction_reference`` and ``{x}_adaptation_exponent`` must exist;
    `absorbed_reference` (mmol/h) is the net intake the healthy kidney excretes; the capacities
    are what drugs and hormones leave of the TAL and DCT (1 in health), multiplied here by the
    rule ``{x}_nephron_capacity``.
    """
    s = sym
    uf, pt, dct = (
        s(f"{x}_ultrafilterable_fraction"),
        s(f"{x}_pt_reabsorbed_fraction"),
        s(f"{x}_dct_reabsorbed_fraction_reference"),
    )
    filtered_ref = uf * plasma_reference
    fe_ref = absorbed_reference / (s("gfr_reference_l_h") * filtered_ref)
    tal_ref = 1 - pt - dct - fe_ref  # of the filtered load
    delivered_ref = 1 - pt
    tal_luminal = (1 - pt) * uf * plasma_total
    capacity = s(f"{x}_nephron_capacity")
    tal_odds = (
        s(f"{x}_tal_half_mmol_l") * capacity * tal_capacity / (tal_luminal * s("casr_tal_signal"))
    )
    dct_odds = s(f"{x}_dct_odds_reference") * capacity * dct_capacity
    filtered = s(f"{x}_filtered_mmol_h")
    to_dct = filtered * (1 - pt) * (1 - s(f"{x}_tal_reabsorbed_fraction"))
    return (
        Rule(
            f"{x}_nephron_capacity",
            (s("gfr_l_h") / s("gfr_reference_l_h")) ** s(f"{x}_adaptation_exponent")
            * (1 - s("tubular_injury")),
            "1",
            f"TAL and DCT {element} reabsorptive capacity per unit GFR relative to health: "
            "nephron adaptation (GFR/GFR_healthy)^a times the share of tubule not injured",
        ),
        Rule(
            f"{x}_tal_reabsorbed_fraction_reference",
            tal_ref,
            "1",
            f"fraction of filtered {element} the TAL reabsorbs in the healthy reference state "
            "(what closes the balance)",
        ),
        Rule(
            f"{x}_tal_half_mmol_l",
            filtered_ref * delivered_ref * tal_ref / (delivered_ref - tal_ref),
            "mmol/L",
            f"TAL luminal {element} at which half the delivered load is reabsorbed (capacity 1)",
        ),
        Rule(
            f"{x}_dct_odds_reference",
            dct / fe_ref,
            "1",
            f"odds of DCT {element} reabsorption (reabsorbed / excreted) in the healthy state",
        ),
        Rule(
            f"{x}_filtered_mmol_h",
            s("gfr_l_h") * uf * plasma_total,
            "mmol/h",
            f"filtered {element} load: GFR × ultrafilterable {element}",
        ),
        Rule(
            f"{x}_tal_reabsorbed_fraction",
            tal_odds / (1 + tal_odds),
            "1",
            f"fraction of the {element} delivered to the TAL that it reabsorbs",
        ),
        Rule(
            f"{x}_dct_reabsorbed_fraction",
            dct_odds / (1 + dct_odds),
            "1",
            f"fraction of the {element} delivered to the DCT that it reabsorbs",
        ),
        Rule(
            f"{x}_urine_mmol_h",
            to_dct * (1 - s(f"{x}_dct_reabsorbed_fraction")),
            "mmol/h",
            f"urinary {element} excretion",
        ),
    )
