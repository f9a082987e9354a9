"""Simulated T50 curves of the reference normal serum at low, normal and high serum Mg.

Run: python examples/cpp_t50_curves.py [output-directory]
Writes cpp_t50_mg.png there (default: docs/figures, the figure of docs/cpp.md) and prints T50.
"""

from __future__ import annotations

import sys
from pathlib import Path

from matplotlib.figure import Figure

from mgckd.cpp import plot_t50_curves, simulate_t50
from mgckd.validate.checks_cpp import sweep

HERE = Path(__file__).resolve().parent
out = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parent / "docs" / "figures"

# The reference normal serum (registry), total Mg low / normal / high; everything else held
mg_mmol_l = {"low Mg, 0.6 mmol/L": 0.6, "normal Mg, 0.9 mmol/L": 0.9, "high Mg, 1.3 mmol/L": 1.3}
result = simulate_t50(sweep("normal", "magnesium_mmol_l", list(mg_mmol_l.values())))
for label, t50 in zip(mg_mmol_l, result.t50_min, strict=True):
    print(f"{label}: T50 {t50:.0f} min")

figure = Figure(figsize=(6.4, 4.0), layout="constrained")
ax = plot_t50_curves(result, labels=list(mg_mmol_l), ax=figure.subplots())
ax.set_title("In-silico T50 test, reference normal serum (Pasch 2012 protocol)", fontsize=10)
figure.savefig(out / "cpp_t50_mg.png", dpi=120)
