"""The parameter registry: every entry has unit, source and status, and bad entries are refused."""

from __future__ import annotations

from typing import Any

import pytest

from mgckd.exceptions import RegistryError
from mgckd.params import Status, is_citable, parameters, parse_entry


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


def test_no_parameter_is_fitted_before_a_calibration_program_exists() -> None:
    # `fitted` values may only come from `mgckd calibrate`, which does not exist yet.
    assert not parameters().select(status=Status.FITTED)


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
