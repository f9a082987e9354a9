"""Fit a calibration problem with `scipy.optimize.least_squares` and judge its targets."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import least_squares

from mgckd.calibrate._problem import Problem, Target
from mgckd.exceptions import RegistryError
from mgckd.validate import claim
from mgckd.validate._claims import ToleranceKind

_FIT_OPTIONS = {"xtol": 1e-12, "ftol": 1e-12, "gtol": 1e-12, "diff_step": 1e-6}
"""Tight tolerances and a fixed start: the fit reproduces to far below the written rounding."""


def target_scale(target: Target) -> float:
    """The unit of a residual: the claim's tolerance (abs; rel × value; CI half-width)."""
    c = claim(target.claim_id)
    published = c.published.item(target.item)
    kind = c.tolerance.kind
    if kind is ToleranceKind.ABS and c.tolerance.value is not None:
        return c.tolerance.value
    if kind is ToleranceKind.REL and c.tolerance.value is not None:
        return c.tolerance.value * abs(published.value)
    if kind is ToleranceKind.CI and published.ci is not None:
        return (published.ci[1] - published.ci[0]) / 2.0
    raise RegistryError(
        f"calibration target {target.label}: a {kind} tolerance cannot be fitted to"
    )


@dataclass(frozen=True, slots=True)
class TargetFit:
    """One target after the fit: published value, model value, and the claim's verdict."""

    label: str
    claim_id: str
    item: str | None
    published: float
    unit: str
    model: float
    passed: bool

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dictionary."""
        return {
            "target": self.label,
            "claim": self.claim_id,
            "item": self.item,
            "published": self.published,
            "unit": self.unit,
            "model": self.model,
            "passed": self.passed,
        }


@dataclass(frozen=True, slots=True)
class ProblemFit:
    """The outcome of fitting one problem."""

    problem: str
    values: dict[str, float]
    targets: tuple[TargetFit, ...]
    calibrated_to: tuple[str, ...]
    cost: float
    success: bool
    message: str
    evaluations: int

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dictionary."""
        return {
            "problem": self.problem,
            "values": self.values,
            "calibrated_to": list(self.calibrated_to),
            "targets": [t.to_dict() for t in self.targets],
            "cost": self.cost,
            "success": self.success,
            "message": self.message,
            "evaluations": self.evaluations,
        }


def fit(problem: Problem) -> ProblemFit:
    """Least-squares fit of the problem's free parameters to its targets.

    Residuals are (model − published) / tolerance for each target, so every target weighs by
    how tightly its claim is to be met. The start is the problem's fixed starting values.
    """
    names = [f.name for f in problem.free]
    published = np.array(
        [claim(t.claim_id).published.item(t.item).value for t in problem.targets], dtype=float
    )
    scale = np.array([target_scale(t) for t in problem.targets])

    def residuals(x: NDArray[np.float64]) -> NDArray[np.float64]:
        modelled = np.asarray(problem.model(dict(zip(names, map(float, x), strict=True))))
        result: NDArray[np.float64] = (modelled - published) / scale
        return result

    solution = least_squares(
        residuals,
        x0=np.array([f.start for f in problem.free]),
        bounds=(
            np.array([f.lower for f in problem.free]),
            np.array([f.upper for f in problem.free]),
        ),
        **_FIT_OPTIONS,
    )
    values = dict(zip(names, map(float, solution.x), strict=True))
    modelled = problem.model(values)
    targets = []
    for t, value in zip(problem.targets, modelled, strict=True):
        c = claim(t.claim_id)
        item = c.published.item(t.item)
        targets.append(
            TargetFit(
                label=t.label,
                claim_id=t.claim_id,
                item=t.item,
                published=item.value,
                unit=item.unit,
                model=float(value),
                passed=c.judge(float(value), item=t.item),
            )
        )
    return ProblemFit(
        problem=problem.name,
        values=values,
        targets=tuple(targets),
        calibrated_to=problem.claim_ids,
        cost=float(solution.cost),
        success=bool(solution.success),
        message=str(solution.message),
        evaluations=int(solution.nfev),
    )
