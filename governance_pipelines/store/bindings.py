"""Bindings between governed records and the audit events that recorded them.

A hash chain proves that the *events* were not edited, but decisions read *records*: a row
inserted straight into `approvals` or `check_results` is a forgery the chain never saw.
So every governed row carries `audit_seq`, the event that recorded it, and that event's
payload carries the row's content hash under `record`. Both directions are checked:

* a row whose event is missing, or whose event names another row: **forged**;
* a row whose content no longer matches the hash its event recorded: **tampered**;
* an event whose row is gone: **deleted**.

Decisions (promotion, approval counts, cards) read rows through `verified_rows`, which
keeps only rows whose binding verifies; `BindingCollector` checks every row of every bound
table against the chain for `governance audit verify` and the nightly audit.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from governance_pipelines.canonical import canonical_json
from governance_pipelines.store import audit
from governance_pipelines.store.schema import BOUND_TABLES, audit_head, audit_log

BINDING_COLUMN = "audit_seq"
RECORD_KEY = "record"  # the key of the binding in an event's payload
# An outbox row's delivery state changes by design (every change is its own audit event);
# what was raised — kind, message, figures, channel — is what the binding protects.
_UNBOUND_COLUMNS: Mapping[str, frozenset[str]] = {
    "alerts": frozenset(
        {"status", "attempts", "next_attempt_at", "last_error", "slack_ts", "sent_at"}
    ),
}
_TABLES = {table.name: table for table in BOUND_TABLES}
_BATCH = 5_000
_LISTED_PROBLEMS = 20


@dataclass(frozen=True)
class Binding:
    table: str
    key: str
    sha256: str

    def to_dict(self) -> dict[str, str]:
        return {"table": self.table, "key": self.key, "sha256": self.sha256}

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Binding | None:
        record = payload.get(RECORD_KEY)
        if not isinstance(record, Mapping):
            return None
        try:
            return cls(str(record["table"]), str(record["key"]), str(record["sha256"]))
        except KeyError:
            return None


@dataclass(frozen=True)
class BindingProblem:
    kind: str  # forged | tampered | deleted
    table: str
    key: str
    seq: int | None
    detail: str

    def __str__(self) -> str:
        return self.detail


def _primary_key(table: sa.Table) -> sa.Column[Any]:
    (column,) = table.primary_key.columns
    return column


def record_key(table: sa.Table, row: sa.Row[Any] | Mapping[str, Any]) -> str:
    mapping = row._mapping if isinstance(row, sa.Row) else row
    return str(mapping[_primary_key(table).name])


def _normalised(value: Any) -> Any:
    if isinstance(value, datetime):
        # SQLite hands timestamps back naive, PostgreSQL in the session's zone: all are UTC.
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).isoformat(timespec="microseconds")
    return value


def record_digest(table: sa.Table, row: sa.Row[Any] | Mapping[str, Any]) -> str:
    """The sha256 of a row's governed content, the same on SQLite and PostgreSQL."""
    mapping = row._mapping if isinstance(row, sa.Row) else row
    skipped = _UNBOUND_COLUMNS.get(table.name, frozenset()) | {BINDING_COLUMN}
    # NULLs are left out, so a nullable column added by a later migration does not change
    # the digest of the rows bound before it; setting a value to NULL still changes it.
    content = {
        column.name: _normalised(mapping[column.name])
        for column in table.columns
        if column.name not in skipped and mapping[column.name] is not None
    }
    return hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()


def insert_bound(
    connection: sa.Connection,
    table: sa.Table,
    values: Mapping[str, Any],
    *,
    actor: str,
    action: str,
    model_name: str | None = None,
    version: int | None = None,
    payload: Mapping[str, Any] | None = None,
) -> tuple[sa.Row[Any], audit.AuditEvent]:
    """Insert a governed row and the event that records it, bound both ways.

    Runs inside the caller's transaction, which holds the chain's head: the row is given
    the next event's number, then the event is appended with the row's content hash (read
    back from the database, so the hash covers what is stored, not what was meant).
    """
    seq = _next_seq(connection, table)
    result = connection.execute(table.insert().values(**values, **{BINDING_COLUMN: seq}))
    pk = _primary_key(table)
    key_value = values.get(pk.name, None)
    if key_value is None:
        inserted = result.inserted_primary_key
        assert inserted is not None  # always set after a single-row insert()
        key_value = inserted[0]
    return _bind(
        connection, table, key_value, seq, actor=actor, action=action, model_name=model_name,
        version=version, payload=payload,
    )  # fmt: skip


