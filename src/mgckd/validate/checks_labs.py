"""Checks of the definitions that `mgckd.labs` implements (S0-1, S1-15).

Each check recovers the cut-point the software actually uses, by bisection on the full user path
(a `PatientLabs` record, then `assess`), judges it against the published definition in
``claims.yaml``, and checks on which side a value exactly at the cut-point falls.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure

from mgckd.labs import PatientLabs, assess
from mgckd.units import convert
from mgckd.validate._checks import CheckResult, Verdict, check
from mgckd.validate._claims import claim

_BISECTION_STEPS = 80
_SEARCH_MMOL_L = (0.2, 3.0)  # serum Mg range searched for a cut-point


def _finding(mg: float, unit: str, name: str) -> tuple[str, str]:
    """(value, category) of the finding `name` for a patient whose only lab is this Mg."""
    patient = PatientLabs(labs={"magnesium": {"value": mg, "unit": unit}})
    found = assess(patient)[0].finding(name)
    return str(found.value), found.category


@dataclass(frozen=True)
class _CutPoint:
    """A published cut-point and how the software's categories should place values around it."""

    claim_id: str
    item: str | None
    unit: str
    is_above: Callable[[float], bool]  # True for values in the upper category
    exact_in_upper: bool  # where a value exactly at the cut-point belongs

    def recover(self) -> float:
        """The value (in `unit`) where `is_above` turns True, by bisection."""
        low, high = (convert(v, "mmol/L", self.unit, analyte="magnesium") for v in _SEARCH_MMOL_L)
        if self.is_above(low) or not self.is_above(high):
            raise ValueError(f"no single cut-point between {low:g} and {high:g} {self.unit}")
        for _ in range(_BISECTION_STEPS):
            middle = (low + high) / 2
            low, high = (low, middle) if self.is_above(middle) else (middle, high)
        return high

    def judge(self) -> tuple[bool, float, str]:
        """(passed, recovered value in the published unit, one line of detail)."""
        target = claim(self.claim_id).published.item(self.item)
        found = convert(self.recover(), self.unit, target.unit, analyte="magnesium")
        exact = convert(target.value, target.unit, self.unit, analyte="magnesium")
        side_ok = self.is_above(exact) == self.exact_in_upper
        passed = claim(self.claim_id).judge(found, item=self.item) and side_ok
        side = "upper" if self.is_above(exact) else "lower"
        return (
            passed,
            found,
            f"entered in {self.unit}: {found:.6g} {target.unit}, exact value {side}",
        )


def _result(cuts: list[_CutPoint], model: str) -> CheckResult:
    judged = [cut.judge() for cut in cuts]
    return CheckResult(
        model=model.format(*(found for _, found, _ in judged)),
        verdict=Verdict.PASS if all(passed for passed, _, _ in judged) else Verdict.FAIL,
        detail="; ".join(text for _, _, text in judged),
        figure=mg_categories_figure,
    )


@check("S0-1")
def hypomagnesemia_threshold() -> CheckResult:
    """Hypomagnesemia is total Mg < 1.8 mg/dL, whichever unit the value is entered in."""
    cuts = [
        _CutPoint(
            "S0-1",
            None,
            unit,
            lambda mg, unit=unit: _finding(mg, unit, "hypomagnesemia")[0] == "no",  # type: ignore[misc]
            exact_in_upper=True,  # "<": a value at the threshold is not hypomagnesemia
        )
        for unit in ("mg/dL", "mmol/L", "mEq/L")
    ]
    return _result(cuts, "< {0:.6g} mg/dL")


@check("S1-15")
def reference_range_and_proposed_cut_point() -> CheckResult:
    """Reference range 0.7-1.1 mmol/L (inclusive) and the < 0.8 mmol/L flag, as assessed."""
    low, high, proposed = (v.name for v in claim("S1-15").published.values)

    def position(mg: float) -> str:
        return _finding(mg, "mmol/L", "mg_reference_range")[0]

    def not_flagged(mg: float) -> bool:
        return _finding(mg, "mmol/L", "mg_reference_range")[1] == ""

    cuts = [
        _CutPoint("S1-15", low, "mmol/L", lambda mg: position(mg) != "below", exact_in_upper=True),
        _CutPoint(
            "S1-15", high, "mmol/L", lambda mg: position(mg) == "above", exact_in_upper=False
        ),
        _CutPoint("S1-15", proposed, "mmol/L", not_flagged, exact_in_upper=True),
    ]
    return _result(cuts, "range {0:.6g}-{1:.6g} mmol/L; flag < {2:.6g} mmol/L")


def mg_categories_figure() -> Figure:
    """Serum total Mg with the seed papers' categories, on mg/dL and mmol/L axes."""
    mg_dl = np.linspace(1.0, 3.6, 261)
    batch = [PatientLabs(labs={"magnesium": {"value": v, "unit": "mg/dL"}}) for v in mg_dl]
    assessed = assess(batch)  # one vectorized batch
    hypo = [a.finding("hypomagnesemia") for a in assessed]
    ref = [a.finding("mg_reference_range") for a in assessed]
    rows = {
        "hypomagnesemia, < 1.8 mg/dL (S0-1)": [f.value == "yes" for f in hypo],
        "reference range 0.7-1.1 mmol/L (S1-15)": [f.value == "within" for f in ref],
        "below proposed 0.8 mmol/L (S1-15)": [f.category != "" for f in ref],
    }
    figure = Figure(figsize=(8, 2.4), layout="constrained")
    axes = figure.subplots()
    for row, mask in enumerate(rows.values()):
        axes.fill_between(mg_dl, row - 0.35, row + 0.35, where=mask, step="mid", alpha=0.6)
    axes.set_yticks(range(len(rows)), list(rows), fontsize=8)
    axes.set_xlim(mg_dl[0], mg_dl[-1])
    axes.set_xlabel("serum total Mg, mg/dL")
    axes.secondary_xaxis(
        "top",
        functions=(
            lambda x: convert(x, "mg/dL", "mmol/L", analyte="magnesium"),
            lambda x: convert(x, "mmol/L", "mg/dL", analyte="magnesium"),
        ),
    ).set_xlabel("serum total Mg, mmol/L")
    return figure
