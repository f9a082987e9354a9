"""The whole-body model: Mg, Ca, phosphate and their hormones in one definition."""

from __future__ import annotations

from functools import cache

from mgckd.model import Model
from mgckd.physiology._body import body_part
from mgckd.physiology._calcium import calcium_part
from mgckd.physiology._hormones import hormone_part
from mgckd.physiology._magnesium import magnesium_part
from mgckd.physiology._parts import assemble
from mgckd.physiology._phosphate import phosphate_part

WHOLE_BODY_MODEL_NAME = "mg_ca_pi_whole_body"


@cache
def whole_body_model() -> Model:
    """The human whole-body model of Mg, Ca and phosphate in CKD (compile with
    `mgckd.model.compile_model`).

    >>> model = whole_body_model()
    >>> model.elements
    ('Ca', 'Mg', 'P')
    """
    return assemble(
        WHOLE_BODY_MODEL_NAME,
        "Human whole-body Mg, Ca and phosphate in CKD: gut absorption (Mg saturable + "
        "paracellular; Ca and phosphate calcitriol-driven; phosphate binders and Mg salts), "
        "ECF, intracellular and bone pools (remodelling under PTH), kidney segments (PT, TAL "
        "with the CaSR, DCT; phosphate transport maximum under PTH and FGF23; nephron adaptation, "
        "tubular injury, diuretics), PTH with parathyroid adaptation, calcitriol, FGF23, klotho.",
        body_part(),
        magnesium_part(),
        calcium_part(),
        phosphate_part(),
        hormone_part(),
    )
