"""Rate-law building blocks as sympy expressions (smooth, so the Jacobian is exact everywhere).

>>> from mgckd.model import sym
>>> hill(sym("x"), sym("k"), sym("n"))
(x/k)**n/((x/k)**n + 1)
"""

from __future__ import annotations

import sympy


def hill(x: sympy.Expr, half: sympy.Expr, n: sympy.Expr | int) -> sympy.Expr:
    """Hill activation (x/half)^n / (1 + (x/half)^n): 0 at x = 0, 1/2 at x = half, → 1."""
    ratio = (x / half) ** n
    return ratio / (1 + ratio)


def saturable(x: sympy.Expr, maximum: sympy.Expr, half: sympy.Expr) -> sympy.Expr:
    """Michaelis–Menten maximum·x/(half + x): never above `maximum`."""
    return maximum * x / (half + x)
