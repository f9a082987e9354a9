"""mgckd: the magnesium-phosphate-calcium system of chronic kidney disease, made executable.

Layers (import what you need; nothing heavy happens at ``import mgckd``):

- `mgckd.units` — clinical unit conversion (mg/dL, mmol/L, mEq/L), valence- and molar-mass-aware.
- `mgckd.labs` — typed lab records, plausibility, eGFR, KDIGO, corrected Ca, anion gap, FEMg,
  the seed papers' Mg categories.
- `mgckd.params` — the parameter registry: every number with unit, source and status.
- `mgckd.validate` — the claims registry and the model-vs-published validation report.

Outputs are research estimates with their sources, never treatment instructions.
"""

from mgckd._version import __version__

__all__ = ["__version__"]
