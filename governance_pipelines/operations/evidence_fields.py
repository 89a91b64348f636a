"""Typed reads of a stored evidence record, each failure a ValueError naming the key.

Check evidence is JSON written by a report's ``to_dict``; reading it back through these
accessors (never by bare string key) turns a malformed or hand-edited row into one clear
message ("SLA report evidence has no 'sla'") instead of a KeyError deep in a sensor.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from governance_pipelines.config import SlaConfig


class RecordFields:
    """Typed reads of one stored record, each failure a `ValueError` naming the key.

    Why checked and not ``record[key]``: evidence comes back from a JSON column, and a
    reader that trusts it turns one odd row into a ``KeyError: 'sla'`` that names neither
    the record nor what was expected. JSON has one number type, so an integer is accepted
    where a float is stored; a bool is never taken for a number. `SlaReport` and
    `performance.PerformanceDay` both rebuild themselves with it.
    """

    def __init__(self, record: object, kind: str) -> None:
        if not isinstance(record, Mapping):
            raise ValueError(f"{kind} evidence must be a JSON object, got {type(record).__name__}")
        self._record: Mapping[str, Any] = record
        self._kind = kind

    def _get(self, key: str) -> Any:
        if key not in self._record:
            raise ValueError(f"{self._kind} evidence has no {key!r}")
        return self._record[key]

    def _invalid(self, key: str, expected: str) -> ValueError:
        return ValueError(
            f"{self._kind} evidence {key!r} must be {expected}, got {self._record[key]!r}"
        )

    def text(self, key: str) -> str:
        value = self._get(key)
        if not isinstance(value, str):
            raise self._invalid(key, "a string")
        return value

    def optional_text(self, key: str) -> str | None:
        return None if self._get(key) is None else self.text(key)

    def integer(self, key: str) -> int:
        value = self._get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._invalid(key, "an integer")
        return value

    def optional_integer(self, key: str) -> int | None:
        return None if self._get(key) is None else self.integer(key)

    def number(self, key: str) -> float:
        value = self._get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._invalid(key, "a number")
        try:
            return float(value)
        except OverflowError:  # an integer beyond any float
            raise self._invalid(key, "a number in float range") from None

    def optional_number(self, key: str) -> float | None:
        return None if self._get(key) is None else self.number(key)

    def flag(self, key: str) -> bool:
        value = self._get(key)
        if not isinstance(value, bool):
            raise self._invalid(key, "true or false")
        return value

    def day(self, key: str) -> date:
        value = self._get(key)
        try:
            return date.fromisoformat(value)
        except (TypeError, ValueError):
            raise self._invalid(key, "an ISO date (YYYY-MM-DD)") from None

    def optional_day(self, key: str) -> date | None:
        return None if self._get(key) is None else self.day(key)

    def texts(self, key: str) -> tuple[str, ...]:
        value = self._get(key)
        if not isinstance(value, list | tuple) or not all(isinstance(i, str) for i in value):
            raise self._invalid(key, "a list of strings")
        return tuple(value)

    def sla_config(self, key: str) -> SlaConfig:
        value = self._get(key)
        try:
            return SlaConfig.model_validate(value)
        except ValueError as error:  # pydantic's ValidationError is a ValueError
            raise ValueError(
                f"{self._kind} evidence {key!r} is not a valid SLA: {error}"
            ) from error
