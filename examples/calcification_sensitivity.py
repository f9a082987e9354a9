"""How the decomposition of Mg's effect on CAC depends on what was assumed (docs/calcification.md).

For each assumption changed, the progression rate k and threshold D0 are refitted to S0-10 by the
calibration program's own fit (`mgckd.calibrate.fit`, the calcification problem's free
parameters and targets), then the S0-10 arms are decomposed (passive, active, gut binding) and
S0-12's Mg − Ca difference is predicted (from the same baseline score; the phosphate
assumptions are S0-10's alone). Prints the Markdown table of docs/calcification.md.

Run: python examples/calcification_sensitivity.py
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from mgckd.calcification import (
    CalcificationParameters,
    TrialArms,
    sakaguchi_2019_arms,
    simulate_cac,
    tzanakis_2014_arms,
)
from mgckd.calibrate import fit, problems
from mgckd.params import parameters

Variant = tuple[str, dict[str, float], Callable[[TrialArms], TrialArms]]


def _same(arms: TrialArms) -> TrialArms:
    return arms


def _phosphate_change(change_mmol_l: float) -> Callable[[TrialArms], TrialArms]:
    def changed(arms: TrialArms) -> TrialArms:
        without = arms.treated_without_gut_binding
        assert without is not None
        phosphate = without.values["phosphate_mmol_l"] + change_mmol_l
        return replace(arms, treated=without.with_values(phosphate_mmol_l=phosphate))

    return changed


def _baseline(agatston: float) -> Callable[[TrialArms], TrialArms]:
    def changed(arms: TrialArms) -> TrialArms:
        return replace(arms, baseline_agatston=agatston)

    return changed


def _times_two(name: str) -> dict[str, float]:
    return {name: 2.0 * parameters()[name].value}


VARIANTS: tuple[Variant, ...] = (
    ("as shipped", {}, _same),
    ("active share w = 0.25", {"cac_active_share_reference": 0.25}, _same),
    ("active share w = 0.75", {"cac_active_share_reference": 0.75}, _same),
    ("MgO phosphate change 0", {}, _phosphate_change(0.0)),
    ("MgO phosphate change −0.2 mmol/L", {}, _phosphate_change(-0.2)),
    ("score exponent g = 0 (linear)", {"cac_score_exponent": 0.0}, _same),
    ("score exponent g = 2/3", {"cac_score_exponent": 2.0 / 3.0}, _same),
    ("VSMC Mg half-inhibition × 2", _times_two("cac_vsmc_mg_half_inhibition"), _same),
    ("VSMC phosphate half-activation × 2", _times_two("cac_vsmc_phosphate_half_activation"), _same),
    ("baseline 400 Agatston", {}, _baseline(400.0)),
)


def _percent_changes(
    arms: TrialArms, params: CalcificationParameters, courses: Sequence[str]
) -> list[float]:
    return [
        float(
            simulate_cac(
                getattr(arms, c), baseline_agatston=arms.baseline_agatston, params=params
            ).percent_change[0]
        )
        for c in courses
    ]


def refit(overrides: Mapping[str, float], arms: TrialArms) -> dict[str, float]:
    """k and D0 refitted to S0-10 with `overrides` and `arms` (the calibration's own fit)."""
    shipped = problems()["calcification"]

    def model(values: Mapping[str, float]) -> Sequence[float]:
        params = CalcificationParameters.from_registry({**overrides, **values})
        return _percent_changes(arms, params, ("treated", "control"))

    return fit(replace(shipped, model=model)).values


def row(name: str, overrides: dict[str, float], change: Callable[[TrialArms], TrialArms]) -> str:
    """One Markdown row: the refitted k and D0, the decomposition, S0-12's difference."""
    arms = change(sakaguchi_2019_arms())
    fitted = refit(overrides, arms)
    params = CalcificationParameters.from_registry({**overrides, **fitted})
    parts = arms.decomposition(params=params).to_frame().iloc[0]
    hemodialysis = replace(tzanakis_2014_arms(), baseline_agatston=arms.baseline_agatston)
    mg, ca = _percent_changes(hemodialysis, params, ("treated", "control"))
    return (
        f"| {name} | {fitted['cac_progression_rate']:.2f} | {fitted['cac_drive_threshold']:.3f} "
        f"| {parts['passive_points']:.1f} | {parts['active_points']:.1f} "
        f"| {parts['gut_binding_points']:.1f} | {mg - ca:+.1f} ({mg:.0f} vs {ca:.0f} %) |"
    )


def main() -> None:
    """Print the table."""
    print(
        "| assumption changed, then refitted | k (/year) | D0 | passive | active | gut binding "
        "| S0-12 |"
    )
    print("|---|---|---|---|---|---|---|")
    for variant in VARIANTS:
        print(row(*variant))


if __name__ == "__main__":
    main()
