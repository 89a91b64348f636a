"""The alert outbox's rows: raised (bound to their audit event), claimed, finished, held,
requeued — each state change inside the caller's unit of work with its `alert.*` event.

The policy (what is a duplicate, what is worse) lives in `alerting/outbox.py`, backoff and
delivery in `alerting/delivery.py`; this module is the only code that touches the `alerts` table.
Status values are the outbox's (`pending`, `sending`, `retry`, `sent`, `failed`,
`unconfigured`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from governance_pipelines.store.audit import append_event
from governance_pipelines.store.bindings import insert_bound
from governance_pipelines.store.schema import alerts

PENDING, SENDING, RETRY, FAILED, UNCONFIGURED = (
    "pending",
    "sending",
    "retry",
    "failed",
    "unconfigured",
)


def record_event(
    connection: sa.Connection,
    *,
    actor: str,
    action: str,
    about: Any,
    payload: Mapping[str, Any],
) -> None:
    """An `alert.*` event; `about` is anything with model_name and version."""
    append_event(
        connection,
        actor=actor,
        action=action,
        model_name=about.model_name,
        version=about.version,
        payload=payload,
    )


def same_key(connection: sa.Connection, base_key: str) -> list[sa.Row[Any]]:
    """Every alert raised under `base_key` (and its worsening repeats `base_key#n`)."""
    key = alerts.c.dedup_key
    same = (key == base_key) | key.startswith(f"{base_key}#", autoescape=True)
    return list(connection.execute(sa.select(alerts).where(same)).all())


def insert_alert(
    connection: sa.Connection,
    values: Mapping[str, Any],
    *,
    actor: str,
    payload: Mapping[str, Any],
) -> sa.Row[Any]:
    """A new outbox row, bound to its `alert.raised` event."""
    row, _event = insert_bound(
        connection,
        alerts,
        values,
        actor=actor,
        action="alert.raised",
        model_name=values.get("model_name"),
        version=values.get("version"),
        payload=payload,
    )
    return row


def _waiting(at: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(
        alerts.c.status.in_([PENDING, RETRY]),
        sa.or_(alerts.c.next_attempt_at.is_(None), alerts.c.next_attempt_at <= at),
    )


def next_due(connection: sa.Connection, at: datetime) -> sa.Row[Any] | None:
    """The oldest due row: waiting, held for a missing token, or with a stale lease."""
    stale = sa.and_(alerts.c.status == SENDING, alerts.c.next_attempt_at <= at)
    due = sa.or_(_waiting(at), stale, alerts.c.status == UNCONFIGURED)
    return connection.execute(
        sa.select(alerts).where(due).order_by(alerts.c.id).limit(1)
    ).one_or_none()


def claim(connection: sa.Connection, row: sa.Row[Any], lease_until: datetime) -> bool:
    """Take `row` for one attempt, if nobody changed it since it was read."""
    claimed = connection.execute(
        alerts.update()
        .where(alerts.c.id == row.id, alerts.c.status == row.status)
        .where(alerts.c.attempts == row.attempts)
        .values(status=SENDING, attempts=row.attempts + 1, next_attempt_at=lease_until)
    )
    return claimed.rowcount == 1


def finish(
    connection: sa.Connection,
    alert_id: int,
    *,
    attempts: int,
    lease_until: datetime,
    values: Mapping[str, Any],
) -> bool:
    """Record an attempt's outcome, only if this deliverer's claim still holds."""
    updated = connection.execute(
        alerts.update()
        .where(alerts.c.id == alert_id, alerts.c.status == SENDING)
        .where(alerts.c.attempts == attempts, alerts.c.next_attempt_at == lease_until)
        .values(**values)
    )
    return updated.rowcount == 1


def waiting(connection: sa.Connection, at: datetime) -> list[sa.Row[Any]]:
    return list(connection.execute(sa.select(alerts).where(_waiting(at))).all())


def hold_unconfigured(connection: sa.Connection, alert_id: int, error: str) -> None:
    connection.execute(
        alerts.update().where(alerts.c.id == alert_id).values(status=UNCONFIGURED, last_error=error)
    )


def count_unconfigured(connection: sa.Connection) -> int:
    held = sa.select(sa.func.count()).where(alerts.c.status == UNCONFIGURED)
    return int(connection.execute(held).scalar_one())


def failed(
    connection: sa.Connection, *, alert_ids: Sequence[int] | None, model: str | None
) -> list[sa.Row[Any]]:
    query = sa.select(alerts).where(alerts.c.status == FAILED)
    if alert_ids is not None:
        query = query.where(alerts.c.id.in_(list(alert_ids)))
    if model is not None:
        query = query.where(alerts.c.model_name == model)
    return list(connection.execute(query.order_by(alerts.c.id)).all())


def requeue(connection: sa.Connection, alert_id: int) -> None:
    connection.execute(
        alerts.update()
        .where(alerts.c.id == alert_id)
        .values(status=PENDING, attempts=0, next_attempt_at=None)
    )


def recent(
    connection: sa.Connection,
    *,
    model: str | None,
    status: str | None,
    kind: str | None,
    limit: int,
) -> list[sa.Row[Any]]:
    """Newest first."""
    query = sa.select(alerts).order_by(alerts.c.id.desc()).limit(limit)
    if model is not None:
        query = query.where(alerts.c.model_name == model)
    if kind is not None:
        query = query.where(alerts.c.kind == kind)
    if status is not None:
        query = query.where(alerts.c.status == status)
    return list(connection.execute(query).all())


def count_by_status(connection: sa.Connection) -> dict[str, int]:
    query = sa.select(alerts.c.status, sa.func.count()).group_by(alerts.c.status)
    return {str(status): int(count) for status, count in connection.execute(query)}
