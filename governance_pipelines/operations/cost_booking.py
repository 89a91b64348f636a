"""Booking a day's costs into the ledger, and reading months back out of it.

The plain-Python step between the drivers (usage counts in the store, compute hours from
the orchestrator, bytes on disk) and the ledger: compute the day, append what differs from
what is booked (everything the first time, corrections after), and reconcile. Memory is
bounded by one day's usage counts — the inference log itself is never read here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from governance_pipelines.config import GovernanceConfig, expand_env
from governance_pipelines.operations.cost_allocation import (
    Allocation,
    DayAllocation,
    ModelDay,
    UsageCount,
    allocate_day,
)
from governance_pipelines.operations.cost_reconciliation import (
    Reconciliation,
    booking_summary,
    month_days,
    reconcile_day,
    reconcile_month,
)
from governance_pipelines.operations.cost_restatement import rows_to_book
from governance_pipelines.operations.focus import allocation_from_row, allocation_to_row, read_bill
from governance_pipelines.store import GovernanceStore
from governance_pipelines.store.cost_records import CostBooking

__all__ = [
    "BookedDay",
    "ComputeHours",
    "MonthSummary",
    "book_day",
    "month_ledger",
    "month_reconciliation",
    "month_summary",
    "storage_bytes",
    "usage_counts",
]

# The folders under the governance home that hold a model's files, by what they are.
_STORAGE_FOLDERS = ("snapshots", "artifacts", "model_cards", "monitoring")


@dataclass(frozen=True)
class ComputeHours:
    """Orchestrator step time of one model on one day (measured by the Dagster shell)."""

    training: Decimal = Decimal(0)
    governance: Decimal = Decimal(0)


@dataclass(frozen=True)
class BookedDay:
    computed: DayAllocation
    booked: list[Allocation]
    booking: CostBooking | None
    reconciliation: Reconciliation


def storage_bytes(home: Path, model_name: str) -> int:
    """Bytes on disk of the model's snapshots, artifacts, cards and monitoring files."""
    total = 0
    for folder in _STORAGE_FOLDERS:
        root = home / folder / model_name
        if root.is_dir():
            total += sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    return total


def usage_counts(store: GovernanceStore, day: date) -> dict[str, list[UsageCount]]:
    """The day's usage rows per model (from `usage_records`, recounted at ingestion)."""
    counts: dict[str, list[UsageCount]] = {}
    for row in store.usage(start=day, end=day + timedelta(days=1)):
        latency = row.get("latency_ms_sum")
        counts.setdefault(row["model_name"], []).append(
            UsageCount(
                version=int(row["version"]),
                consumer_team=str(row["consumer_team"]),
                requests=int(row["requests"]),
                latency_ms_sum=Decimal(repr(float(latency))) if latency is not None else Decimal(0),
            )
        )
    # A split gives tied cents to the earlier part (cost_model.largest_remainder), and the
    # store orders rows by day and model only: PostgreSQL returns a model's rows in varying
    # order, which moved cents between consumers across backends and re-runs of a day.
    return {
        name: sorted(rows, key=lambda u: (u.version, u.consumer_team))
        for name, rows in counts.items()
    }


def book_day(
    config: GovernanceConfig,
    store: GovernanceStore,
    day: date,
    *,
    compute_hours: Mapping[str, ComputeHours],
    actor: str,
) -> BookedDay:
    """Compute the day, book the difference from the ledger, and reconcile the result."""
    usage = usage_counts(store, day)
    measured = {
        m.name: ModelDay(
            m.name,
            usage.get(m.name, []),
            compute_hours.get(m.name, ComputeHours()).training,
            compute_hours.get(m.name, ComputeHours()).governance,
            storage_bytes(store.home, m.name),
        )
        for m in config.models
    }
    computed = allocate_day(config, day, measured)
    tampered = store.cost_day_problems(day)
    if tampered:  # never book corrections over rows that no longer match their booking
        before = _ledger(store, day, day + timedelta(days=1))
        found = reconcile_day(computed, before)
        problems = [*tampered, *found.problems]
        return BookedDay(computed, [], None, dataclasses.replace(found, problems=problems))
    before = _ledger(store, day, day + timedelta(days=1))
    restatement = max((r.restatement for r in before), default=-1) + 1
    to_book = [
        replace(r, restatement=restatement)
        for r in rows_to_book(before, computed.allocations, restatement)
    ]
    booking = None
    if to_book or not before:
        booking = store.book_costs(
            day,
            [allocation_to_row(a) for a in to_book],
            restatement=restatement,
            summary=booking_summary(computed),
            actor=actor,
        )
    after = _ledger(store, day, day + timedelta(days=1))
    return BookedDay(computed, to_book, booking, reconcile_day(computed, after))


