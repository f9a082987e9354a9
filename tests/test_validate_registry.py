"""The claims registry (claims.yaml) and the check registry."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from mgckd.exceptions import RegistryError
from mgckd.validate import (
    CheckResult,
    Kind,
    PublishedValue,
    Role,
    Tolerance,
    Verdict,
    _checks,
    check,
    claim,
    claims,
    parse_claim,
)
from mgckd.validate._claims import CLAIM_ID_PATTERN, parse_claims

CLAIMS_MD = Path(__file__).resolve().parents[1].parent / "shared" / "seeds" / "CLAIMS.md"

SEED_IDS = [
    "S0-1", "S0-2", "S0-3", "S0-4", "S0-5", "S0-6", "S0-7", "S0-8", "S0-9", "S0-10",
    "S0-11", "S0-12", "S0-13", "S0-14", "S0-15", "S0-16", "S0-17", "S0-18", "S0-19", "S0-20",
    "S0-21", "S0-22", "S0-23",
    "S1-1", "S1-2", "S1-3", "S1-4", "S1-5", "S1-6", "S1-7", "S1-8", "S1-9", "S1-10",
    "S1-11", "S1-12", "S1-13", "S1-14", "S1-15", "S1-16", "S1-17",
]  # fmt: skip
CALIBRATION_IDS = {
    "S0-10",
    "S0-16",
    "S0-22",
    "L-normal-plasma-ionized-calcium",
    "L-normal-plasma-ionized-magnesium",
    "L-eelderink-2020-t50-general-population",
    "L-bundy-2019-t50-ckd",
    "L-lorenz-2017-t50-hemodialysis",
    "L-hd-cohorts-predialysis-mg",
    "L-elias-2018-predialysis-phosphate",
    "L-sakaguchi-2019-ckd-serum-mg",
    "L-tschirner-ckd-calcium-normal",
}
REQUIRED_IDS = {"S0-1", "S1-15"}


def _ids() -> list[str]:
    return [c.id for c in claims()]


# --- the shipped registry ----------------------------------------------------------------------


def test_every_seed_claim_is_registered_exactly_once() -> None:
    assert len(SEED_IDS) == 40
    ids = _ids()
    assert [claim_id for claim_id in SEED_IDS if ids.count(claim_id) != 1] == []
    assert len(ids) == len(set(ids))


def test_registry_matches_claims_md_ids_and_kinds() -> None:
    if not CLAIMS_MD.exists():
        pytest.skip(f"{CLAIMS_MD} not present in this checkout")
    table = CLAIMS_MD.read_text(encoding="utf-8")
    kinds = dict(re.findall(r"^\| (S[01]-\d+) \| ([QMD]) \|", table, re.MULTILINE))
    assert set(kinds) == set(SEED_IDS)
    assert {c.id: str(c.kind) for c in claims() if c.id in kinds} == kinds


def test_ids_match_the_pattern() -> None:
    assert all(re.fullmatch(CLAIM_ID_PATTERN, claim_id) for claim_id in _ids())


def test_quantitative_claims_have_published_and_a_reasoned_tolerance() -> None:
    for c in claims():
        if c.kind is Kind.QUANTITATIVE:
            assert c.published.values or c.published.note, c.id
            assert c.tolerance.why.strip(), c.id


def test_mechanisms_state_the_expected_direction() -> None:
    for c in claims():
        if c.kind is Kind.MECHANISM:
            assert c.published.expected, c.id
            assert c.render_published().startswith("expected: "), c.id


def test_calibration_role_only_on_the_calibration_targets() -> None:
    assert {c.id for c in claims() if c.role is Role.CALIBRATION} == CALIBRATION_IDS


def test_required_only_on_the_foundation_definitions() -> None:
    assert {c.id for c in claims() if c.required} == REQUIRED_IDS


def test_every_claim_says_why_it_is_pending() -> None:
    assert [c.id for c in claims() if not c.pending_reason] == []


def test_claims_are_loaded_once_and_frozen() -> None:
    assert claims() is claims()
    with pytest.raises(ValidationError):
        claims()[0].id = "S0-99"  # type: ignore[misc]


def test_published_text_shows_value_and_ci() -> None:
    assert claim("S0-5").render_published() == (
        "adjusted HR for ESKD, serum Mg ≤ 1.8 vs > 1.8 mg/dL: 2.12 (95 % CI 1.28–3.51)"
    )
    assert claim("S0-1").published.item().comparator == "<"


def test_unknown_claim_lookup_names_the_id() -> None:
    with pytest.raises(KeyError, match="S9-1"):
        claim("S9-1")


# --- the validator on malformed entries --------------------------------------------------------


def _entry(claim_id: str = "S0-5") -> dict[str, Any]:
    return claim(claim_id).model_dump(mode="json")


def _drop_why(entry: dict[str, Any]) -> None:
    del entry["tolerance"]["why"]


def _drop_published(entry: dict[str, Any]) -> None:
    del entry["published"]


def _bad_role(entry: dict[str, Any]) -> None:
    entry["role"] = "fitted"


def _ci_without_value(entry: dict[str, Any]) -> None:
    entry["published"]["values"][0]["ci"] = [3.0, 4.0]


def _abs_without_size(entry: dict[str, Any]) -> None:
    entry["tolerance"] = {"kind": "abs", "why": "no size given"}


def _typo_field(entry: dict[str, Any]) -> None:
    entry["statment"] = entry.pop("statement")


def _required_as_text(entry: dict[str, Any]) -> None:
    entry["required"] = "yes"


def _ci_for_definition(entry: dict[str, Any]) -> None:
    entry["kind"] = "D"
    entry["tolerance"] = {"kind": "ci", "why": "a CI"}


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (_drop_why, "tolerance.why"),
        (_drop_published, "published"),
        (_bad_role, "role"),
        (_ci_without_value, "published.values.0.ci"),
        (_abs_without_size, "tolerance.value"),
        (_typo_field, "statment"),
        (_required_as_text, "required"),
        (_ci_for_definition, "tolerance.kind"),
    ],
)
def test_malformed_entry_names_claim_and_field(mutate: Any, field: str) -> None:
    entry = _entry()
    mutate(entry)
    with pytest.raises(RegistryError, match="'S0-5'") as raised:
        parse_claim(entry)
    assert f"field '{field}'" in str(raised.value)


def test_bad_id_is_rejected() -> None:
    entry = _entry()
    entry["id"] = "S2-1"
    with pytest.raises(RegistryError, match=r"'S2-1'.*field 'id'"):
        parse_claim(entry)


def test_mechanism_without_expected_direction_is_rejected() -> None:
    entry = _entry("S0-9")
    entry["published"] = {"values": [{"value": 1.0, "unit": "1"}]}
    with pytest.raises(RegistryError, match=r"'S0-9'.*field 'published.expected'"):
        parse_claim(entry)


def test_calibration_only_for_quantitative_claims() -> None:
    entry = _entry("S0-9")
    entry["role"] = "calibration"
    with pytest.raises(RegistryError, match=r"'S0-9'.*field 'role'"):
        parse_claim(entry)


def test_duplicate_ids_are_rejected() -> None:
    with pytest.raises(RegistryError, match=r"'S0-5'.*duplicate"):
        parse_claims([_entry(), _entry()])


def test_top_level_must_be_a_list() -> None:
    with pytest.raises(RegistryError, match="list"):
        parse_claims({"S0-5": _entry()})


def test_short_yaml_forms_of_published() -> None:
    entry = _entry()
    entry["published"] = {"value": 2.12, "unit": "1", "ci": [1.28, 3.51]}
    assert parse_claim(entry).published.item().ci == (1.28, 3.51)


# --- tolerances --------------------------------------------------------------------------------

HR = PublishedValue(value=2.12, unit="1", ci=(1.28, 3.51))


@pytest.mark.parametrize(
    ("tolerance", "model", "expected"),
    [
        (Tolerance(kind="ci", why="w"), 3.5, True),
        (Tolerance(kind="ci", why="w"), 3.6, False),
        (Tolerance(kind="abs", value=0.1, why="w"), 2.2, True),
        (Tolerance(kind="abs", value=0.1, why="w"), 2.3, False),
        (Tolerance(kind="rel", value=0.1, why="w"), 2.3, True),
        (Tolerance(kind="rel", value=0.1, why="w"), 2.4, False),
        (Tolerance(kind="exact", why="w"), 2.12, True),
        (Tolerance(kind="exact", why="w"), 2.13, False),
        (Tolerance(kind="direction", why="w"), 0.5, True),
        (Tolerance(kind="direction", why="w"), -0.5, False),
        (Tolerance(kind="ci", why="w"), math.nan, False),
        (Tolerance(kind="abs", value=0.1, why="w"), math.nan, False),
    ],
)
def test_tolerance_judges_against_the_published_value(
    tolerance: Tolerance, model: float, expected: bool
) -> None:
    assert tolerance.judge(model, HR) is expected


def test_direction_sign_comes_from_the_check() -> None:
    direction = Tolerance(kind="direction", why="w")
    assert direction.judge(-3.0, sign=-1)
    assert not direction.judge(3.0, sign=-1)
    with pytest.raises(ValueError, match="sign"):
        direction.judge(1.0)


def test_claim_judges_a_named_published_value() -> None:
    mortality_band = claim("S0-18")
    assert mortality_band.judge(2.9, item="serum Mg of lowest 1-year mortality")
    assert not claim("S0-10").judge(20.0, item="median % change in CAC score over 2 years, MgO")
    with pytest.raises(KeyError, match="no published value"):
        claim("S0-10").judge(11.3)


# --- the check registry ------------------------------------------------------------------------


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> dict[str, _checks.CheckFunction]:
    """The real checks plus whatever the test registers; restored afterwards."""
    copy = dict(_checks.discover_checks())
    monkeypatch.setattr(_checks, "_registry", copy)
    return copy


def _passing() -> CheckResult:
    return CheckResult(model=1.0, verdict=Verdict.PASS, detail="ok")


def test_check_decorator_registers_and_returns_the_function(
    registry: dict[str, _checks.CheckFunction],
) -> None:
    registry.pop("S1-17", None)
    assert check("S1-17")(_passing) is _passing
    assert _checks.discover_checks()["S1-17"] is _passing


def test_two_checks_for_one_claim_are_rejected(
    registry: dict[str, _checks.CheckFunction],
) -> None:
    registry.pop("S1-17", None)
    check("S1-17")(_passing)

    def other() -> CheckResult:
        return _passing()

    with pytest.raises(RegistryError, match="S1-17"):
        check("S1-17")(other)
