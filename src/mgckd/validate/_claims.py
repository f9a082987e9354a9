"""The claims registry (``claims.yaml``): every published number or mechanism mgckd answers to.

Each entry becomes a frozen `Claim`. `parse_claim` checks one entry and names the claim id and the
field when something is wrong; `claims` loads the packaged file once per process.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Annotated, Any, Literal, Self

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from mgckd.exceptions import RegistryError

CLAIM_ID_PATTERN = r"^(S[01]-\d+|L-[a-z0-9-]+)$"
"""Seed claims ``S0-<n>`` / ``S1-<n>`` (ids of CLAIMS.md), later literature targets ``L-<slug>``."""

_PACKAGE = "mgckd.validate"
_CLAIMS_FILE = "claims.yaml"
_EXACT_REL_TOL = 1e-9
"""`exact` compares after unit conversion, so only floating-point round-off may differ."""

_Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class Kind(StrEnum):
    """What a claim asks of the software (the Kind column of CLAIMS.md)."""

    QUANTITATIVE = "Q"
    MECHANISM = "M"
    DEFINITION = "D"


class Role(StrEnum):
    """calibration: the calibration program may fit to it; validation: predicted, never fitted."""

    CALIBRATION = "calibration"
    VALIDATION = "validation"


class Layer(StrEnum):
    """The module that will carry a claim's check (``validate/checks_<layer>.py``)."""

    LABS = "labs"
    CHEMISTRY = "chemistry"
    CPP = "cpp"
    PHYSIOLOGY = "physiology"
    DIALYSIS = "dialysis"
    CALCIFICATION = "calcification"
    OUTCOMES = "outcomes"
    POPULATIONS = "populations"
    TRIALS = "trials"
    EVIDENCE = "evidence"


class ToleranceKind(StrEnum):
    """How a model value is judged against a published value; see `Tolerance.judge`."""

    CI = "ci"
    ABS = "abs"
    REL = "rel"
    DIRECTION = "direction"
    EXACT = "exact"


_TOLERANCES_FOR_KIND: dict[Kind, frozenset[ToleranceKind]] = {
    Kind.QUANTITATIVE: frozenset(
        {ToleranceKind.CI, ToleranceKind.ABS, ToleranceKind.REL, ToleranceKind.DIRECTION}
    ),
    Kind.MECHANISM: frozenset({ToleranceKind.DIRECTION, ToleranceKind.EXACT}),
    Kind.DEFINITION: frozenset({ToleranceKind.DIRECTION, ToleranceKind.EXACT}),
}
_SIZED_TOLERANCES = frozenset({ToleranceKind.ABS, ToleranceKind.REL})
_DIRECTION_ONLY = frozenset({ToleranceKind.DIRECTION})


def _field_error(field: str, reason: str) -> PydanticCustomError:
    """A validation error that names the offending field (read back by `_describe`)."""
    return PydanticCustomError("claim_field", "{reason}", {"field": field, "reason": reason})


def _number(value: float) -> str:
    return f"{value:g}"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PublishedValue(_Frozen):
    """One published number: a point estimate with unit and, where published, its 95 % CI.

    Attributes
    ----------
    name : what the number is; required when a claim publishes several.
    value : the point estimate (or threshold, for definitions).
    unit : a unit string (``"1"`` for ratios such as HR and OR).
    ci : the 95 % confidence interval ``(low, high)``, if published.
    comparator : for thresholds, how a value is compared with it (``"<"``: below the threshold).
    note : provenance or caveats (unconfirmed, derived, read off a table).
    """

    name: _Text | None = None
    value: float
    unit: _Text
    ci: tuple[float, float] | None = None
    comparator: Literal["<", "<=", ">", ">="] | None = None
    note: _Text | None = None

    @model_validator(mode="after")
    def _ci_contains_value(self) -> Self:
        if self.ci is not None and not self.ci[0] <= self.value <= self.ci[1]:
            raise _field_error("ci", f"{list(self.ci)} does not contain the value {self.value}")
        return self

    def render(self) -> str:
        """Short text, e.g. ``adjusted HR: 2.12 (95 % CI 1.28–3.51)``."""
        unit = "" if self.unit == "1" else f" {self.unit}"
        text = f"{self.comparator or ''} {_number(self.value)}{unit}".strip()
        if self.ci is not None:
            text += f" (95 % CI {_number(self.ci[0])}–{_number(self.ci[1])})"
        return f"{self.name}: {text}" if self.name else text


