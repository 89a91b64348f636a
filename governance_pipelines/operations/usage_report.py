"""Usage reports: who calls each model, how much, how fast, and whether adoption grows.

The framework asks for usage per model, per consumer and per team, and adoption over
time. The daily usage counts (`usage.py`) are the source; this module turns them into the
figures a model owner reads: requests, errors, unique consumer teams, latency, weeks since
the first call and week-over-week growth. Requests from a consumer team that
`governance.yaml` does not declare are flagged: nobody can be charged for them, and
unknown callers of a model are worth a look.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["Adoption", "UsageDay", "adoption", "usage_day"]


@dataclass(frozen=True)
class Adoption:
    first_call: date | None
    weeks_since_first_call: int | None
    last_7_days: int
    previous_7_days: int

    @property
    def growth(self) -> float | None:
        """Week-over-week change of requests (0.25 = 25 % more); None without a prior week."""
        if not self.previous_7_days:
            return None
        return self.last_7_days / self.previous_7_days - 1


@dataclass(frozen=True)
class UsageDay:
    """One model's usage on one UTC day."""

    model_name: str
    day: date
    requests: int
    errors: int
    consumers: list[str]
    unknown_consumers: dict[str, int]
    mean_latency_ms: float | None
    p95_latency_ms: float | None
    rows: list[dict[str, Any]] = field(default_factory=list)  # per version and consumer
    adoption: Adoption | None = None

    def to_dict(self) -> dict[str, Any]:
        growth = self.adoption.growth if self.adoption else None
        return {
            "day": self.day.isoformat(),
            "requests": self.requests,
            "errors": self.errors,
            "unique_consumers": len(self.consumers),
            "consumers": list(self.consumers),
            "unknown_consumers": dict(self.unknown_consumers),
            "mean_latency_ms": self.mean_latency_ms,
            "p95_latency_ms": self.p95_latency_ms,
            "first_call": (
                self.adoption.first_call.isoformat()
                if self.adoption and self.adoption.first_call
                else None
            ),
            "weeks_since_first_call": self.adoption.weeks_since_first_call
            if self.adoption
            else None,
            "growth": growth,
        }


def adoption(history: Iterable[Mapping[str, Any]], day: date) -> Adoption:
    """Weeks since the model's first call and requests in the 7 days to `day` vs the 7
    before, from usage rows (any versions and consumers) of days up to `day`."""
    per_day: dict[date, int] = {}
    for row in history:
        if row["day"] <= day:
            per_day[row["day"]] = per_day.get(row["day"], 0) + int(row["requests"])
    called = [d for d, n in per_day.items() if n > 0]
    first = min(called) if called else None
    last_week = sum(n for d, n in per_day.items() if day - timedelta(days=7) < d <= day)
    before = sum(
        n for d, n in per_day.items() if day - timedelta(days=14) < d <= day - timedelta(days=7)
    )
    weeks = (day - first).days // 7 if first else None
    return Adoption(first, weeks, last_week, before)


def usage_day(
    model_name: str,
    day: date,
    log: pd.DataFrame,
    known_teams: set[str],
    history: Sequence[Mapping[str, Any]] = (),
) -> UsageDay:
    """The day's figures from its validated log rows (exact latency percentiles), with
    adoption from the stored daily counts."""
    if log.empty:
        return UsageDay(model_name, day, 0, 0, [], {}, None, None, [], adoption(history, day))
    errors = log["status"].astype(str) != "ok"
    latency = (
        pd.to_numeric(log["latency_ms"], errors="coerce")
        if "latency_ms" in log.columns
        else pd.Series(np.nan, index=log.index)
    )
    measured = latency.dropna()
    teams = log["consumer_team"].astype(str)
    per_team = teams.value_counts()
    unknown = {t: int(n) for t, n in per_team.items() if t not in known_teams}
    grouped = (
        pd.DataFrame(
            {
                "version": pd.to_numeric(log["model_version"]).astype("int64"),
                "consumer_team": teams,
                "error": errors.astype("int64"),
                "latency_ms": latency,
            }
        )
        .groupby(["version", "consumer_team"], sort=True)
        .agg(
            requests=("error", "size"),
            errors=("error", "sum"),
            mean_latency_ms=("latency_ms", "mean"),
        )
        .reset_index()
    )
    rows = [
        {
            **{k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in row.items()},
            "known": row["consumer_team"] in known_teams,
        }
        for row in grouped.to_dict("records")
    ]
    return UsageDay(
        model_name=model_name,
        day=day,
        requests=len(log),
        errors=int(errors.sum()),
        consumers=sorted(per_team.index),
        unknown_consumers=unknown,
        mean_latency_ms=float(measured.mean()) if len(measured) else None,
        p95_latency_ms=float(measured.quantile(0.95)) if len(measured) else None,
        rows=rows,
        adoption=adoption(history, day),
    )
