"""The cost ledger: booked allocation rows, one audit-bound batch per booking of a day.

A day of 200 models has tens of thousands of rows, so rows are not bound one by one (as
approvals are): each booking appends its rows with the number of the `cost.allocated`
event that records it, and that event carries the batch's row count, totals and sha256.
`verify_cost_batches` recomputes every batch from the rows there now, so an edited,
deleted or slipped-in row is found by `governance audit verify` and the nightly audit.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from governance_pipelines.canonical import canonical_json
from governance_pipelines.store import audit
from governance_pipelines.store._time import _now
from governance_pipelines.store.errors import StoreError
from governance_pipelines.store.schema import audit_head, cost_allocations

__all__ = ["COST_BOOKED_ACTION", "CostBooking", "CostRecordsMixin", "verify_cost_batches"]

COST_BOOKED_ACTION = "cost.allocated"
_DIGESTED = (
    "day",
    "model_name",
    "model_version",
    "team",
    "consumer_team",
    "cost_center",
    "cost_type",
    "charge_category",
    "charge_class",
    "quantity",
    "unit",
    "amount",
    "currency",
    "restatement",
)
_INSERT_BATCH = 5_000


class CostBookingConflictError(StoreError):
    """Another run booked the same day meanwhile: recompute against what it booked."""


@dataclass(frozen=True)
class CostBooking:
    """One booking of one day, as its audit event records it."""

    day: str
    restatement: int
    rows: int
    sha256: str
    seq: int
    payload: Mapping[str, Any]

    @classmethod
    def from_event(cls, event: audit.AuditEvent) -> CostBooking:
        p = event.payload
        return cls(
            str(p["day"]), int(p["restatement"]), int(p["rows"]), str(p["sha256"]), event.seq, p
        )


def _digest(rows: Iterator[Mapping[str, Any]]) -> tuple[int, str]:
    digest = hashlib.sha256()
    count = 0
    for row in rows:
        values = [row[c].isoformat() if isinstance(row[c], date) else row[c] for c in _DIGESTED]
        digest.update(canonical_json(values).encode("utf-8"))
        digest.update(b"\n")
        count += 1
    return count, digest.hexdigest()


def _batch_rows(connection: sa.Connection, seq: int) -> Iterator[Mapping[str, Any]]:
    query = (
        sa.select(cost_allocations)
        .where(cost_allocations.c.audit_seq == seq)
        .order_by(cost_allocations.c.id)
    )
    for row in connection.execute(query):
        yield dict(row._mapping)


def _latest_restatement(connection: sa.Connection, day: date) -> int | None:
    return connection.execute(
        sa.select(sa.func.max(cost_allocations.c.restatement)).where(cost_allocations.c.day == day)
    ).scalar_one_or_none()


class CostRecordsMixin:
    """Booking cost rows and reading the ledger back."""

    # Provided by GovernanceStore (repository.py), which this class is mixed into.
    engine: Engine
    unit_of_work: Callable[[Callable[[sa.Connection], Any]], Any]

    def book_costs(
        self,
        day: date,
        rows: Sequence[Mapping[str, Any]],
        *,
        restatement: int,
        summary: Mapping[str, Any],
        actor: str,
    ) -> CostBooking:
        """Append a day's rows and the event that binds them, in one transaction.

        `restatement` is 0 for a first booking and one more than the day's latest after
        that; if another booking landed in between, `CostBookingConflictError` is raised and
        nothing is written. `summary` (the day's incurred totals) goes into the event.
        """

        def work(connection: sa.Connection) -> CostBooking:
            latest = _latest_restatement(connection, day)
            expected = 0 if latest is None else latest + 1
            if restatement != expected:
                raise CostBookingConflictError(
                    f"costs of {day} were booked meanwhile (restatement {latest}); "
                    "recompute the day against the ledger and book again"
                )
            head = connection.execute(
                sa.select(audit_head.c.seq).where(audit_head.c.id == 1).with_for_update()
            ).scalar_one()
            seq, now = head + 1, _now()
            values = [
                {
                    **row,
                    "day": day,
                    "restatement": restatement,
                    "recorded_at": now,
                    "audit_seq": seq,
                }
                for row in rows
            ]
            for start in range(0, len(values), _INSERT_BATCH):
                connection.execute(cost_allocations.insert(), values[start : start + _INSERT_BATCH])
            count, sha256 = _digest(_batch_rows(connection, seq))
            event = audit.append_event(
                connection,
                actor=actor,
                action=COST_BOOKED_ACTION,
                payload={
                    **summary,
                    "day": day.isoformat(),
                    "restatement": restatement,
                    "rows": count,
                    "sha256": sha256,
                },
            )
            if event.seq != seq:  # the head is locked above, so this cannot happen
                raise RuntimeError(f"audit chain moved while booking the costs of {day}")
            return CostBooking.from_event(event)

        result: CostBooking = self.unit_of_work(work)
        return result

    def cost_rows(self, start: date, end: date) -> list[dict[str, Any]]:
        """Every booked row with `start <= day < end`, corrections included, in booking order."""
        query = (
            sa.select(cost_allocations)
            .where(cost_allocations.c.day >= start, cost_allocations.c.day < end)
            .order_by(cost_allocations.c.id)
        )
        with self.engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(query)]

    def cost_day_problems(self, day: date) -> list[str]:
        """What no longer matches the day's bookings: each batch recomputed from its rows,
        and rows of the day that no booking of the day accounts for. Checked before a day
        is booked again, so a correction can never paper over an edited row."""
        problems: list[str] = []
        with self.engine.connect() as connection:
            seqs: set[int] = set()
            for event in audit.events_with_action(connection, COST_BOOKED_ACTION):
                booking = CostBooking.from_event(event)
                if booking.day != day.isoformat():
                    continue
                seqs.add(booking.seq)
                problem = _booking_problem(connection, booking)
                if problem:
                    problems.append(problem)
            stray = connection.execute(
                sa.select(sa.func.count()).where(
                    cost_allocations.c.day == day, cost_allocations.c.audit_seq.not_in(seqs)
                )
                if seqs
                else sa.select(sa.func.count()).where(cost_allocations.c.day == day)
            ).scalar_one()
        if stray:
            problems.append(
                f"{stray} cost row(s) of {day} were added to the ledger outside a booking"
            )
        return problems

    def cost_totals(self, start: date, end: date, by: str) -> list[dict[str, Any]]:
        """Summed amounts of days in [start, end) per `by` column (and currency), for
        dashboards: summed in the database, so a scrape never loads a month of rows.
        Reports that must be exact to the cent read the rows (`cost_rows`) instead."""
        column = cost_allocations.c[by]
        extra = [cost_allocations.c.cost_center] if by == "consumer_team" else []
        query = (
            sa.select(
                column.label("key"),
                *extra,
                cost_allocations.c.currency,
                sa.func.sum(sa.cast(cost_allocations.c.amount, sa.Numeric(24, 6))).label("amount"),
            )
            .where(cost_allocations.c.day >= start, cost_allocations.c.day < end)
            .group_by(column, *extra, cost_allocations.c.currency)
            .order_by(column)
        )
        with self.engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(query)]

    def cost_sums(
        self,
        start: date,
        end: date,
        columns: Sequence[str],
        *,
        corrections_only: bool = False,
    ) -> list[dict[str, Any]]:
        """Exact sums of amount and quantity over days in [start, end), per `columns`.

        Summed in the database as whole minor units (the decimal text without its point, per
        number of decimals), so a month of a thousand models is a few thousand result rows,
        never a million ledger rows in memory, and still exact to the cent on SQLite (which
        has no exact numeric type). `amount` and `quantity` come back as Decimal.
        """
        table = cost_allocations
        keys = [table.c[name] for name in (*columns, "currency")]
        amount_scale, amount_units = _minor_units(self.engine, table.c.amount)
        quantity_scale, quantity_units = _minor_units(self.engine, table.c.quantity)
        query = (
            sa.select(
                *keys,
                amount_scale.label("amount_scale"),
                quantity_scale.label("quantity_scale"),
                sa.func.sum(amount_units).label("amount_units"),
                sa.func.sum(quantity_units).label("quantity_units"),
            )
            .where(table.c.day >= start, table.c.day < end)
            .group_by(*keys, amount_scale, quantity_scale)
        )
        if corrections_only:
            query = query.where(table.c.charge_class.is_not(None))
        sums: dict[tuple[Any, ...], dict[str, Any]] = {}
        with self.engine.connect() as connection:
            for row in connection.execute(query):
                mapping = row._mapping
                key = tuple(mapping[c] for c in (*columns, "currency"))
                found = sums.setdefault(
                    key,
                    {
                        **{c: mapping[c] for c in (*columns, "currency")},
                        "amount": Decimal(0),
                        "quantity": Decimal(0),
                    },
                )
                found["amount"] += Decimal(int(mapping["amount_units"])).scaleb(
                    -int(mapping["amount_scale"])
                )
                found["quantity"] += Decimal(int(mapping["quantity_units"])).scaleb(
                    -int(mapping["quantity_scale"])
                )
        return list(sums.values())

    def latest_cost_day(self) -> date | None:
        with self.engine.connect() as connection:
            day: date | None = connection.execute(
                sa.select(sa.func.max(cost_allocations.c.day))
            ).scalar_one_or_none()
        return day

    def cost_bookings(self, start: date, end: date) -> list[CostBooking]:
        """The bookings of days in [start, end), oldest first."""
        with self.engine.connect() as connection:
            events = audit.events_with_action(connection, COST_BOOKED_ACTION)
            bookings = [CostBooking.from_event(e) for e in events]
        return [b for b in bookings if start.isoformat() <= b.day < end.isoformat()]


def _minor_units(engine: Engine, column: sa.Column[Any]) -> tuple[Any, Any]:
    """(number of decimals, the text as a whole number of its smallest unit) of a decimal
    text column, on SQLite and PostgreSQL."""
    find = sa.func.instr if engine.dialect.name == "sqlite" else sa.func.strpos
    point = find(column, ".")
    scale = sa.case((point == 0, 0), else_=sa.func.length(column) - point)
    units = sa.cast(sa.func.replace(column, ".", ""), sa.BigInteger)
    return scale, units


def _booking_problem(connection: sa.Connection, booking: CostBooking) -> str | None:
    count, sha256 = _digest(_batch_rows(connection, booking.seq))
    if sha256 == booking.sha256:
        return None
    return (
        f"costs of {booking.day} (booking {booking.restatement}, event #{booking.seq}): "
        f"{booking.rows} rows were booked, {count} are there now"
        + ("" if count != booking.rows else " and their content changed")
    )


def verify_cost_batches(connection: sa.Connection) -> tuple[int, list[str]]:
    """(bookings checked, problems): each booking recomputed from the rows there now, and
    rows that no booking event accounts for."""
    problems: list[str] = []
    seqs: set[int] = set()
    checked = 0
    for event in audit.events_with_action(connection, COST_BOOKED_ACTION):
        booking = CostBooking.from_event(event)
        seqs.add(booking.seq)
        checked += 1
        problem = _booking_problem(connection, booking)
        if problem:
            problems.append(problem)
    stray = connection.execute(
        sa.select(cost_allocations.c.audit_seq, sa.func.count())
        .group_by(cost_allocations.c.audit_seq)
        .order_by(cost_allocations.c.audit_seq)
    ).all()
    for seq, count in stray:
        if seq not in seqs:
            problems.append(
                f"{count} cost row(s) claim event #{seq}, which booked no costs: "
                "rows were added to the ledger outside a booking"
            )
    return checked, problems
