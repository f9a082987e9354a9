"""The physiology calibration: how much each remaining nephron's TAL and DCT reabsorptive capacity
per unit GFR falls as CKD advances, for Mg and for Ca (the nephron adaptation exponents).

Targets: serum Mg of CKD G3–G4 patients not taking Mg (S0-10's baseline) and a plasma Ca inside
its reference range at the same stage, compared with the whole-body model's steady state at the
checks' representative GFR. Everything else the model says about CKD (FEMg, phosphate, PTH,
calcitriol, FGF23, the course over time) is predicted (docs/physiology.md#calibration).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from mgckd.calibrate._problem import Free, Problem, Target, problem
from mgckd.model import compile_model
from mgckd.params import parameters
from mgckd.physiology import whole_body_model
from mgckd.simulate import steady_state
from mgckd.units import convert

MG_CLAIM = "L-sakaguchi-2019-ckd-serum-mg"
CA_CLAIM = "L-tschirner-ckd-calcium-normal"


def model(values: Mapping[str, float]) -> Sequence[float]:
    """[plasma total Mg (mg/dL), plasma total Ca (mmol/L)] at steady state at the
    representative CKD GFR."""
    compiled = compile_model(whole_body_model())
    gfr = parameters()["check_ckd_gfr_ml_min"].to("L/h")
    p = compiled.parameter_array(
        {
            "gfr_start_l_h": gfr,
            "gfr_floor_l_h": gfr,
            "mg_adaptation_exponent": values["mg_nephron_adaptation_exponent"],
            "ca_adaptation_exponent": values["ca_nephron_adaptation_exponent"],
        }
    )
    solved = steady_state(compiled, p)
    levels = compiled.rules(0.0, solved.states, p)[:, 0]
    rules = dict(zip(compiled.model.rule_names, levels, strict=True))
    mg = convert(float(rules["plasma_mg_total_mmol_l"]), "mmol/L", "mg/dL", analyte="magnesium")
    return [mg, float(rules["plasma_ca_total_mmol_l"])]


@problem("physiology")
def physiology() -> Problem:
    """The Mg and Ca nephron adaptation exponents, on serum Mg and Ca in CKD G3–G4."""
    return Problem(
        name="physiology",
        description="nephron adaptation exponents (TAL/DCT capacity per GFR), on CKD Mg and Ca",
        free=(
            Free("mg_nephron_adaptation_exponent", lower=0.0, upper=2.0, start=0.5),
            Free("ca_nephron_adaptation_exponent", lower=0.0, upper=2.0, start=0.5),
        ),
        targets=(Target(MG_CLAIM), Target(CA_CLAIM)),
        model=model,
    )
