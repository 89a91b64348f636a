"""A persisted, audited alert outbox in the governance store: raising, listing, requeueing.

An alert is first written to the ``alerts`` table (with its audit event, in one
transaction) and only then delivered, so a Slack outage, a rate limit or a crash between
the two never loses it: the row stays due until Slack accepts it, and every state change
is in the hash-chained audit log.

State machine of an outbox row (``status``)::

    pending ──claim──▶ sending ──ok──────────▶ sent
       │                  │  ├──retryable───▶ retry ──(due)──▶ claim again
       │                  │  └──permanent───▶ failed ──requeue_failed──▶ pending
       │                  └──lease expired──▶ claimed again by any deliverer
       └──no token──▶ unconfigured ──(token set: due at once)──▶ claim

This module owns the row's shape and the ways in: ``enqueue`` (deduplicated, formatted
once) and ``requeue_failed``. Claiming, posting and recording the outcome is
``alerting/delivery.py``; it is kept apart because its leases and fencing are what make
delivery at least once, and they are easier to review without the dedup rules beside them.
No dagster import: sensors and the CLI call this module.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, Literal

import sqlalchemy as sa

from governance_pipelines.alerting.messages import AlertKind, format_alert
from governance_pipelines.canonical import canonical_json
from governance_pipelines.store import GovernanceStore, alert_records


class AlertStatus(StrEnum):
    """Outbox row states; see the module docstring for the transitions."""

    PENDING = "pending"
    SENDING = "sending"
    RETRY = "retry"
    SENT = "sent"
    FAILED = "failed"
    UNCONFIGURED = "unconfigured"


@dataclass(frozen=True)
class Alert:
    """What to tell people, as plain data; ``enqueue`` formats and stores it.

    ``subject`` (a feature or check name) narrows deduplication below model/kind/day, so
    drift on two features is two alerts. ``higher_is_worse`` says which direction of
    ``value`` is "worse" for a same-day repeat. ``channel`` None: the deliverer's default.
    """

    model_name: str
    kind: AlertKind | str
    severity: str
    day: date
    breached: str
    value: float | None = None
    threshold: float | None = None
    higher_is_worse: bool = True
    version: int | None = None
    subject: str | None = None
    unit: str | None = None
    url: str | None = None
    details: str | None = None
    channel: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", AlertKind(self.kind))
        if not self.model_name or not self.severity or not self.breached:
            raise ValueError("an alert needs a model_name, a severity and a breached text")
        for name in ("value", "threshold"):
            figure = getattr(self, name)
            if figure is not None and not math.isfinite(figure):
                raise ValueError(f"{name} must be a finite number, got {figure}")

    def is_worse_than(self, recorded: float | None, recorded_severity: str | None = None) -> bool:
        """Worse news than what was recorded: a graver severity (a failure after a pass, an
        ERROR after a WARN), or a figure further past its threshold."""
        if _severity_rank(self.severity) > _severity_rank(recorded_severity):
            return True
        if self.value is None or recorded is None:
            return False
        return self.value > recorded if self.higher_is_worse else self.value < recorded


_SEVERITY_ORDER = ("INFO", "WARN", "WARNING", "ERROR", "CRITICAL")


def _severity_rank(severity: str | None) -> int:
    """Unknown severities rank lowest, so they never mask a known grave one."""
    name = (severity or "").upper()
    return _SEVERITY_ORDER.index(name) if name in _SEVERITY_ORDER else -1


@dataclass(frozen=True)
class EnqueueOutcome:
    """``created`` (first today), ``worsened`` (new row, key ``…#n``) or ``duplicate``."""

    status: Literal["created", "worsened", "duplicate"]
    alert_id: int
    dedup_key: str


@dataclass(frozen=True)
class AlertRecord:
    """One outbox row, for display (``governance alerts``, the UI)."""

    id: int
    dedup_key: str
    model_name: str | None
    version: int | None
    kind: str
    severity: str
    value: float | None
    threshold: float | None
    message: str
    channel: str | None
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    slack_ts: str | None
    created_at: datetime
    sent_at: datetime | None


def dedup_key(alert: Alert) -> str:
    """``model/kind/day[/subject]``: one alert per model, kind, day (and subject).

    ``#`` (the worsening suffix's separator) and ``%`` are escaped; an over-long key is
    shortened with a hash so it fits the column and stays unique.
    """
    parts = [alert.model_name, str(alert.kind), alert.day.isoformat(), alert.subject or ""]
    key = "/".join(p.replace("%", "%25").replace("#", "%23") for p in parts if p)
    if len(key) > 247:  # alerts.dedup_key is String(255), and leaves room for '#n'
        key = key[:200] + "/sha256:" + hashlib.sha256(key.encode()).hexdigest()[:32]
    return key


def enqueue(
    store: GovernanceStore, alert: Alert, *, actor: str, now: datetime | None = None
) -> EnqueueOutcome:
    """Record an alert unless today's alert for the same key already says as much.

    A repeat is suppressed unless its value is worse than the last recorded one; then it
    becomes a new row (``key#2``, ``#3`` …) so the earlier alert stays as it was sent.
    Both outcomes are audited in the same serialised transaction as the row, which also
    makes the read-then-insert safe against concurrent enqueues.
    """
    base = dedup_key(alert)
    created_at = as_utc(now)

    def work(connection: sa.Connection) -> EnqueueOutcome:
        group = alert_records.same_key(connection, base)
        to_store = alert
        if group:
            latest = max(group, key=lambda r: r.id)
            if not alert.is_worse_than(latest.value, latest.severity):
                seen = {"alert_id": latest.id, "dedup_key": latest.dedup_key}
                seen.update(value=alert.value, recorded=latest.value)
                audit_event(connection, actor, "alert.suppressed_duplicate", alert, seen)
                return EnqueueOutcome("duplicate", latest.id, latest.dedup_key)
            earlier = latest.severity if latest.value is None else f"{latest.value:g}"
            note = f"Worse than the earlier alert today ({earlier})."
            to_store = replace(alert, details=f"{alert.details} {note}" if alert.details else note)
        key = f"{base}#{len(group) + 1}" if group else base
        text, payload_json = _render(to_store)
        copied = ("model_name", "version", "severity", "value", "threshold", "channel")
        facts = {"dedup_key": key, "kind": str(alert.kind), "message": text}
        facts.update({name: getattr(alert, name) for name in copied})
        pending = {"status": AlertStatus.PENDING.value, "attempts": 0, "created_at": created_at}
        status: Literal["created", "worsened"] = "worsened" if group else "created"
        row = alert_records.insert_alert(
            connection,
            {**facts, **pending, "payload_json": payload_json},
            actor=actor,
            payload={**facts, "outcome": status},
        )
        return EnqueueOutcome(status, int(row.id), key)

    return store.unit_of_work(work)


def _render(alert: Alert) -> tuple[str, str]:
    """Format once, at enqueue time, so what is stored and audited is exactly what is sent."""
    version = None if alert.version is None else str(alert.version)
    shown = ("kind", "breached", "value", "threshold", "unit", "url", "details")
    formatted = format_alert(
        model=alert.model_name, version=version, **{k: getattr(alert, k) for k in shown}
    )
    record = {**asdict(alert), "day": alert.day.isoformat(), "kind": str(alert.kind)}
    payload = {"alert": record, "text": formatted.text, "blocks": formatted.blocks}
    return formatted.text, canonical_json(payload)


def requeue_failed(
    store: GovernanceStore,
    *,
    actor: str,
    alert_ids: list[int] | None = None,
    model: str | None = None,
) -> int:
    """Make ``failed`` alerts due again (after fixing the channel or token); returns the count.

    ``attempts`` restarts at 0 so backoff starts short again; earlier attempts stay in
    the audit log and ``last_error`` keeps the last reason until the next attempt.
    """

    def work(connection: sa.Connection) -> int:
        rows = alert_records.failed(connection, alert_ids=alert_ids, model=model)
        for row in rows:
            alert_records.requeue(connection, row.id)
            before = dict(alert_id=row.id, attempts=row.attempts, last_error=row.last_error)
            audit_event(connection, actor, "alert.requeued", row, before)
        return len(rows)

    return store.unit_of_work(work)


def list_alerts(
    store: GovernanceStore,
    *,
    model: str | None = None,
    status: AlertStatus | str | None = None,
    limit: int = 50,
    kind: AlertKind | str | None = None,
) -> list[AlertRecord]:
    """Newest first, for display; includes alerts that were never sent (and why)."""
    with store.engine.connect() as connection:
        rows = alert_records.recent(
            connection,
            model=model,
            status=None if status is None else AlertStatus(status).value,
            kind=None if kind is None else str(AlertKind(kind)),
            limit=limit,
        )
    return [_alert_record(row) for row in rows]


def _alert_record(row: sa.Row[Any]) -> AlertRecord:
    # SQLite hands timestamps back without their zone; every stored timestamp is UTC.
    return AlertRecord(
        id=row.id,
        dedup_key=row.dedup_key,
        model_name=row.model_name,
        version=row.version,
        kind=row.kind,
        severity=row.severity,
        value=row.value,
        threshold=row.threshold,
        message=row.message,
        channel=row.channel,
        status=row.status,
        attempts=row.attempts,
        next_attempt_at=None if row.next_attempt_at is None else as_utc(row.next_attempt_at),
        last_error=row.last_error,
        slack_ts=row.slack_ts,
        created_at=as_utc(row.created_at),
        sent_at=None if row.sent_at is None else as_utc(row.sent_at),
    )


def audit_event(
    connection: sa.Connection, actor: str, action: str, about: Any, payload: Any
) -> None:
    """Append an ``alert.*`` event; ``about`` is anything with model_name and version.

    Shared with ``delivery`` so every outbox state change is recorded the same way, in the
    caller's transaction.
    """
    alert_records.record_event(connection, actor=actor, action=action, about=about, payload=payload)


def as_utc(value: datetime | None) -> datetime:
    """Aware UTC; naive counts as UTC, None is now. SQLite compares timestamps as text, so
    every stored and compared timestamp (enqueue's and delivery's) must be in one zone."""
    if value is None:
        return datetime.now(UTC)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
