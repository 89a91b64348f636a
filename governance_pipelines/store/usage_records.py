"""Daily usage per model version and consumer team, derived from the inference log."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from governance_pipelines.store._time import _now
from governance_pipelines.store.schema import usage_records


class UsageRecordsMixin:
    """Replacing a day's usage counts and reading them back."""

    # Provided by GovernanceStore (repository.py), which this class is mixed into.
    engine: Engine
    unit_of_work: Callable[[Callable[[sa.Connection], Any]], Any]

    def replace_usage_day(self, model_name: str, day: date, rows: list[Mapping[str, Any]]) -> int:
        """Usage per version and consumer for one day; recomputing a day replaces its rows.

        Usage is derived from the inference log (which is the record), so re-ingesting a
        day after late rows arrived simply recounts it.
        """

        def work(connection: sa.Connection) -> int:
            connection.execute(
                usage_records.delete().where(
                    usage_records.c.model_name == model_name, usage_records.c.day == day
                )
            )
            if rows:
                now = _now()
                connection.execute(
                    usage_records.insert(),
                    [
                        {
                            "model_name": model_name,
                            "version": int(row["version"]),
                            "consumer_team": str(row["consumer_team"]),
                            "day": day,
                            "requests": int(row["requests"]),
                            "errors": int(row["errors"]),
                            "latency_ms_sum": _optional_float(row.get("latency_ms_sum")),
                            "latency_ms_p95": _optional_float(row.get("latency_ms_p95")),
                            "created_at": now,
                        }
                        for row in rows
                    ],
                )
            return len(rows)

        return self.unit_of_work(work)

    def usage(
        self,
        model_name: str | None = None,
        *,
        start: date | None = None,
        end: date | None = None,
    ) -> list[dict[str, Any]]:
        """Usage rows, optionally of one model and of days in [start, end)."""
        query = sa.select(usage_records).order_by(usage_records.c.day, usage_records.c.model_name)
        if model_name is not None:
            query = query.where(usage_records.c.model_name == model_name)
        if start is not None:
            query = query.where(usage_records.c.day >= start)
        if end is not None:
            query = query.where(usage_records.c.day < end)
        with self.engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(query)]

    def latest_usage(self, model_names: list[str]) -> list[dict[str, Any]]:
        """Requests and errors per consumer team on each model's latest usage day."""
        if not model_names:
            return []
        u = usage_records
        latest = (
            sa.select(u.c.model_name, sa.func.max(u.c.day).label("day"))
            .where(u.c.model_name.in_(model_names))
            .group_by(u.c.model_name)
            .subquery()
        )
        query = (
            sa.select(
                u.c.model_name,
                u.c.consumer_team,
                u.c.day,
                sa.func.sum(u.c.requests).label("requests"),
                sa.func.sum(u.c.errors).label("errors"),
            )
            .join(latest, sa.and_(u.c.model_name == latest.c.model_name, u.c.day == latest.c.day))
            .group_by(u.c.model_name, u.c.consumer_team, u.c.day)
            .order_by(u.c.model_name, u.c.consumer_team)
        )
        with self.engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(query)]


def _optional_float(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if number != number else number  # NaN (no latency measured) is unknown
