"""The request schema of an endpoint, derived from the model's declared features and rules.

A caller who sends `"income": "high"` or a loan amount of -5 must hear which field broke
which rule, not get a 500 from scikit-learn or, worse, a confident score of garbage. The
schema is not written by hand: it is the model's features (numeric or categorical, from
the version's run record) and the column rules of `governance.yaml` (`ge`, `le`, `isin`,
`str_matches`, `nullable`), the same rules the training data was validated against.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from governance_pipelines.config import ModelConfig

__all__ = ["FieldError", "FieldSpec", "RequestSchema"]

MAX_RECORDS = 1_000


@dataclass(frozen=True)
class FieldError:
    record: int
    field: str
    rule: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "record": self.record,
            "field": self.field,
            "rule": self.rule,
            "message": self.message,
        }


@dataclass(frozen=True)
class FieldSpec:
    name: str
    numeric: bool
    nullable: bool = False
    ge: float | None = None
    le: float | None = None
    isin: tuple[Any, ...] | None = None
    pattern: re.Pattern[str] | None = None
    description: str | None = None

    def check(self, value: Any) -> tuple[str, str] | None:
        """(rule, message) of the first rule `value` breaks, or None."""
        if value is None:
            return None if self.nullable else ("required", "is required (not null)")
        if self.numeric:
            if isinstance(value, bool) or not isinstance(value, int | float):
                return ("type", f"must be a number, got {type(value).__name__} {value!r}")
            if not math.isfinite(value):
                return ("type", "must be a finite number")
            if self.ge is not None and value < self.ge:
                return ("ge", f"must be ≥ {self.ge:g}, got {value!r}")
            if self.le is not None and value > self.le:
                return ("le", f"must be ≤ {self.le:g}, got {value!r}")
        elif not isinstance(value, str | int | float) or isinstance(value, bool):
            return ("type", f"must be a string, got {type(value).__name__}")
        if self.isin is not None and value not in self.isin:
            return ("isin", f"must be one of {list(self.isin)}, got {value!r}")
        if self.pattern is not None and not self.pattern.fullmatch(str(value)):
            return ("str_matches", f"must match {self.pattern.pattern!r}, got {value!r}")
        return None

    def to_dict(self) -> dict[str, Any]:
        rules: dict[str, Any] = {}
        for key in ("ge", "le"):
            if getattr(self, key) is not None:
                rules[key] = getattr(self, key)
        if self.isin is not None:
            rules["isin"] = list(self.isin)
        if self.pattern is not None:
            rules["str_matches"] = self.pattern.pattern
        return {
            "name": self.name,
            "type": "number" if self.numeric else "string",
            "nullable": self.nullable,
            "rules": rules,
            "description": self.description,
        }


@dataclass(frozen=True)
class RequestSchema:
    fields: tuple[FieldSpec, ...]

    @classmethod
    def for_model(cls, model: ModelConfig, categorical: Sequence[str]) -> RequestSchema:
        """The model's features in declared order; a feature is numeric unless the version's
        record (or its declared dtype) says it is categorical."""
        specs = []
        for name in model.data.features:
            column = model.data.columns.get(name)
            declared = column.dtype if column else None
            numeric = name not in categorical and declared not in ("str", "category", "bool")
            specs.append(
                FieldSpec(
                    name=name,
                    numeric=numeric,
                    nullable=bool(column and column.nullable),
                    ge=column.ge if column else None,
                    le=column.le if column else None,
                    isin=tuple(column.isin) if column and column.isin is not None else None,
                    pattern=re.compile(column.str_matches)
                    if column and column.str_matches
                    else None,
                    description=column.description if column else None,
                )
            )
        return cls(tuple(specs))

    @property
    def names(self) -> list[str]:
        return [spec.name for spec in self.fields]

    def validate(self, records: Any) -> list[FieldError]:
        """Every problem of every record at once (a caller fixes a batch in one round trip);
        empty when `records` is a list of valid records."""
        if not isinstance(records, list) or not records:
            return [FieldError(-1, "records", "type", "must be a non-empty list of objects")]
        if len(records) > MAX_RECORDS:
            message = f"at most {MAX_RECORDS} records per request, got {len(records)}"
            return [FieldError(-1, "records", "size", message)]
        errors: list[FieldError] = []
        known = set(self.names)
        for index, record in enumerate(records):
            if not isinstance(record, Mapping):
                errors.append(FieldError(index, "", "type", "must be a JSON object"))
                continue
            for name in sorted(set(record) - known):
                errors.append(FieldError(index, name, "unknown", "is not a feature of this model"))
            for spec in self.fields:
                if spec.name not in record:
                    if not spec.nullable:
                        errors.append(FieldError(index, spec.name, "required", "is missing"))
                    continue
                broken = spec.check(record[spec.name])
                if broken:
                    errors.append(FieldError(index, spec.name, *broken))
        return errors

    def frame(self, records: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
        """Validated records as the model's input: its features, in declared order."""
        names = self.names
        return pd.DataFrame([{n: r.get(n) for n in names} for r in records])

    def to_dict(self) -> dict[str, Any]:
        return {"fields": [spec.to_dict() for spec in self.fields], "max_records": MAX_RECORDS}