class Published(_Frozen):
    """What the source published: numbers, an expected direction (mechanisms), or both.

    In YAML a single mapping with ``value`` or a list of such mappings is accepted as shorthand for
    ``{values: [...]}``.
    """

    values: tuple[PublishedValue, ...] = ()
    expected: _Text | None = None
    note: _Text | None = None

    @model_validator(mode="before")
    @classmethod
    def _accept_shorthand(cls, data: Any) -> Any:
        if isinstance(data, list):
            return {"values": data}
        if isinstance(data, Mapping) and "value" in data:
            return {"values": [data]}
        return data

    @model_validator(mode="after")
    def _values_named(self) -> Self:
        if not self.values and self.expected is None:
            raise _field_error("values", "give published values, an expected direction, or both")
        names = [value.name for value in self.values]
        if len(self.values) > 1 and (None in names or len(set(names)) != len(names)):
            raise _field_error("values", "several published values need distinct names")
        return self

    def item(self, name: str | None = None) -> PublishedValue:
        """The published value called `name`, or the only one when `name` is None."""
        if name is None and len(self.values) == 1:
            return self.values[0]
        for value in self.values:
            if value.name == name:
                return value
        known = ", ".join(repr(value.name) for value in self.values) or "none"
        raise KeyError(f"no published value named {name!r}; published values: {known}")

    def render(self, *, expected_first: bool = False) -> str:
        """Short text: the published values, or the expected direction when there are none.

        With `expected_first` (mechanisms) the expected direction is shown whenever there is one.
        """
        if self.expected is not None and (expected_first or not self.values):
            return f"expected: {self.expected}"
        return "; ".join(value.render() for value in self.values)


class Tolerance(_Frozen):
    """How a model value is judged against the published value, and why so.

    Attributes
    ----------
    kind : ``ci`` inside the published 95 % CI; ``abs`` / ``rel`` within `value` of the published
        value (``rel`` as a fraction of it); ``direction`` same sign as expected; ``exact`` equal
        up to floating-point round-off (definitions).
    value : the allowed deviation for ``abs`` (in the published unit) and ``rel``; None otherwise.
    why : the reason for this kind and size.
    """

    kind: ToleranceKind
    value: float | None = None
    why: _Text

    @model_validator(mode="after")
    def _value_fits_kind(self) -> Self:
        if self.kind in _SIZED_TOLERANCES and (self.value is None or self.value <= 0):
            raise _field_error("value", f"a {self.kind} tolerance needs a positive value")
        if self.kind not in _SIZED_TOLERANCES and self.value is not None:
            raise _field_error("value", f"a {self.kind} tolerance takes no value")
        return self

    def judge(
        self, model: float, target: PublishedValue | None = None, *, sign: int | None = None
    ) -> bool:
        """True when `model` meets the tolerance against `target`.

        Parameters
        ----------
        model : the value the model produced, in the unit of `target`.
        target : the published value; needed by every kind except ``direction`` with `sign`.
        sign : for ``direction``, the expected sign of `model` (+1 or -1), supplied by the check;
            defaults to the sign of the published value. NaN never passes.
        """
        if self.kind is ToleranceKind.DIRECTION:
            return model * _expected_sign(target, sign) > 0
        if target is None:
            raise ValueError(f"a {self.kind} tolerance needs the published value to judge against")
        if self.kind is ToleranceKind.CI:
            if target.ci is None:
                raise ValueError(f"published value {target.name!r} has no CI to judge against")
            return target.ci[0] <= model <= target.ci[1]
        if self.kind is ToleranceKind.EXACT:
            return math.isclose(model, target.value, rel_tol=_EXACT_REL_TOL)
        allowed = self._size() * (abs(target.value) if self.kind is ToleranceKind.REL else 1.0)
        return abs(model - target.value) <= allowed

    def _size(self) -> float:
        if self.value is None:
            raise ValueError(f"a {self.kind} tolerance has no size")
        return self.value


def _expected_sign(target: PublishedValue | None, sign: int | None) -> int:
    if sign is not None:
        if sign not in (-1, 1):
            raise ValueError(f"sign must be +1 or -1, not {sign!r}")
        return sign
    if target is None or target.value == 0:
        raise ValueError("a direction tolerance needs a sign, or a non-zero published value")
    return 1 if target.value > 0 else -1


