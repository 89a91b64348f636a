"""Delivering the alert outbox to Slack: claim a due row, post it, record the outcome.

Claims are committed before posting (``status='sending'``, ``attempts+1``,
``next_attempt_at`` = lease expiry) inside the store's serialised write transaction, so
two deliverers never post the same row; the result is written only if the claim is still
held. Delivery is *at least once*: when Slack times out it may still have posted the
message, and a lease that expires mid-post (a crashed or stalled deliverer) makes the row
due again. Both can produce a duplicate Slack message, never a lost alert; the audit log
shows which (``alert.retry_scheduled`` with code ``timeout``, ``alert.lease_expired``).

The row's states and how alerts enter the outbox are ``alerting/outbox.py``.
No dagster import: sensors and the CLI call this module.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import sqlalchemy as sa

from governance_pipelines.alerting.outbox import AlertStatus, as_utc, audit_event
from governance_pipelines.alerting.slack import (
    DeliveryOutcome,
    SlackSettings,
    backoff_delay,
    make_client,
    post_message,
)
from governance_pipelines.store import GovernanceStore, alert_records

log = logging.getLogger(__name__)

NOT_CONFIGURED = "Slack is not configured (set SLACK_BOT_TOKEN)"
DEFAULT_LEASE = timedelta(minutes=5)
DEFAULT_MAX_ATTEMPTS = 24  # with the 1 h backoff cap: about a day of outage before "failed"


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
    at = as_utc(now)
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
        audit_event(connection, actor, "alert.lease_expired", row, {**stale, "note": note})
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
    audit_event(connection, actor, action, claim.row, details)
    return result


def _hold_unconfigured(store: GovernanceStore, at: datetime, actor: str) -> DeliveryReport:
    """Without a token: keep due alerts as ``unconfigured`` (recorded and listed, not lost)."""

    def work(connection: sa.Connection) -> int:
        for row in alert_records.waiting(connection, at):
            alert_records.hold_unconfigured(connection, row.id, NOT_CONFIGURED)
            reason = {"alert_id": row.id, "error": NOT_CONFIGURED}
            audit_event(connection, actor, "alert.not_configured", row, reason)
        return alert_records.count_unconfigured(connection)

    held = store.unit_of_work(work)
    log.warning("%s: %d alert(s) kept in the store until a token is set", NOT_CONFIGURED, held)
    return DeliveryReport(not_configured=held, notice=NOT_CONFIGURED)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else as_utc(value).isoformat()