def update_bound(
    connection: sa.Connection,
    table: sa.Table,
    key_value: Any,
    values: Mapping[str, Any],
    *,
    actor: str,
    action: str,
    model_name: str | None = None,
    payload: Mapping[str, Any] | None = None,
) -> tuple[sa.Row[Any], audit.AuditEvent]:
    """Change a governed row that changes by design (an endpoint, a token) and rebind it to
    the event that records the change, so the row always matches its latest event.

    Same transaction discipline as `insert_bound`; verification keeps each key's latest
    binding, so earlier events stay in the chain as the row's history.
    """
    seq = _next_seq(connection, table)
    pk = _primary_key(table)
    changed = connection.execute(
        table.update().where(pk == key_value).values(**values, **{BINDING_COLUMN: seq})
    )
    if changed.rowcount != 1:
        raise ValueError(f"{table.name} has no row {key_value!r} to change")
    return _bind(
        connection, table, key_value, seq, actor=actor, action=action, model_name=model_name,
        payload=payload,
    )  # fmt: skip


def _next_seq(connection: sa.Connection, table: sa.Table) -> int:
    """The number the next event gets, with the chain's head locked for this transaction."""
    if table.name not in _TABLES:
        raise ValueError(f"{table.name} is not a governed (bound) table")
    head_seq = connection.execute(
        sa.select(audit_head.c.seq).where(audit_head.c.id == 1).with_for_update()
    ).scalar_one()
    return int(head_seq) + 1


def _bind(
    connection: sa.Connection, table: sa.Table, key_value: Any, seq: int, *, actor: str,
    action: str, model_name: str | None = None, version: int | None = None,
    payload: Mapping[str, Any] | None = None,
) -> tuple[sa.Row[Any], audit.AuditEvent]:  # fmt: skip
    """Read the row back (hash what is stored) and append event `seq` with its binding."""
    row = connection.execute(sa.select(table).where(_primary_key(table) == key_value)).one()
    binding = Binding(table.name, record_key(table, row), record_digest(table, row))
    event = audit.append_event(
        connection,
        actor=actor,
        action=action,
        model_name=model_name,
        version=version,
        payload={**dict(payload or {}), RECORD_KEY: binding.to_dict()},
    )
    if event.seq != seq:  # the head is locked by _next_seq, so this cannot happen
        raise RuntimeError(f"audit chain moved while binding {table.name} {binding.key}")
    return row, event


def verified_rows(
    connection: sa.Connection, table: sa.Table, rows: Sequence[sa.Row[Any]]
) -> tuple[list[sa.Row[Any]], list[BindingProblem]]:
    """Split rows into those whose binding verifies and the problems of the others.

    Each row's event is read by its number and re-hashed, so an edited event does not
    vouch for a row either. Cost: one indexed select per 5,000 rows.
    """
    good: list[sa.Row[Any]] = []
    problems: list[BindingProblem] = []
    for start in range(0, len(rows), _BATCH):
        batch = rows[start : start + _BATCH]
        wanted = {row._mapping[BINDING_COLUMN] for row in batch} - {None}
        events = _events_by_seq(connection, wanted)
        for row in batch:
            problem = _row_problem(table, row, events.get(row._mapping[BINDING_COLUMN]))
            if problem is None:
                good.append(row)
            else:
                problems.append(problem)
    return good, problems


def verified_row(
    connection: sa.Connection, table: sa.Table, row: sa.Row[Any]
) -> BindingProblem | None:
    """The problem with one row's binding, or None when it verifies."""
    _, problems = verified_rows(connection, table, [row])
    return problems[0] if problems else None


def _events_by_seq(connection: sa.Connection, seqs: Iterable[int]) -> dict[int, sa.Row[Any]]:
    wanted = sorted(seqs)
    if not wanted:
        return {}
    rows = connection.execute(sa.select(audit_log).where(audit_log.c.seq.in_(wanted))).all()
    return {row.seq: row for row in rows}


def _event_intact(event: sa.Row[Any]) -> bool:
    return audit.stored_event_hash(event, prev_hash=event.prev_hash) == event.hash


