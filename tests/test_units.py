"""Unit conversion: every accepted unit converts with its documented factor; unknown ones are refused."""

import polars as pl
import pytest

from radiotrial.errors import InputError
from radiotrial.units import (
    LAB_CANONICAL,
    activity_to_gbq,
    convert_labs,
    lab_factor,
    length_to_mm,
    normalise_unit,
)


@pytest.mark.parametrize(
    ("analyte", "value", "unit", "expected"),
    [
        ("HGB", 12.0, "g/dL", 12.0),
        ("HGB", 120.0, "g/L", 12.0),
        ("HGB", 6.206, "mmol/L", 10.0),
        ("PLAT", 75.0, "10^9/L", 75.0),
        ("PLAT", 75.0, "10^3/uL", 75.0),
        ("PLAT", 75000.0, "/mm3", 75.0),
        ("NEUT", 1500.0, "cells/uL", 1.5),
        ("BILI", 1.0, "mg/dL", 17.104),
        ("BILI", 17.0, "umol/L", 17.0),
        ("CREAT", 1.0, "mg/dL", 88.42),
        ("ALT", 40.0, "IU/L", 40.0),
    ],
)
def test_each_lab_unit_converts_value_and_limits(analyte, value, unit, expected):
    df = pl.DataFrame({"analyte": [analyte], "value": [value], "unit": [unit],
                       "lln": [value], "uln": [2 * value]})
    out = convert_labs(df)
    assert out["value"][0] == pytest.approx(expected, rel=1e-12)
    assert out["lln"][0] == pytest.approx(expected, rel=1e-12)
    assert out["uln"][0] == pytest.approx(2 * expected, rel=1e-12)
    assert out["unit"][0] == LAB_CANONICAL[analyte]


def test_aliases_and_row_order_preserved():
    df = pl.DataFrame({"analyte": ["BILI", "HGB", "PLAT"], "value": [1.0, 100.0, 1.0],
                       "unit": ["µmol/L", "g/l", "10^3/µL"]})
    out = convert_labs(df)
    assert out["value"].to_list() == pytest.approx([1.0, 10.0, 1.0])
    assert normalise_unit(" G/L ") == "g/L"
    assert lab_factor("HGB", "furlong") is None


def test_unknown_unit_and_analyte_listed_with_file_row_column_value():
    df = pl.DataFrame({"analyte": ["HGB", "XYZ", "PLAT"], "value": [1.0, 2.0, 3.0],
                       "unit": ["g/dL", "g/dL", "mg"]})
    with pytest.raises(InputError) as info:
        convert_labs(df, file="lab.csv")
    problems = info.value.problems
    assert [(p.row, p.field, p.value) for p in problems] == [(3, "analyte", "XYZ"), (4, "unit", "mg")]
    assert "lab.csv, row 4, column 'unit' (value 'mg')" in str(info.value)


def test_activity_and_length():
    assert activity_to_gbq(1000.0, "MBq") == pytest.approx(1.0)
    assert activity_to_gbq(1.2, "GBq") == 1.2
    assert length_to_mm(2.5, "cm") == pytest.approx(25.0)
    with pytest.raises(InputError, match="mCi"):
        activity_to_gbq(27.0, "mCi")