def _ledger(store: GovernanceStore, start: date, end: date) -> list[Allocation]:
    return [allocation_from_row(row) for row in store.cost_rows(start, end)]


def month_ledger(store: GovernanceStore, month: date) -> list[Allocation]:
    days = month_days(month)
    return _ledger(store, days[0], days[-1] + timedelta(days=1))


@dataclass(frozen=True)
class MonthSummary:
    """A month of the ledger summed in the database: what reports and the month's
    reconciliation need, in memory bounded by models × consumers × cost types, never by
    the month's rows. `lines` are allocations summed over the month (dated its first day),
    `by_day_model` summed per day and model."""

    lines: list[Allocation]
    by_day_model: list[Allocation]
    daily: dict[date, Decimal]
    restated: list[date]

    @property
    def through(self) -> date | None:
        return max(self.daily) if self.daily else None


def _summed(row: dict[str, Any], day: date) -> Allocation:
    return Allocation(
        day=row.get("day", day),
        model_name=row.get("model_name", ""),
        model_version=None,
        team=row.get("team", ""),
        consumer_team=row.get("consumer_team", ""),
        cost_center=row.get("cost_center"),
        cost_type=row.get("cost_type", ""),
        charge_category="Usage",
        quantity=row["quantity"],
        unit="",
        amount=row["amount"],
        currency=row["currency"],
    )


def month_summary(store: GovernanceStore, month: date) -> MonthSummary:
    days = month_days(month)
    start, end = days[0], days[-1] + timedelta(days=1)
    columns = ["team", "model_name", "consumer_team", "cost_center", "cost_type"]
    lines = [_summed(row, start) for row in store.cost_sums(start, end, columns)]
    by_day_model = [
        _summed(row, start) for row in store.cost_sums(start, end, ["day", "model_name"])
    ]
    daily: dict[date, Decimal] = {}
    for row in by_day_model:
        daily[row.day] = daily.get(row.day, Decimal(0)) + row.amount
    restated = sorted(r["day"] for r in store.cost_sums(start, end, ["day"], corrections_only=True))
    return MonthSummary(lines, by_day_model, daily, restated)


def month_reconciliation(
    config: GovernanceConfig,
    store: GovernanceStore,
    month: date,
    *,
    through: date,
    since: date | None = None,
    summary: MonthSummary | None = None,
) -> Reconciliation:
    """The month up to `through` against each day's latest booked incurred total (and the
    bill, when `costs.bill` names one)."""
    days = month_days(month)
    incurred: dict[date, Decimal] = {}
    for booking in store.cost_bookings(days[0], days[-1] + timedelta(days=1)):
        incurred[date.fromisoformat(booking.day)] = Decimal(str(booking.payload["incurred_total"]))
    bill = (
        read_bill(Path(expand_env(config.costs.bill)), config.costs.currency)
        if config.costs.bill
        else None
    )
    return reconcile_month(
        month,
        config.costs.currency,
        incurred,
        (summary or month_summary(store, month)).by_day_model,
        through=through,
        since=since,
        bill=bill,
    )


def restated_days(ledger: Sequence[Allocation]) -> list[date]:
    """Days of the ledger with at least one correction."""
    return sorted({r.day for r in ledger if r.charge_class is not None})
