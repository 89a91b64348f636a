"""A persisted, audited alert outbox in the governance store.

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

Claims are committed before posting (``status='sending'``, ``attempts+1``,
``next_attempt_at`` = lease expiry) inside the store's serialised write transaction, so
two deliverers never post the same row; the result is written only if the claim is still
held. Delivery is *at least once*: when Slack times out it may still have posted the
message, and a lease that expires mid-post (a crashed or stalled deliverer) makes the row
due again. Both can produce a duplicate Slack message, never a lost alert; the audit log
shows which (``alert.retry_scheduled`` with code ``timeout``, ``alert.lease_expired``).
No dagster import: sensors and the CLI call this module.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from functools import partial
from typing import Any, Literal

import sqlalchemy as sa

from governance_pipelines.alerting.messages import AlertKind, format_alert
from governance_pipelines.alerting.slack import (
    DeliveryOutcome,
    SlackSettings,
    backoff_delay,
    make_client,
    post_message,
)
from governance_pipelines.canonical import canonical_json
from governance_pipelines.store import GovernanceStore, alert_records

log = logging.getLogger(__name__)

NOT_CONFIGURED = "Slack is not configured (set SLACK_BOT_TOKEN)"
DEFAULT_LEASE = timedelta(minutes=5)
DEFAULT_MAX_ATTEMPTS = 24  # with the 1 h backoff cap: about a day of outage before "failed"


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
class DeliveryReport:
    """What one ``deliver_pending`` call did; ``notice`` is set when Slack is not configured."""

    sent: int = 0
    retry_scheduled: int = 0
    failed_permanently: int = 0
    not_configured: int = 0
    claims_lost: int = 0
    notice: str | None = None


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
    created_at = _utc(now)

    def work(connection: sa.Connection) -> EnqueueOutcome:
        group = alert_records.same_key(connection, base)
        to_store = alert
        if group:
            latest = max(group, key=lambda r: r.id)
            if not alert.is_worse_than(latest.value, latest.severity):
                seen = {"alert_id": latest.id, "dedup_key": latest.dedup_key}
                seen.update(value=alert.value, recorded=latest.value)
                _audit(connection, actor, "alert.suppressed_duplicate", alert, seen)
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


@dataclass(frozen=True)
class _Claim:
    """A row this deliverer holds; (attempts, lease_until) is the fencing token."""

    row: sa.Row[Any]
    attempts: int
    lease_until: datetime


def deliver_pending(
    store: GovernanceStore,
    settings: SlackSettings | None,
    *,
    actor: str,
    now: datetime | None = None,
    limit: int = 50,
    default_channel: str | None = None,
    lease: timedelta = DEFAULT_LEASE,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> DeliveryReport:
    """Post due alerts (oldest first), one claim at a time, and record each result.

    Claims and results commit separately, so a crash loses at most the in-flight attempt
    (its lease expires and it is retried). Stops at the first retryable failure: rate
    limits, 5xx and timeouts are Slack-wide, so the rest wait for the next call. Without a
    token, due alerts become ``unconfigured``. ``lease`` must exceed the Slack timeout.
    """
    at = _utc(now)
    if settings is None or not settings.token:
        return _hold_unconfigured(store, at, actor)
    if lease.total_seconds() <= settings.timeout_s:
        raise ValueError(f"lease ({lease}) must be longer than the Slack timeout")
    client = make_client(settings)
    counts = dict.fromkeys(("sent", "retry_scheduled", "failed_permanently", "claims_lost"), 0)
    for _ in range(limit):
        claim: _Claim | None = store.unit_of_work(lambda c: _claim_next(c, at, at + lease, actor))
        if claim is None:
            break
        channel = claim.row.channel or default_channel
        if channel is None:
            outcome = DeliveryOutcome(
                delivered=False,
                retryable=False,
                code="no_channel",
                error=f"no Slack channel for model {claim.row.model_name!r}: set slack_channel "
                "for the model or its team in governance.yaml, then requeue",
            )
        else:
            payload = json.loads(claim.row.payload_json)
            outcome = post_message(client, channel, payload["text"], payload["blocks"])
        counts[store.unit_of_work(partial(_finish, claim, outcome, at, actor, max_attempts))] += 1
        if outcome.retryable:
            break
    return DeliveryReport(
        sent=counts["sent"],
        retry_scheduled=counts["retry_scheduled"],
        failed_permanently=counts["failed_permanently"],
        claims_lost=counts["claims_lost"],
    )


def _claim_next(
    connection: sa.Connection, at: datetime, lease_until: datetime, actor: str
) -> _Claim | None:
    """Take the oldest due row: waiting, held for a missing token, or with a stale lease."""
    row = alert_records.next_due(connection, at)
    if row is None or not alert_records.claim(connection, row, lease_until):
        return None  # (a lost claim is only possible if writes were not serialised)
    if row.status == AlertStatus.SENDING.value:
        note = "a deliverer did not finish in time; the alert may have been posted"
        stale = dict(alert_id=row.id, attempt=row.attempts, lease_until=_iso(row.next_attempt_at))
        _audit(connection, actor, "alert.lease_expired", row, {**stale, "note": note})
    return _Claim(row, row.attempts + 1, lease_until)


def _finish(
    claim: _Claim,
    outcome: DeliveryOutcome,
    at: datetime,
    actor: str,
    max_attempts: int,
    connection: sa.Connection,
) -> str:
    """Record an attempt's outcome (a ``DeliveryReport`` field name is returned), but only
    if this deliverer still holds the claim."""
    details: dict[str, Any] = dict(alert_id=claim.row.id, attempt=claim.attempts, code=outcome.code)
    values: dict[str, Any] = {"next_attempt_at": None, "last_error": outcome.error}
    if outcome.delivered:
        result, action = "sent", "alert.sent"
        values.update(status=AlertStatus.SENT.value, slack_ts=outcome.ts, sent_at=at)
        details["slack_ts"] = outcome.ts
    elif outcome.retryable and claim.attempts < max_attempts:
        retry_at = at + timedelta(seconds=backoff_delay(claim.attempts, outcome.retry_after_s))
        result, action = "retry_scheduled", "alert.retry_scheduled"
        values.update(status=AlertStatus.RETRY.value, next_attempt_at=retry_at)
        details.update(error=outcome.error, next_attempt_at=_iso(retry_at))
    else:
        error = outcome.error or "unknown error"
        if outcome.retryable:
            error = f"gave up after {claim.attempts} attempts: {error}"
        result, action = "failed_permanently", "alert.failed"
        values.update(status=AlertStatus.FAILED.value, last_error=error)
        details["error"] = error
    held = alert_records.finish(
        connection,
        claim.row.id,
        attempts=claim.attempts,
        lease_until=claim.lease_until,
        values=values,
    )
    if not held:
        # Our lease expired and another deliverer reclaimed the row: it owns the outcome.
        log.warning("alert %s: lease expired before Slack's answer was recorded", claim.row.id)
        result, action = "claims_lost", "alert.claim_lost"
        details.update(delivered=outcome.delivered, slack_ts=outcome.ts, error=outcome.error)
    _audit(connection, actor, action, claim.row, details)
    return result


def _hold_unconfigured(store: GovernanceStore, at: datetime, actor: str) -> DeliveryReport:
    """Without a token: keep due alerts as ``unconfigured`` (recorded and listed, not lost)."""

    def work(connection: sa.Connection) -> int:
        for row in alert_records.waiting(connection, at):
            alert_records.hold_unconfigured(connection, row.id, NOT_CONFIGURED)
            reason = {"alert_id": row.id, "error": NOT_CONFIGURED}
            _audit(connection, actor, "alert.not_configured", row, reason)
        return alert_records.count_unconfigured(connection)

    held = store.unit_of_work(work)
    log.warning("%s: %d alert(s) kept in the store until a token is set", NOT_CONFIGURED, held)
    return DeliveryReport(not_configured=held, notice=NOT_CONFIGURED)


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
            _audit(connection, actor, "alert.requeued", row, before)
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
        next_attempt_at=None if row.next_attempt_at is None else _utc(row.next_attempt_at),
        last_error=row.last_error,
        slack_ts=row.slack_ts,
        created_at=_utc(row.created_at),
        sent_at=None if row.sent_at is None else _utc(row.sent_at),
    )


def _audit(connection: sa.Connection, actor: str, action: str, about: Any, payload: Any) -> None:
    """Append an ``alert.*`` event; ``about`` is anything with model_name and version."""
    alert_records.record_event(connection, actor=actor, action=action, about=about, payload=payload)


def _utc(value: datetime | None) -> datetime:
    """Aware UTC; naive counts as UTC. SQLite compares timestamps as text, so every stored
    and compared timestamp must be in one zone."""
    if value is None:
        return datetime.now(UTC)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else _utc(value).isoformat()
