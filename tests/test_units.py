"""Clinical unit conversion: known values, valence, round-trips, vectorization, clear errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mgckd.exceptions import UnitError, UserInputError
from mgckd.units import analyte, analytes, convert, parse_value, to_internal


@pytest.mark.parametrize(
    ("analyte_name", "value", "from_unit", "to_unit", "expected"),
    [
        # Published clinical factors (ecosystem notes, pint run): 1 mg/dL Mg = 0.4114 mmol/L.
        ("magnesium", 2.43, "mg/dL", "mmol/L", 0.99979),
        ("magnesium", 2.43, "mg/dL", "mEq/L", 1.99959),
        ("magnesium", 2.1, "mg/dL", "mmol/L", 0.864020),
        ("magnesium", 1.0, "mmol/L", "mEq/L", 2.0),
        ("magnesium", 1.0, "mEq/L", "mmol/L", 0.5),
        ("calcium", 9.5, "mg/dL", "mmol/L", 2.370378),
        ("calcium", 2.5, "mmol/L", "mEq/L", 5.0),
        ("phosphate", 4.5, "mg/dL", "mmol/L", 1.452831),
        ("creatinine", 1.0, "mg/dL", "umol/L", 88.4017),
        ("creatinine", 88.4, "µmol/L", "mg/dL", 0.99998),
        ("creatinine", 88.4, "μmol/L", "mg/dL", 0.99998),
        ("pth", 300.0, "pg/mL", "pmol/L", 31.830),
        ("pth", 300.0, "ng/L", "pg/mL", 300.0),
        ("albumin", 4.0, "g/dL", "g/L", 40.0),
        ("sodium", 140.0, "mEq/L", "mmol/L", 140.0),
        ("bicarbonate", 24.0, "meq/L", "mmol/L", 24.0),
        ("urine_acr", 30.0, "mg/g", "mg/mmol", 3.3936),
        ("ph", 7.4, "pH", "pH", 7.4),
    ],
)
def test_known_conversions(
    analyte_name: str, value: float, from_unit: str, to_unit: str, expected: float
) -> None:
    assert convert(value, from_unit, to_unit, analyte=analyte_name) == pytest.approx(
        expected, rel=1e-5
    )


def test_valence_distinguishes_divalent_from_monovalent() -> None:
    assert convert(1.0, "mEq/L", "mmol/L", analyte="magnesium") == pytest.approx(0.5)
    assert convert(1.0, "mEq/L", "mmol/L", analyte="potassium") == pytest.approx(1.0)


def test_vectorized_over_arrays() -> None:
    values = np.array([[1.8, 2.43], [3.1, 0.0]])
    result = convert(values, "mg/dL", "mmol/L", analyte="magnesium")
    assert isinstance(result, np.ndarray)
    assert result.shape == (2, 2)
    np.testing.assert_allclose(result, values / 2.4305)


def test_scalar_stays_scalar() -> None:
    assert isinstance(convert(2.0, "mg/dL", "mmol/L", analyte="magnesium"), float)


def test_aliases_and_loinc_name_the_same_analyte() -> None:
    assert analyte("Mg") is analyte("magnesium") is analyte("19123-9") is analyte("2601-3")


def test_every_analyte_converts_between_all_its_units() -> None:
    for a in analytes().values():
        for unit in a.units:
            back = convert(
                to_internal(1.0, unit, analyte=a.name), a.internal_unit, unit, analyte=a.name
            )
            assert back == pytest.approx(1.0, rel=1e-12), (a.name, unit)


@pytest.mark.parametrize(
    ("analyte_name", "unit", "message"),
    [
        ("magnesium", "mg/g", "magnesium: unit 'mg/g' does not fit"),
        ("magnesium", "bananas/L", "magnesium: unit 'bananas/L' is not a unit"),
        ("phosphate", "mEq/L", "phosphate: unit 'mEq/L' has no single meaning"),
        ("albumin", "mmol/L", "albumin: unit 'mmol/L' does not fit"),
        ("ph", "mmol/L", "ph: unit 'mmol/L' does not fit pH"),
    ],
)
def test_unit_that_does_not_fit_names_analyte_and_accepted_units(
    analyte_name: str, unit: str, message: str
) -> None:
    with pytest.raises(UnitError, match="accepted units") as caught:
        to_internal(1.0, unit, analyte=analyte_name)
    assert message in str(caught.value)
    for accepted in analyte(analyte_name).units:
        assert accepted in str(caught.value)


def test_unknown_analyte_lists_known_ones() -> None:
    with pytest.raises(UserInputError, match=r"unknown analyte 'unobtainium'.*magnesium"):
        analyte("unobtainium")


def test_parse_value() -> None:
    assert parse_value("2.1 mmol/L") == (2.1, "mmol/L")
    assert parse_value(" -0.5e1mg/dL ") == (-5.0, "mg/dL")
    assert parse_value("7.4") == (7.4, "")
    with pytest.raises(UserInputError, match="not a number followed by a unit"):
        parse_value("mg/dL 2.1")


_UNIT_PAIRS = [(a.name, u, v) for a in analytes().values() for u in a.units for v in a.units]


@given(
    pair=st.sampled_from(_UNIT_PAIRS),
    value=st.floats(min_value=1e-6, max_value=1e6, allow_nan=False, allow_infinity=False),
)
def test_round_trip_is_exact_to_1e_12(pair: tuple[str, str, str], value: float) -> None:
    name, first, second = pair
    there = convert(value, first, second, analyte=name)
    back = convert(there, second, first, analyte=name)
    assert back == pytest.approx(value, rel=1e-12)
