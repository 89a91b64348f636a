"""Data validation with pandera: the schema a model's training data must satisfy.

The schema is declared per model in `governance.yaml` (`data.columns`), and every
declared feature, the target, the time column and sensitive attributes must be present
even when a user declares no column rules. Violations are summarised per column and
check with counts and examples, so the Dagster UI shows what is wrong at a glance.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa

from governance_pipelines.config import ColumnSchema, DataConfig

_DTYPES: dict[str, Any] = {
    "int": "int64",
    "float": "float64",
    "str": str,
    "bool": bool,
    "datetime": "datetime64[ns]",
    "category": "category",
}
_EXAMPLES_PER_CHECK = 5


@dataclass(frozen=True)
class ColumnViolation:
    column: str
    check: str
    failures: int
    examples: list[str]


@dataclass(frozen=True)
class ValidationReport:
    passed: bool
    rows: int
    failure_count: int
    violations: list[ColumnViolation] = field(default_factory=list)

    @property
    def summary(self) -> str:
        if self.passed:
            return f"all {self.rows} rows satisfy the schema"
        columns = sorted({v.column for v in self.violations})
        return (
            f"{self.failure_count} violation(s) in {len(columns)} column(s): {', '.join(columns)}; "
            "fix the source data or the schema in governance.yaml (data.columns)"
        )


def required_columns(data: DataConfig) -> list[str]:
    names = [*data.features, data.target, *data.sensitive_attributes]
    if data.time_column:
        names.append(data.time_column)
    return list(dict.fromkeys(names))


def build_schema(data: DataConfig) -> pa.DataFrameSchema:
    """The pandera schema for a model's training data, from its declared column rules.

    Every feature also must have values and no infinities, declared rules or not: an
    all-null feature used to train (imputed to a constant) and pass every gate.
    """
    undeclared = ColumnSchema(nullable=True)
    features = set(data.features)
    columns: dict[str, pa.Column] = {
        name: _column(name, data.columns.get(name, undeclared), feature=name in features)
        for name in required_columns(data)
    }
    for name, rules in data.columns.items():
        if name not in columns:
            columns[name] = _column(name, rules, feature=False)
    return pa.DataFrameSchema(columns, strict=data.strict_columns, name="training_data")


def _has_values(values: pd.Series) -> bool:
    return bool(values.notna().any())


def _finite(values: pd.Series) -> pd.Series | bool:
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return ~np.isinf(values.astype(float))
    return True


_FEATURE_CHECKS = (
    pa.Check(_has_values, name="has_values", error="the feature has no values (all null)"),
    pa.Check(_finite, name="finite", error="infinite value"),
)


def _column(name: str, rules: ColumnSchema, *, feature: bool) -> pa.Column:
    checks: list[pa.Check] = list(_FEATURE_CHECKS) if feature else []
    if rules.ge is not None:
        checks.append(pa.Check.ge(rules.ge))
    if rules.le is not None:
        checks.append(pa.Check.le(rules.le))
    if rules.isin is not None:
        checks.append(pa.Check.isin(rules.isin))
    if rules.str_matches is not None:
        checks.append(pa.Check.str_matches(rules.str_matches))
    return pa.Column(
        _DTYPES[rules.dtype] if rules.dtype else None,
        # CSV and parquet sources hand categories over as strings: a declared category is
        # about the values, not the pandas storage type, so strings are converted first.
        coerce=rules.dtype == "category",
        checks=checks,
        nullable=rules.nullable,
        unique=rules.unique,
        description=rules.description,
        name=name,
    )


def validate_frame(frame: pd.DataFrame, schema: pa.DataFrameSchema) -> ValidationReport:
    """Validate lazily so that every violation is reported, not just the first."""
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as error:
        return ValidationReport(
            passed=False,
            rows=len(frame),
            failure_count=len(error.failure_cases),
            violations=_summarise(error.failure_cases),
        )
    return ValidationReport(passed=True, rows=len(frame), failure_count=0)


def _summarise(failure_cases: pd.DataFrame) -> list[ColumnViolation]:
    cases = failure_cases.copy()
    # Frame-level failures (a missing column) name the column in failure_case.
    frame_level = cases["column"].isna() | (cases["schema_context"] == "DataFrameSchema")
    cases.loc[frame_level, "column"] = cases.loc[frame_level, "failure_case"].astype(str)
    violations = []
    for (column, check), group in cases.groupby(["column", "check"], sort=True, dropna=False):
        examples = [
            _example(v) for v in group["failure_case"].drop_duplicates().head(_EXAMPLES_PER_CHECK)
        ]
        violations.append(
            ColumnViolation(str(column), _check_name(str(check)), len(group), examples)
        )
    return violations


def _check_name(check: str) -> str:
    return {
        "column_in_dataframe": "column is missing",
        "column_in_schema": "column not declared in the schema",
        "not_nullable": "null values",
        "field_uniqueness": "duplicate values",
    }.get(check, check)


def _example(value: Any) -> str:
    text = "null" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def violations_as_records(report: ValidationReport) -> list[Mapping[str, Any]]:
    return [
        {"column": v.column, "check": v.check, "failures": v.failures, "examples": v.examples}
        for v in report.violations
    ]


@dataclass(frozen=True)
class ColumnRules:
    """What the schema says about one column, as plain data for any renderer (the Dagster
    column schema is drawn from this, so the UI shows exactly what the gate enforces)."""

    name: str
    dtype: str | None
    nullable: bool
    unique: bool
    description: str | None
    rules: tuple[str, ...]


def column_rules(schema: pa.DataFrameSchema) -> dict[str, ColumnRules]:
    return {
        name: ColumnRules(
            name=name,
            dtype=None if column.dtype is None else str(column.dtype),
            nullable=column.nullable,
            unique=column.unique,
            description=column.description,
            rules=tuple(str(check.error or check.name) for check in column.checks),
        )
        for name, column in schema.columns.items()
    }
