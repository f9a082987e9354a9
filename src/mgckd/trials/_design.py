"""Trial design files (YAML): who is eligible, how they are randomized, what each arm gets, for
how long, what is measured and how it is analysed. Checked by pydantic; a mistake is a
`ScenarioError` naming the field (``endpoints.0.method``), the value and what is accepted.
The format is documented in docs/trials.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from mgckd.exceptions import ScenarioError
from mgckd.interventions import Intervention
from mgckd.populations import Treatment
from mgckd.populations._models import ModelName
from mgckd.simulate._file import _describe, read_yaml_mapping

Compare = Literal["follow_up", "change", "percent_change", "time_to_below", "event"]
Method = Literal["welch_t", "ancova", "median_difference", "logrank", "risk_ratio"]

METHODS_FOR: Mapping[str, tuple[str, ...]] = {
    "follow_up": ("welch_t", "ancova", "median_difference"),
    "change": ("welch_t", "median_difference"),
    "percent_change": ("welch_t", "median_difference"),
    "time_to_below": ("logrank",),
    "event": ("risk_ratio",),
}
"""The analyses each comparison allows."""

_Name = Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_\-]+$")]


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Criterion(_Strict):
    """One eligibility criterion on a characteristic or a baseline observable: give one of
    ``at_least`` (≥), ``below`` (<) or both, ``equals``, or ``one_of``."""

    at_least: float | None = None
    below: float | None = None
    equals: bool | str | None = None
    one_of: Annotated[list[str], Field(min_length=1)] | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Self:
        kinds = [
            self.at_least is not None or self.below is not None,
            self.equals is not None,
            self.one_of is not None,
        ]
        if sum(kinds) != 1:
            raise ValueError("give a range (at_least and/or below), equals, or one_of")
        if self.at_least is not None and self.below is not None and self.below <= self.at_least:
            raise ValueError(f"below {self.below} must be above at_least {self.at_least}")
        return self


class PopulationSpec(_Strict):
    """The preset patients are drawn from and who of them is eligible.

    Eligibility keys are characteristics of the preset (``egfr_ml_min_1_73m2``, ``diabetes``,
    ``ckd_stage``) or observables of the model at the patient's baseline steady state
    (``plasma_mg_total_mmol_l``; on hemodialysis the pre-dialysis sample of the long-run cycle),
    in their internal units. ``washout`` lists the patients' own treatments stopped before
    screening (`mgckd.populations.washout`).
    """

    preset: str
    eligibility: dict[str, Criterion] = {}
    washout: list[Treatment] = []


class ArmSpec(_Strict):
    """One arm: its allocation ratio, what its patients get on top of their own drugs, and (on
    hemodialysis) the dialysate Mg it changes them to (mmol/L; None: their own)."""

    name: _Name
    ratio: Annotated[int, Field(ge=1)] = 1
    interventions: list[Intervention] = []
    dialysate_mg_mmol_l: Annotated[float, Field(gt=0)] | None = None


class Quantity(_Strict):
    """A value with its unit."""

    value: float
    unit: str


class Published(_Strict):
    """What the real trial reported, for the coverage check."""

    estimate: float | None = None
    ci: tuple[float, float] | None = None
    arms: dict[str, float] = {}
    note: str = ""


class EndpointSpec(_Strict):
    """One endpoint and its analysis.

    Attributes
    ----------
    name : identifier in the outputs.
    measure : what is measured (`mgckd.trials.measures`).
    compare : ``follow_up``, ``change`` or ``percent_change`` (from baseline), ``time_to_below``
        a threshold, or ``event`` (an outcome drawn from a published effect of the measure).
    method : the analysis (`METHODS_FOR` lists those each comparison allows).
    unit : unit the values and estimates are reported in (default: the measure's).
    threshold : for ``time_to_below``.
    effect, control_risk, allow_outside_population : for ``event``: the `mgckd.outcomes`
        effect id; the reference category's risk over the trial when the effect publishes
        none; whether to apply it outside its population (flagged).
    primary : the endpoint power and the sample-size search are about (default: the first).
    published : the real trial's result.
    """

    name: _Name
    measure: str
    compare: Compare
    method: Method
    unit: str | None = None
    threshold: Quantity | None = None
    effect: str | None = None
    control_risk: Annotated[float, Field(gt=0, lt=1)] | None = None
    allow_outside_population: bool = False
    primary: bool = False
    published: Published | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.method not in METHODS_FOR[self.compare]:
            raise ValueError(
                f"method {self.method!r} does not analyse {self.compare!r}; use one of "
                f"{', '.join(METHODS_FOR[self.compare])}"
            )
        if (self.compare == "time_to_below") != (self.threshold is not None):
            raise ValueError("threshold is given for compare: time_to_below, and only then")
        if (self.compare == "event") != (self.effect is not None):
            raise ValueError("effect is given for compare: event, and only then")
        return self


class TrialDesign(_Strict):
    """A whole trial design file."""

    name: str
    description: str = ""
    claim: str | None = None
    model: ModelName = "magnesium"
    population: PopulationSpec
    n_patients: Annotated[int, Field(ge=4)]
    arms: Annotated[list[ArmSpec], Field(min_length=2, max_length=2)]
    block_size: Annotated[int, Field(ge=2)] | None = None
    duration_days: Annotated[float, Field(gt=0)]
    save_every_days: Annotated[float, Field(gt=0)] | None = None
    endpoints: Annotated[list[EndpointSpec], Field(min_length=1)]
    alpha: Annotated[float, Field(gt=0, lt=1)] = 0.05
    repeats: Annotated[int, Field(ge=2)] = 200
    pool_patients: Annotated[int, Field(ge=4)] | None = None
    seed: int = 0

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        names = [a.name for a in self.arms]
        if len(set(names)) != len(names):
            raise ValueError(f"arm names must differ, got {names}")
        endpoints = [e.name for e in self.endpoints]
        if len(set(endpoints)) != len(endpoints):
            raise ValueError(f"endpoint names must differ, got {endpoints}")
        if sum(e.primary for e in self.endpoints) > 1:
            raise ValueError("at most one endpoint is primary")
        if self.pool_patients is not None and self.pool_patients < self.n_patients:
            raise ValueError(
                f"pool_patients {self.pool_patients} must be at least n_patients "
                f"{self.n_patients} (each virtual trial draws its patients from the pool)"
            )
        if self.block_size is not None and self.block_size % self.ratio_sum:
            raise ValueError(
                f"block_size {self.block_size} must be a multiple of the ratios' sum "
                f"{self.ratio_sum}"
            )
        for endpoint in self.endpoints:
            unknown = set(endpoint.published.arms if endpoint.published else ()) - set(names)
            if unknown:
                raise ValueError(
                    f"endpoint {endpoint.name!r}: published arms {sorted(unknown)} are not arms"
                )
        return self

    @property
    def ratio_sum(self) -> int:
        """Sum of the arms' allocation ratios."""
        return sum(a.ratio for a in self.arms)

    @property
    def block(self) -> int:
        """Permuted-block size (default: twice the ratios' sum)."""
        return self.block_size or 2 * self.ratio_sum

    @property
    def primary(self) -> EndpointSpec:
        """The primary endpoint (the first when none is marked)."""
        return next((e for e in self.endpoints if e.primary), self.endpoints[0])


def parse_trial(data: Mapping[str, Any], *, source: str = "trial") -> TrialDesign:
    """Check a trial design given as plain data.

    Raises
    ------
    ScenarioError
        Naming each offending field, its value and what is accepted.
    """
    try:
        return TrialDesign.model_validate(data)
    except ValidationError as error:
        raise ScenarioError(f"{source}: {_describe(error)}") from None


def read_trial(path: str | Path) -> TrialDesign:
    """Read a YAML trial design file (`parse_trial` checks it)."""
    data = read_yaml_mapping(path, "a trial design is a mapping of fields (name, arms, ...)")
    return parse_trial(data, source=str(path))
