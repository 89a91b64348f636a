"""pandera validation of training data, summarised per column for the Dagster UI."""

from __future__ import annotations

import numpy as np
import pandas as pd

from governance_pipelines.config import DataConfig
from governance_pipelines.development.validation import (
    build_schema,
    validate_frame,
    violations_as_records,
)


def _data_config(**columns) -> DataConfig:
    return DataConfig.model_validate(
        {
            "source": {"kind": "file", "path": "x.csv"},
            "target": "default",
            "features": ["income", "region"],
            "sensitive_attributes": ["gender"],
            "columns": columns,
        }
    )


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "income": [50_000.0, 62_000.0, 48_500.0, 71_000.0],
            "region": ["north", "south", "north", "east"],
            "gender": ["f", "m", "f", "m"],
            "default": [0, 1, 0, 0],
        }
    )


def test_valid_data_passes() -> None:
    config = _data_config(
        income={"dtype": "float", "ge": 0}, default={"dtype": "int", "isin": [0, 1]}
    )
    report = validate_frame(_frame(), build_schema(config))
    assert report.passed
    assert report.summary == "all 4 rows satisfy the schema"


def test_violations_are_counted_per_column_and_check_with_examples() -> None:
    config = _data_config(
        income={"dtype": "float", "ge": 0, "le": 100_000},
        region={"dtype": "str", "isin": ["north", "south", "east"]},
        default={"dtype": "int", "isin": [0, 1]},
    )
    frame = _frame()
    frame.loc[[0, 2], "income"] = [-5.0, 250_000.0]
    frame.loc[1, "income"] = np.nan
    frame.loc[3, "region"] = "atlantis"
    report = validate_frame(frame, build_schema(config))
    assert not report.passed
    records = {(r["column"], r["check"]): r for r in violations_as_records(report)}
    assert records[("income", "greater_than_or_equal_to(0.0)")]["examples"] == ["-5.0"]
    assert records[("income", "less_than_or_equal_to(100000.0)")]["failures"] == 1
    assert records[("income", "null values")]["examples"] == ["null"]
    assert records[("region", "isin(['north', 'south', 'east'])")]["examples"] == ["atlantis"]
    assert "in 2 column(s): income, region" in report.summary


def test_declared_columns_must_exist_even_without_rules() -> None:
    report = validate_frame(
        _frame().drop(columns=["gender", "income"]), build_schema(_data_config())
    )
    assert {(v.column, v.check) for v in report.violations} == {
        ("gender", "column is missing"),
        ("income", "column is missing"),
    }


def test_wrong_dtype_and_strict_columns() -> None:
    config = DataConfig.model_validate(
        {
            "source": {"kind": "file", "path": "x.csv"},
            "target": "default",
            "features": ["income", "region"],
            "strict_columns": True,
            "columns": {"default": {"dtype": "int"}},
        }
    )
    frame = _frame()
    frame["default"] = frame["default"].astype(str)
    checks = {(v.column, v.check) for v in validate_frame(frame, build_schema(config)).violations}
    assert ("gender", "column not declared in the schema") in checks
    assert any(column == "default" and "dtype" in check for column, check in checks)


def test_uniqueness_and_patterns() -> None:
    config = _data_config(region={"unique": True, "str_matches": "^[a-z]+$"})
    frame = _frame()
    frame.loc[0, "region"] = "North-1"
    frame.loc[3, "region"] = "south"  # now "south" appears twice
    checks = {v.check for v in validate_frame(frame, build_schema(config)).violations}
    assert "duplicate values" in checks
    assert any(check.startswith("str_matches") for check in checks)


def test_a_declared_category_accepts_strings_from_every_source_kind(tmp_path) -> None:
    """CSV and parquet hand categories over as strings; the gate must not fail every row."""
    schema = build_schema(
        _data_config(region={"dtype": "category", "isin": ["north", "south", "east"]})
    )
    frame = _frame()
    frame.to_csv(tmp_path / "data.csv", index=False)
    frame.to_parquet(tmp_path / "data.parquet")
    for loaded in (
        frame,
        pd.read_csv(tmp_path / "data.csv"),
        pd.read_parquet(tmp_path / "data.parquet"),
        frame.astype({"region": "category"}),
    ):
        report = validate_frame(loaded, schema)
        assert report.passed, report.summary
    wrong = frame.assign(region=["north", "west", "north", "east"])
    assert not validate_frame(wrong, schema).passed  # the values are still checked


def test_an_all_null_feature_and_infinite_values_fail_the_gate() -> None:
    """An all-NaN feature used to train (imputed to a constant) and pass every gate."""
    schema = build_schema(_data_config())
    frame = _frame().assign(income=np.nan)
    report = validate_frame(frame, schema)
    assert not report.passed
    assert [(v.column, v.check) for v in report.violations] == [
        ("income", "the feature has no values (all null)")
    ]
    frame = _frame().assign(income=[1.0, np.inf, 3.0, -np.inf])
    (violation,) = validate_frame(frame, schema).violations
    assert (violation.column, violation.check, violation.failures) == (
        "income",
        "infinite value",
        2,
    )


def test_a_declared_sensitive_attribute_missing_from_the_data_is_named() -> None:
    report = validate_frame(_frame().drop(columns=["gender"]), build_schema(_data_config()))
    assert not report.passed
    assert [v.column for v in report.violations] == ["gender"]
