"""What every module of the whole-body model shares: the ECF volume, the CKD course (GFR), the
gut transit, nephron capacity (adaptation, tubular injury) and the TAL calcium-sensing receptor."""

from __future__ import annotations

from mgckd.model import TIME, Rule, sym
from mgckd.physiology._ckd import gfr_expression
from mgckd.physiology._nephron import shared_kidney_rules
from mgckd.physiology._parts import Part, registry_parameters


def body_part() -> Part:
    """Shared parameters and rules (GFR, nephron capacity, CaSR)."""
    s = sym
    return Part(
        parameters=registry_parameters(
            (
                ("ecf_volume_l", "L", "ecf_volume_l"),
                ("gfr_start_l_h", "L/h", "gfr_healthy_ml_min"),
                ("gfr_floor_l_h", "L/h", "gfr_healthy_ml_min"),
                ("gfr_decline_per_h", "1/h", "gfr_decline_healthy_per_year"),
                ("gfr_reference_l_h", "L/h", "gfr_healthy_ml_min"),
                ("gut_transit_per_h", "1/h", "gut_transit_per_h"),
                ("casr_ca_half_mmol_l", "mmol/L", "casr_ca_half_activation_mmol_l"),
                ("casr_hill", "1", "casr_hill"),
                ("casr_mg_potency_ratio", "1", "casr_mg_potency_ratio"),
                ("tubular_injury", "1", "tubular_injury_healthy"),
                ("loop_diuretic_inhibition", "1", "loop_diuretic_tal_inhibition_none"),
                ("thiazide_inhibition", "1", "thiazide_dct_inhibition_none"),
            )
        ),
        rules=(
            Rule(
                "gfr_l_h",
                gfr_expression(
                    s("gfr_start_l_h"), s("gfr_floor_l_h"), s("gfr_decline_per_h"), TIME
                ),
                "L/h",
                "GFR following the CKD course",
            ),
            Rule("gfr_ml_min", s("gfr_l_h"), "L/h", "GFR", observable=True, report_unit="mL/min"),
            *shared_kidney_rules(),
        ),
    )