def _row_problem(
    table: sa.Table, row: sa.Row[Any], event: sa.Row[Any] | None
) -> BindingProblem | None:
    key = record_key(table, row)
    seq = row._mapping[BINDING_COLUMN]
    where = f"{table.name} row {key}"
    if seq is None:
        return BindingProblem(
            "forged", table.name, key, None, f"forged: {where} names no audit event"
        )
    if event is None:
        return BindingProblem(
            "forged",
            table.name,
            key,
            seq,
            f"forged: {where} names audit event #{seq}, which does not exist",
        )
    if not _event_intact(event):
        return BindingProblem(
            "tampered",
            table.name,
            key,
            seq,
            f"tampered: audit event #{seq} recording {where} was altered",
        )
    binding = Binding.from_payload(json.loads(event.payload_json))
    if binding is None or (binding.table, binding.key) != (table.name, key):
        return BindingProblem(
            "forged",
            table.name,
            key,
            seq,
            f"forged: {where} claims audit event #{seq} ({event.action}), which recorded "
            + ("no record" if binding is None else f"{binding.table} row {binding.key}"),
        )
    if binding.sha256 != record_digest(table, row):
        return BindingProblem(
            "tampered",
            table.name,
            key,
            seq,
            f"tampered: {where} was changed after audit event #{seq} ({event.action}) recorded it",
        )
    return None


@dataclass
class BindingCollector:
    """Gathers every binding while the chain is verified, then checks every bound row.

    Memory: one small tuple per governed record (not per event).
    """

    bindings: dict[tuple[str, str], tuple[int, str]] = field(default_factory=dict)

    def see(self, seq: int, payload_json: str) -> None:
        if f'"{RECORD_KEY}":' not in payload_json:
            return
        binding = Binding.from_payload(json.loads(payload_json))
        if binding is not None:
            self.bindings[(binding.table, binding.key)] = (seq, binding.sha256)

    def check(self, connection: sa.Connection) -> tuple[int, list[BindingProblem]]:
        """(records verified, problems): every row of every bound table against the chain."""
        checked = 0
        problems: list[BindingProblem] = []
        unseen = dict(self.bindings)
        for table in BOUND_TABLES:
            for row in _stream(connection, table):
                checked += 1
                key = record_key(table, row)
                bound = unseen.pop((table.name, key), None)
                problem = _collected_problem(table, row, key, bound)
                if problem is not None:
                    problems.append(problem)
        for (table_name, key), (seq, _digest) in sorted(unseen.items(), key=lambda i: i[1][0]):
            if table_name not in _TABLES:
                continue
            problems.append(
                BindingProblem(
                    "deleted",
                    table_name,
                    key,
                    seq,
                    f"deleted: audit event #{seq} recorded {table_name} row {key}, "
                    "which is no longer in the store",
                )
            )
        return checked, problems


def _collected_problem(
    table: sa.Table, row: sa.Row[Any], key: str, bound: tuple[int, str] | None
) -> BindingProblem | None:
    where = f"{table.name} row {key}"
    seq = row._mapping[BINDING_COLUMN]
    if bound is None:
        return BindingProblem(
            "forged",
            table.name,
            key,
            seq,
            f"forged: {where} has no audit event (it was written outside the governance API)",
        )
    bound_seq, digest = bound
    if seq != bound_seq:
        return BindingProblem(
            "forged",
            table.name,
            key,
            seq,
            f"forged: {where} names audit event #{seq} but was recorded by event #{bound_seq}",
        )
    if record_digest(table, row) != digest:
        return BindingProblem(
            "tampered",
            table.name,
            key,
            seq,
            f"tampered: {where} was changed after audit event #{seq} recorded it",
        )
    return None


def _stream(connection: sa.Connection, table: sa.Table) -> Iterator[sa.Row[Any]]:
    pk = _primary_key(table)
    last: Any = None
    while True:
        query = sa.select(table).order_by(pk).limit(_BATCH)
        if last is not None:
            query = query.where(pk > last)
        batch = connection.execute(query).all()
        if not batch:
            return
        yield from batch
        last = batch[-1]._mapping[pk.name]


def describe(problems: Sequence[BindingProblem]) -> str:
    """One line per problem, the first twenty, then counts of the rest by kind."""
    shown = [str(p) for p in problems[:_LISTED_PROBLEMS]]
    rest = problems[_LISTED_PROBLEMS:]
    if rest:
        counts: dict[str, int] = {}
        for problem in rest:
            counts[problem.kind] = counts.get(problem.kind, 0) + 1
        shown.append(
            f"… and {len(rest)} more ("
            + ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))
            + ")"
        )
    return "\n".join(shown)