class Claim(_Frozen):
    """One entry of the claims registry; field meanings in docs/registries/claims.md."""

    id: Annotated[str, Field(pattern=CLAIM_ID_PATTERN)]
    kind: Kind
    statement: _Text
    source: _Text
    published: Published
    tolerance: Tolerance
    role: Role
    required: StrictBool
    answered_by: Layer
    pending_reason: _Text | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        tolerance, published = self.tolerance.kind, self.published
        if tolerance not in _TOLERANCES_FOR_KIND[self.kind]:
            allowed = ", ".join(sorted(_TOLERANCES_FOR_KIND[self.kind]))
            raise _field_error(
                "tolerance.kind", f"{tolerance} is not allowed for kind {self.kind} ({allowed})"
            )
        if tolerance not in _DIRECTION_ONLY and not published.values:
            raise _field_error("published.values", f"a {tolerance} tolerance needs values")
        if tolerance is ToleranceKind.CI and all(value.ci is None for value in published.values):
            raise _field_error("published.values", "a ci tolerance needs a value with a ci")
        if self.kind is Kind.QUANTITATIVE and not published.values and published.note is None:
            raise _field_error("published.note", "a Q claim without values must say why")
        if self.kind is Kind.MECHANISM and published.expected is None:
            raise _field_error("published.expected", "a mechanism needs its expected direction")
        if self.kind is Kind.DEFINITION and not published.values:
            raise _field_error("published.values", "a definition needs its values")
        if self.role is Role.CALIBRATION and self.kind is not Kind.QUANTITATIVE:
            raise _field_error("role", "only Q claims can be calibration targets")
        return self

    def render_published(self) -> str:
        """Short text of what was published: the expected direction for a mechanism, else values."""
        return self.published.render(expected_first=self.kind is Kind.MECHANISM)

    def judge(self, model: float, *, item: str | None = None, sign: int | None = None) -> bool:
        """Judge `model` with this claim's tolerance against its published value `item`.

        `item` names one of several published values; `sign` is for ``direction`` (see
        `Tolerance.judge`).
        """
        target = self.published.item(item) if self.published.values else None
        return self.tolerance.judge(model, target, sign=sign)


def _describe(error: ValidationError) -> str:
    """``field: message`` for each problem pydantic found, the field as a dotted path."""
    problems = []
    for problem in error.errors():
        path = [str(part) for part in problem["loc"]]
        extra = problem.get("ctx", {}).get("field")
        if extra:
            path.append(str(extra))
        problems.append(f"field {'.'.join(path) or '(entry)'!r}: {problem['msg']}")
    return "; ".join(problems)


def parse_claim(entry: Mapping[str, Any]) -> Claim:
    """Check one ``claims.yaml`` entry and return it as a `Claim`.

    Raises
    ------
    RegistryError
        Naming the claim id and each offending field.
    """
    claim_id = entry.get("id", "<no id>") if isinstance(entry, Mapping) else "<not a mapping>"
    try:
        return Claim.model_validate(entry)
    except ValidationError as error:
        raise RegistryError(f"{_CLAIMS_FILE}: claim {claim_id!r}: {_describe(error)}") from None


def parse_claims(entries: object) -> tuple[Claim, ...]:
    """Check a whole registry (the parsed YAML list); ids must be unique."""
    if not isinstance(entries, list):
        raise RegistryError(f"{_CLAIMS_FILE}: the top level must be a list of claims")
    parsed = tuple(parse_claim(entry) for entry in entries)
    seen: set[str] = set()
    for claim in parsed:
        if claim.id in seen:
            raise RegistryError(f"{_CLAIMS_FILE}: claim {claim.id!r}: field 'id': duplicate id")
        seen.add(claim.id)
    return parsed


@cache
def claims() -> tuple[Claim, ...]:
    """Every registered claim, in file order, loaded and checked once per process."""
    text = resources.files(_PACKAGE).joinpath(_CLAIMS_FILE).read_text(encoding="utf-8")
    try:
        entries = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise RegistryError(f"{_CLAIMS_FILE} is not valid YAML: {error}") from None
    return parse_claims(entries)


def claim(claim_id: str) -> Claim:
    """The registered claim with id `claim_id`; KeyError names the id when there is none."""
    for candidate in claims():
        if candidate.id == claim_id:
            return candidate
    raise KeyError(f"no claim {claim_id!r} in {_CLAIMS_FILE}")
