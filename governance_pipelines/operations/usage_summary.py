"""Usage over a period, per model, version, consumer team or day, from the daily counts.

The daily `usage_report` asset judges one day; owners and platform teams also ask "who
used what this quarter, and is it growing". This reads the stored daily counts (never the
inference log), so a year of usage is a cheap query.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from governance_pipelines.operations.usage_report import adoption

__all__ = ["UsageBy", "UsageLine", "summarise_usage"]

UsageBy = Literal["model", "version", "consumer", "day"]


@dataclass(frozen=True)
class UsageLine:
    model: str
    key: str
    requests: int
    errors: int
    consumers: int
    mean_latency_ms: float | None
    known: bool  # False: a consumer team governance.yaml does not declare

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "key": self.key,
            "requests": self.requests,
            "errors": self.errors,
            "error_rate": round(self.errors / self.requests, 6) if self.requests else None,
            "consumers": self.consumers,
            "mean_latency_ms": (
                None if self.mean_latency_ms is None else round(self.mean_latency_ms, 3)
            ),
            "declared": self.known,
        }


def _key(row: Mapping[str, Any], by: UsageBy) -> str:
    if by == "version":
        return f"v{row['version']}"
    if by == "consumer":
        return str(row["consumer_team"])
    if by == "day":
        return str(row["day"])
    return str(row["model_name"])


def summarise_usage(
    rows: Iterable[Mapping[str, Any]], by: UsageBy, known_teams: set[str]
) -> list[UsageLine]:
    """Lines per model and `by` key, ordered by model then key; latency is the request-
    weighted mean over the rows whose latency was measured."""
    totals: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        key = (str(row["model_name"]), _key(row, by))
        line = totals.setdefault(
            key, {"requests": 0, "errors": 0, "teams": set(), "latency": 0.0, "timed": 0}
        )
        line["requests"] += int(row["requests"])
        line["errors"] += int(row["errors"])
        line["teams"].add(str(row["consumer_team"]))
        if row.get("latency_ms_sum") is not None:
            line["latency"] += float(row["latency_ms_sum"])
            line["timed"] += int(row["requests"])
    return [
        UsageLine(
            model=model,
            key=key,
            requests=line["requests"],
            errors=line["errors"],
            consumers=len(line["teams"]),
            mean_latency_ms=line["latency"] / line["timed"] if line["timed"] else None,
            known=by != "consumer" or key in known_teams,
        )
        for (model, key), line in sorted(totals.items())
    ]


def adoption_by_model(rows: Iterable[Mapping[str, Any]], day: date) -> dict[str, dict[str, Any]]:
    """Weeks since each model's first call and its week-over-week growth up to `day`."""
    per_model: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows:
        per_model.setdefault(str(row["model_name"]), []).append(row)
    found = {}
    for model, history in sorted(per_model.items()):
        trend = adoption(history, day)
        found[model] = {
            "first_call": trend.first_call.isoformat() if trend.first_call else None,
            "weeks_since_first_call": trend.weeks_since_first_call,
            "last_7_days": trend.last_7_days,
            "previous_7_days": trend.previous_7_days,
            "growth": None if trend.growth is None else round(trend.growth, 4),
        }
    return found
