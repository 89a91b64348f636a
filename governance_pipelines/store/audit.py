"""The tamper-evident audit trail: an append-only, hash-chained event log.

Each event's sha256 covers its canonical content and the previous event's hash, so
editing, deleting or reordering any stored event breaks every hash after it. Appends
lock the single `audit_head` row (SQLite: the database write lock) so that concurrent
writers — two Dagster runs at once — queue up instead of forking the chain.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from governance_pipelines.canonical import canonical_json
from governance_pipelines.store.schema import audit_head, audit_log

GENESIS_HASH = "0" * 64
_VERIFY_BATCH = 5_000


@dataclass(frozen=True)
class AuditEvent:
    seq: int
    event_id: str
    at: str
    actor: str
    action: str
    model_name: str | None
    version: int | None
    payload: Mapping[str, Any]
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class ChainVerification:
    verified: int
    ok: bool
    problem: str | None = None
    first_bad_seq: int | None = None
    head_hash: str = GENESIS_HASH


def event_hash(
    *,
    seq: int,
    event_id: str,
    at: str,
    actor: str,
    action: str,
    model_name: str | None,
    version: int | None,
    payload_json: str,
    prev_hash: str,
) -> str:
    content = canonical_json(
        {
            "seq": seq,
            "event_id": event_id,
            "at": at,
            "actor": actor,
            "action": action,
            "model_name": model_name,
            "version": version,
            "payload": payload_json,
            "prev_hash": prev_hash,
        }
    )
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def stored_event_hash(row: sa.Row[Any], *, prev_hash: str) -> str:
    """The hash a stored event row should carry after `prev_hash` (verification recomputes
    it from the row's own columns, never trusting its `hash`)."""
    return event_hash(
        seq=row.seq,
        event_id=row.event_id,
        at=row.at,
        actor=row.actor,
        action=row.action,
        model_name=row.model_name,
        version=row.version,
        payload_json=row.payload_json,
        prev_hash=prev_hash,
    )


def append_event(
    connection: sa.Connection,
    *,
    actor: str,
    action: str,
    model_name: str | None = None,
    version: int | None = None,
    payload: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append one event inside the caller's transaction (so it commits with the record)."""
    head = connection.execute(
        sa.select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1).with_for_update()
    ).one()
    seq = head.seq + 1
    event_id = str(uuid.uuid4())
    at = datetime.now(UTC).isoformat(timespec="microseconds")
    payload_json = canonical_json(dict(payload or {}))
    digest = event_hash(
        seq=seq,
        event_id=event_id,
        at=at,
        actor=actor,
        action=action,
        model_name=model_name,
        version=version,
        payload_json=payload_json,
        prev_hash=head.hash,
    )
    connection.execute(
        audit_log.insert().values(
            seq=seq,
            event_id=event_id,
            at=at,
            actor=actor,
            action=action,
            model_name=model_name,
            version=version,
            payload_json=payload_json,
            prev_hash=head.hash,
            hash=digest,
        )
    )
    connection.execute(audit_head.update().where(audit_head.c.id == 1).values(seq=seq, hash=digest))
    return AuditEvent(
        seq,
        event_id,
        at,
        actor,
        action,
        model_name,
        version,
        json.loads(payload_json),
        head.hash,
        digest,
    )


def verify_chain(
    connection: sa.Connection, on_event: Callable[[int, str], None] | None = None
) -> ChainVerification:
    """Recompute every hash in order; name the first event that was altered, removed or moved.

    `on_event(seq, payload_json)` sees each event once it verified, so callers that check
    what the events vouch for (record bindings, inference-log seals) need no second pass.
    """
    expected_prev = GENESIS_HASH
    expected_seq = 1
    verified = 0
    for row in _rows_in_order(connection):
        if row.seq != expected_seq:
            missing = (
                f"{expected_seq}"
                if row.seq == expected_seq + 1
                else f"{expected_seq}–{row.seq - 1}"
            )
            return _broken(
                verified, expected_seq, f"event #{missing} is missing (removed from the log)"
            )
        recomputed = stored_event_hash(row, prev_hash=row.prev_hash)
        if recomputed != row.hash:
            return _broken(
                verified,
                row.seq,
                f"event #{row.seq} ({row.action}) was altered: its content no longer matches its hash",
            )
        if row.prev_hash != expected_prev:
            return _broken(
                verified,
                row.seq,
                f"event #{row.seq} ({row.action}) does not follow event #{row.seq - 1}: "
                "events were removed, inserted or reordered",
            )
        expected_prev = row.hash
        expected_seq += 1
        verified += 1
        if on_event is not None:
            on_event(row.seq, row.payload_json)
    head = connection.execute(sa.select(audit_head.c.seq, audit_head.c.hash)).one_or_none()
    if head is not None and (head.seq, head.hash) != (verified, expected_prev):
        return _broken(
            verified,
            verified + 1,
            f"the log ends at event #{verified} but its recorded head is event #{head.seq}: "
            "the latest events were removed",
        )
    return ChainVerification(verified=verified, ok=True, head_hash=expected_prev)


def _broken(verified: int, seq: int, problem: str) -> ChainVerification:
    return ChainVerification(verified=verified, ok=False, problem=problem, first_bad_seq=seq)


def _rows_in_order(connection: sa.Connection) -> Iterator[sa.Row[Any]]:
    """Stream the log in seq order, in batches, so verification memory stays flat."""
    last_seq = 0
    while True:
        batch = connection.execute(
            sa.select(audit_log)
            .where(audit_log.c.seq > last_seq)
            .order_by(audit_log.c.seq)
            .limit(_VERIFY_BATCH)
        ).all()
        if not batch:
            return
        yield from batch
        last_seq = batch[-1].seq


def recent_events(
    connection: sa.Connection,
    *,
    model_name: str | None = None,
    action: str | None = None,
    limit: int = 20,
) -> list[AuditEvent]:
    query = sa.select(audit_log).order_by(audit_log.c.seq.desc()).limit(limit)
    if model_name is not None:
        query = query.where(audit_log.c.model_name == model_name)
    if action is not None:
        query = query.where(audit_log.c.action == action)
    return [_to_event(row) for row in reversed(connection.execute(query).all())]


def events_with_action(connection: sa.Connection, action: str) -> Iterator[AuditEvent]:
    """Every event of one action, oldest first, streamed in batches."""
    last_seq = 0
    while True:
        batch = connection.execute(
            sa.select(audit_log)
            .where(audit_log.c.action == action, audit_log.c.seq > last_seq)
            .order_by(audit_log.c.seq)
            .limit(_VERIFY_BATCH)
        ).all()
        if not batch:
            return
        yield from (_to_event(row) for row in batch)
        last_seq = batch[-1].seq


def _to_event(row: sa.Row[Any]) -> AuditEvent:
    return AuditEvent(
        seq=row.seq,
        event_id=row.event_id,
        at=row.at,
        actor=row.actor,
        action=row.action,
        model_name=row.model_name,
        version=row.version,
        payload=json.loads(row.payload_json),
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


def hashes_at(connection: sa.Connection, seqs: Iterable[int]) -> dict[int, str]:
    """The stored hash of each requested event (absent ones are missing), in small selects."""
    wanted = sorted(set(seqs))
    found: dict[int, str] = {}
    for start in range(0, len(wanted), 500):
        batch = wanted[start : start + 500]
        rows = connection.execute(
            sa.select(audit_log.c.seq, audit_log.c.hash).where(audit_log.c.seq.in_(batch))
        )
        found.update({row.seq: row.hash for row in rows})
    return found


def last_seq(connection: sa.Connection) -> int:
    return int(connection.execute(sa.select(sa.func.max(audit_log.c.seq))).scalar() or 0)


def latest_event(connection: sa.Connection, action: str, *, after: int = 0) -> AuditEvent | None:
    """The newest event of `action` after event #`after`."""
    row = connection.execute(
        sa.select(audit_log)
        .where(audit_log.c.action == action, audit_log.c.seq > after)
        .order_by(audit_log.c.seq.desc())
        .limit(1)
    ).first()
    return None if row is None else _to_event(row)


def events_after(
    connection: sa.Connection, after: int, actions: Iterable[str], *, limit: int = 500
) -> list[AuditEvent]:
    """Events of the given actions after event #`after`, oldest first (a sensor's next page)."""
    rows = connection.execute(
        sa.select(audit_log)
        .where(audit_log.c.seq > after, audit_log.c.action.in_(list(actions)))
        .order_by(audit_log.c.seq)
        .limit(limit)
    ).all()
    return [_to_event(row) for row in rows]
