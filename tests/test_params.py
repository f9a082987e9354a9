"""The parameter registry: every entry has unit, source and status, and bad entries are refused."""

from __future__ import annotations

from typing import Any

import pytest

from mgckd.calibrate import check, fit, problems
from mgckd.exceptions import RegistryError
from mgckd.params import Status, is_citable, parameters, parse_entry
from mgckd.validate import Role, claim


def _entry(**overrides: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "value": 1.0,
        "unit": "mmol/L",
        "description": "a test value",
        "source": "S0-1",
        "status": "measured",
    }
    entry.update(overrides)
    return {k: v for k, v in entry.items() if v is not None}


def test_every_parameter_has_unit_source_and_status() -> None:
    registry = parameters()
    assert len(registry) > 50
    for p in registry.values():
        assert p.unit, p.name
        assert is_citable(p.source), p.name
        assert p.description, p.name
        assert isinstance(p.status, Status)
        p.quantity  # the unit parses  # noqa: B018


def test_fitted_parameters_name_calibration_targets_only() -> None:
    # `fitted` values come from `mgckd calibrate`, fitted to calibration claims only: a
    # validation claim that had been fitted to could no longer test the model.
    fitted = parameters().select(status=Status.FITTED)
    assert fitted
    for p in fitted.values():
        assert p.calibrated_to, p.name
        for claim_id in p.calibrated_to:
            assert claim(claim_id).role is Role.CALIBRATION, (p.name, claim_id)
    for p in parameters().values():
        if p.status is not Status.FITTED:
            assert not p.calibrated_to, p.name


def test_calibration_program_reproduces_the_shipped_values() -> None:
    # the shipped registry equals what `mgckd calibrate` produces (tolerance CHECK_TOLERANCE)
    fitted_names = set(parameters().select(status=Status.FITTED))
    produced: set[str] = set()
    for problem in problems().values():
        result = fit(problem)
        assert check(result) == [], problem.name
        produced |= set(result.values)
    assert produced == fitted_names  # nothing is fitted outside the calibration program


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"status": "fitted"}, "a fitted parameter needs calibrated_to"),
        ({"status": "fitted", "calibrated_to": []}, "non-empty list of claim ids"),
        ({"status": "fitted", "calibrated_to": ["nope"]}, "non-empty list of claim ids"),
        ({"calibrated_to": ["S0-22"]}, "calibrated_to is only for status 'fitted'"),
        ({"set": "Bad Name"}, "must be a set name"),
        ({"set": []}, "must be a set name"),
    ],
)
def test_fitted_and_set_fields_are_checked(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(RegistryError, match=message):
        parse_entry("x", _entry(**overrides), module="test")


def test_set_and_calibrated_to_are_read() -> None:
    entry = _entry(status="fitted", calibrated_to=["S0-22"], set=["phreeqc", "plasma"])
    p = parse_entry("x", entry, module="test")
    assert p.sets == ("phreeqc", "plasma")
    assert p.calibrated_to == ("S0-22",)
    assert p.to_dict()["calibrated_to"] == ["S0-22"]
    registry = parameters()
    assert {"phreeqc", "organic", "plasma"} <= set(registry.constant_sets)
    phreeqc = registry.select(constant_set="phreeqc")
    assert phreeqc
    assert all("phreeqc" in q.sets for q in phreeqc.values())


@pytest.mark.parametrize("field", ["value", "unit", "description", "source", "status"])
def test_missing_field_is_refused_by_name(field: str) -> None:
    with pytest.raises(RegistryError, match=f"'x'.*missing {field}"):
        parse_entry("x", _entry(**{field: None}), module="test")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"unit": "mmol/Q"}, "is not a unit"),
        (
            {"status": "guessed"},
            "status 'guessed' is not one of measured, derived, assumed, fitted",
        ),
        ({"source": "my head"}, "cites nothing checkable"),
        ({"value": "1.0"}, "is not a number"),
        ({"value": []}, "non-empty list"),
        ({"colour": "red"}, "unknown field"),
    ],
)
def test_malformed_entry_is_refused(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(RegistryError, match=message):
        parse_entry("x", _entry(**overrides), module="test")


@pytest.mark.parametrize(
    "source",
    [
        "S1-15",
        "doi:10.1056/NEJMoa2102953",
        "PMID: 123456",
        "PMC6551769",
        "https://x.org",
        "docs/labs.md#a",
    ],
)
def test_citable_sources(source: str) -> None:
    assert is_citable(source)


def test_vector_values_and_filters() -> None:
    registry = parameters()
    edges = registry["mg_hemodialysis_band_edges"]
    assert edges.value == (2.7, 3.1)
    with pytest.raises(TypeError, match="vector"):
        edges.to("mg/dL")
    labs = registry.select(module="labs")
    assert labs
    assert all(p.module == "labs" for p in labs.values())
    assert set(registry.modules) >= {"labs", "units"}
    with pytest.raises(KeyError, match="no parameter named 'nope'"):
        registry["nope"]
