"""Repeated virtual trials and the sample-size search."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mgckd.exceptions import UserInputError
from mgckd.trials._design import TrialDesign
from mgckd.trials._result import TrialResult, analyse
from mgckd.trials._simulate import simulate_trial

SEARCH_FACTOR = 4
"""Default largest trial the sample-size search tries: this many times the design's size."""


def run_trial(
    design: TrialDesign,
    *,
    repeats: int | None = None,
    n_patients: int | None = None,
    seed: int | None = None,
    pool_patients: int | None = None,
    skip_unavailable: bool = False,
) -> TrialResult:
    """Run `repeats` virtual trials of the design and analyse each as the real trial did.

    Parameters
    ----------
    design : the trial (`read_trial`).
    repeats, n_patients, seed, pool_patients : override the design's.
    skip_unavailable : leave out endpoints whose measure is not available yet (listed in the
        result's notes) instead of raising `NotAvailableError`.

    Returns
    -------
    TrialResult
    """
    chosen = _with_pool(design, pool_patients)
    return analyse(
        simulate_trial(
            chosen,
            repeats=repeats or design.repeats,
            n=n_patients or design.n_patients,
            seed=design.seed if seed is None else seed,
            skip_unavailable=skip_unavailable,
        )
    )


def _with_pool(design: TrialDesign, pool_patients: int | None) -> TrialDesign:
    """The design with another pool size (unchanged when None)."""
    if pool_patients is None:
        return design
    return design.model_copy(update={"pool_patients": pool_patients})


@dataclass(frozen=True, slots=True)
class SampleSize:
    """The smallest trial (patients) whose primary endpoint reaches the target power.

    Attributes
    ----------
    n_patients : the size found (None when even `n_max` falls short).
    power : its power.
    target_power, n_max, repeats, seed : the search's settings.
    evaluations : (n, power) pairs the bisection looked at, in order.
    """

    n_patients: int | None
    power: float
    target_power: float
    n_max: int
    repeats: int
    seed: int
    evaluations: tuple[tuple[int, float], ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "n_patients": self.n_patients,
            "power": self.power,
            "target_power": self.target_power,
            "n_max": self.n_max,
            "repeats": self.repeats,
            "seed": self.seed,
            "evaluations": [list(e) for e in self.evaluations],
        }


def sample_size(
    design: TrialDesign,
    *,
    target_power: float = 0.8,
    n_max: int | None = None,
    repeats: int | None = None,
    seed: int | None = None,
    pool_patients: int | None = None,
    skip_unavailable: bool = False,
) -> SampleSize:
    """Bisection over the number of patients for the target power of the primary endpoint.

    One simulation of `n_max` patients per repeat; a trial of n patients is the first n
    enrolled of each repeat (permuted blocks keep the arms balanced), so every n is analysed on
    the same virtual patients (common random numbers) and the search is reproducible with its
    seed. With a pool (`pool_patients`), `n_max` defaults to at most the pool. Power estimated
    from finite repeats is not exactly monotone in n; bisection returns a size where it crosses
    the target.
    """
    if not 0 < target_power < 1:
        raise UserInputError(f"target power {target_power!r} must lie between 0 and 1")
    design = _with_pool(design, pool_patients)
    default = SEARCH_FACTOR * design.n_patients
    largest = n_max or min(default, design.pool_patients or default)
    smallest = design.block
    if largest <= smallest:
        raise UserInputError(f"n_max {largest} must exceed the block size {smallest}")
    runs = repeats or design.repeats
    used_seed = design.seed if seed is None else seed
    data = simulate_trial(
        design, repeats=runs, n=largest, seed=used_seed, skip_unavailable=skip_unavailable
    )
    evaluations: list[tuple[int, float]] = []

    def power(n: int) -> float:
        value = analyse(data, n).power
        evaluations.append((n, value))
        return value

    top = power(largest)
    if top < target_power:
        return SampleSize(None, top, target_power, largest, runs, used_seed, tuple(evaluations))
    low, high, high_power = smallest, largest, top
    while high - low > 1:
        middle = (low + high) // 2
        value = power(middle)
        if value >= target_power:
            high, high_power = middle, value
        else:
            low = middle
    return SampleSize(high, high_power, target_power, largest, runs, used_seed, tuple(evaluations))
