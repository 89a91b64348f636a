"""The alert outbox against a real HTTP fake of Slack, on SQLite and PostgreSQL.

What must hold: an alert is never lost (Slack down, rate-limited, misconfigured or no
token at all), is posted once per day unless it worsens, is never posted twice by two
deliverers racing, and every step is in the audit chain. Time is passed in with ``now=``
so retries are tested without sleeping.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from governance_pipelines.alerting.delivery import NOT_CONFIGURED, DeliveryReport, deliver_pending
from governance_pipelines.alerting.outbox import (
    Alert,
    AlertRecord,
    enqueue,
    list_alerts,
    requeue_failed,
)
from governance_pipelines.alerting.slack import SlackSettings
from governance_pipelines.store import GovernanceStore
from governance_pipelines_tests.fakes.slack_server import (
    FakeSlackServer,
    ScriptedFailure,
    make_fake_slack_fixture,
)

TOKEN = "xoxb-outbox-test"
ACTOR = "outbox-test"
DAY = date(2024, 5, 1)
T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)

fake_slack = make_fake_slack_fixture(token=TOKEN, channels=["ml-alerts", "risk-alerts"])


def _settings(
    server: FakeSlackServer, *, token: str | None = TOKEN, timeout_s: float = 2.0
) -> SlackSettings:
    return SlackSettings(token=token, base_url=server.base_url, timeout_s=timeout_s)


def _alert(**changes: Any) -> Alert:
    fields: dict[str, Any] = {
        "model_name": "fraud_model",
        "kind": "drift",
        "severity": "warning",
        "day": DAY,
        "breached": "PSI of feature amount",
        "value": 0.31,
        "threshold": 0.2,
        "version": 3,
        "subject": "amount",
        "url": "http://dagster.local/assets/fraud_model/drift_report",
        "channel": "#ml-alerts",
    }
    fields.update(changes)
    return Alert(**fields)


def _deliver(
    store: GovernanceStore, server: FakeSlackServer, at: datetime, **kw: Any
) -> DeliveryReport:
    settings = _settings(server, timeout_s=kw.pop("timeout_s", 2.0))
    return deliver_pending(store, settings, actor=ACTOR, now=at, **kw)


def _only(store: GovernanceStore) -> AlertRecord:
    [record] = list_alerts(store)
    return record


def _alert_actions(store: GovernanceStore) -> list[str]:
    events = store.recent_events(limit=10_000)
    return [e.action for e in events if e.action.startswith("alert.")]


def _chain_ok(store: GovernanceStore) -> bool:
    verification = store.verify_audit_chain()
    return verification.ok


# -- enqueue and deduplication -----------------------------------------------------------


def test_happy_path_posts_the_stored_message_to_its_channel(
    store: GovernanceStore, fake_slack: FakeSlackServer
) -> None:
    queued = enqueue(store, _alert(), actor=ACTOR, now=T0)

    report = _deliver(store, fake_slack, T0)

    assert queued.status == "created"
    assert queued.dedup_key == "fraud_model/drift/2024-05-01/amount"
    assert report == DeliveryReport(sent=1)
    [message] = fake_slack.messages
    assert message.channel == "#ml-alerts"
    assert message.text == (
        ":chart_with_upwards_trend: Drift: fraud_model v3: PSI of feature amount"
        " 0.31 &gt; threshold 0.2"
    )
    assert message.blocks is not None
    assert message.blocks[0]["text"]["text"] == "Drift: fraud_model v3"
    assert message.blocks[-1]["elements"][0]["url"].endswith("/fraud_model/drift_report")
    record = _only(store)
    assert (record.id, record.status, record.attempts) == (queued.alert_id, "sent", 1)
    assert (record.slack_ts, record.sent_at, record.message) == (message.ts, T0, message.text)
    assert (record.value, record.threshold, record.last_error) == (0.31, 0.2, None)
    # Nothing is due any more: a second run posts nothing.
    assert _deliver(store, fake_slack, T0 + timedelta(hours=1)) == DeliveryReport()
    assert len(fake_slack.messages) == 1
    assert _alert_actions(store) == ["alert.raised", "alert.sent"]
    assert _chain_ok(store)


def test_same_day_repeat_is_a_duplicate(store: GovernanceStore) -> None:
    first = enqueue(store, _alert(), actor=ACTOR)
    same = enqueue(store, _alert(), actor=ACTOR)
    better = enqueue(store, _alert(value=0.25), actor=ACTOR)
    other_feature = enqueue(store, _alert(subject="age"), actor=ACTOR)
    next_day = enqueue(store, _alert(day=DAY + timedelta(days=1)), actor=ACTOR)

    assert (same.status, same.alert_id) == ("duplicate", first.alert_id)
    assert (better.status, better.alert_id) == ("duplicate", first.alert_id)
    assert other_feature.status == next_day.status == "created"
    assert len(list_alerts(store)) == 3
    assert _alert_actions(store) == [
        "alert.raised",
        "alert.suppressed_duplicate",
        "alert.suppressed_duplicate",
        "alert.raised",
        "alert.raised",
    ]
    suppressed = store.recent_events(action="alert.suppressed_duplicate", limit=1)[0]
    assert suppressed.payload["recorded"] == 0.31
    assert suppressed.payload["value"] == 0.25
    assert _chain_ok(store)


def test_worse_value_is_a_new_alert_and_history_is_kept(
    store: GovernanceStore, fake_slack: FakeSlackServer
) -> None:
    enqueue(store, _alert(), actor=ACTOR)
    _deliver(store, fake_slack, T0)

    worse = enqueue(store, _alert(value=0.45), actor=ACTOR)
    not_worse_than_latest = enqueue(store, _alert(value=0.40), actor=ACTOR)
    report = _deliver(store, fake_slack, T0 + timedelta(minutes=5))

    assert worse.status == "worsened"
    assert worse.dedup_key == "fraud_model/drift/2024-05-01/amount#2"
    assert (not_worse_than_latest.status, not_worse_than_latest.alert_id) == (
        "duplicate",
        worse.alert_id,
    )
    assert report.sent == 1
    newest, original = list_alerts(store)
    assert (original.value, original.status) == (0.31, "sent")
    assert "0.31 &gt;" in original.message
    assert (newest.value, newest.status) == (0.45, "sent")
    assert [m.text for m in fake_slack.messages] == [original.message, newest.message]
    assert "Worse than the earlier alert today (0.31)" in str(fake_slack.messages[1].blocks)


def test_lower_is_worse_metrics_worsen_downwards(sqlite_store: GovernanceStore) -> None:
    def perf(value: float) -> Alert:
        return _alert(kind="performance", subject="roc_auc", value=value, threshold=0.75,
                      higher_is_worse=False)  # fmt: skip

    assert enqueue(sqlite_store, perf(0.71), actor=ACTOR).status == "created"
    assert enqueue(sqlite_store, perf(0.80), actor=ACTOR).status == "duplicate"
    assert enqueue(sqlite_store, perf(0.65), actor=ACTOR).status == "worsened"
    assert enqueue(sqlite_store, perf(0.66), actor=ACTOR).status == "duplicate"


def test_alerts_without_figures_deduplicate_by_key_only(sqlite_store: GovernanceStore) -> None:
    failure = _alert(kind="run_failure", subject="training_job", value=None, threshold=None)

    assert enqueue(sqlite_store, failure, actor=ACTOR).status == "created"
    assert enqueue(sqlite_store, failure, actor=ACTOR).status == "duplicate"


def test_keys_are_escaped_so_similar_names_do_not_collide(sqlite_store: GovernanceStore) -> None:
    """``_`` and ``%`` are LIKE wildcards and ``#`` separates the worsening suffix."""
    first = enqueue(sqlite_store, _alert(subject="a_b#2"), actor=ACTOR)
    lookalike = enqueue(
        sqlite_store, _alert(model_name="fraudXmodel", subject="a_b#2"), actor=ACTOR
    )
    escaped = enqueue(sqlite_store, _alert(subject="a_b%232", value=0.5), actor=ACTOR)
    plain = enqueue(sqlite_store, _alert(subject="a_b", value=0.5), actor=ACTOR)

    assert first.dedup_key == "fraud_model/drift/2024-05-01/a_b%232"
    assert [o.status for o in (first, lookalike, escaped, plain)] == ["created"] * 4


def test_invalid_alerts_are_refused_before_anything_is_stored(
    sqlite_store: GovernanceStore,
) -> None:
    with pytest.raises(ValueError, match="AlertKind"):
        _alert(kind="bogus")
    with pytest.raises(ValueError, match="finite"):
        _alert(value=float("nan"))
    with pytest.raises(ValueError, match="url"):
        enqueue(sqlite_store, _alert(url="javascript:alert(1)"), actor=ACTOR)
    assert list_alerts(sqlite_store) == []


# -- retries -----------------------------------------------------------------------------


def test_rate_limit_waits_for_retry_after_then_delivers(
    store: GovernanceStore, fake_slack: FakeSlackServer
) -> None:
    fake_slack.fail_next(1, ScriptedFailure.rate_limited(retry_after_s=120))
    enqueue(store, _alert(), actor=ACTOR)

    limited = _deliver(store, fake_slack, T0)
    record = _only(store)
    too_early = _deliver(store, fake_slack, T0 + timedelta(seconds=119))
    on_time = _deliver(store, fake_slack, T0 + timedelta(seconds=120))

    assert limited == DeliveryReport(retry_scheduled=1)
    assert (record.status, record.attempts) == ("retry", 1)
    assert record.next_attempt_at is not None
    assert record.next_attempt_at >= T0 + timedelta(seconds=120)
    assert "rate-limited" in (record.last_error or "")
    assert too_early == DeliveryReport()
    assert on_time == DeliveryReport(sent=1)
    assert [r.status for r in fake_slack.requests] == [429, 200]
    assert (_only(store).status, _only(store).attempts, _only(store).last_error) == (
        "sent",
        2,
        None,
    )
    assert _alert_actions(store) == ["alert.raised", "alert.retry_scheduled", "alert.sent"]
    assert _chain_ok(store)


@pytest.mark.parametrize(
    "failure",
    [ScriptedFailure.http_error(500), ScriptedFailure.slow(delay_s=0.6)],
    ids=["http_500", "timeout"],
)
def test_transient_failures_back_off_and_are_retried(
    store: GovernanceStore, fake_slack: FakeSlackServer, failure: ScriptedFailure
) -> None:
    _assert_retried_with_backoff(store, fake_slack, failure)


@pytest.mark.parametrize(
    "failure",
    [ScriptedFailure.disconnect(), ScriptedFailure.api_error("internal_error")],
    ids=["disconnect", "ok_false_internal_error"],
)
def test_other_transient_failures_are_retried(
    sqlite_store: GovernanceStore, fake_slack: FakeSlackServer, failure: ScriptedFailure
) -> None:
    _assert_retried_with_backoff(sqlite_store, fake_slack, failure)


def _assert_retried_with_backoff(
    store: GovernanceStore, fake_slack: FakeSlackServer, failure: ScriptedFailure
) -> None:
    fake_slack.fail_next(2, failure)
    enqueue(store, _alert(), actor=ACTOR)

    first = _deliver(store, fake_slack, T0, timeout_s=0.2)
    after_first = _only(store).next_attempt_at
    second = _deliver(store, fake_slack, T0 + timedelta(seconds=30), timeout_s=0.2)
    after_second = _only(store).next_attempt_at
    third = _deliver(store, fake_slack, T0 + timedelta(seconds=90))

    assert first == second == DeliveryReport(retry_scheduled=1)
    # Exponential backoff from the attempt time: 30 s, then 60 s.
    assert after_first == T0 + timedelta(seconds=30)
    assert after_second == T0 + timedelta(seconds=90)
    assert third == DeliveryReport(sent=1)
    assert (_only(store).status, _only(store).attempts) == ("sent", 3)
    assert len(fake_slack.messages) == 1
    assert _alert_actions(store).count("alert.retry_scheduled") == 2
    assert _chain_ok(store)


def test_a_retryable_failure_stops_the_batch(
    sqlite_store: GovernanceStore, fake_slack: FakeSlackServer
) -> None:
    """Slack-wide trouble: posting the rest now would only earn more 429s/timeouts."""
    fake_slack.fail_next(1, ScriptedFailure.http_error(503))
    for feature in ("amount", "age", "country"):
        enqueue(sqlite_store, _alert(subject=feature), actor=ACTOR)

    stopped = _deliver(sqlite_store, fake_slack, T0)
    rest = _deliver(sqlite_store, fake_slack, T0 + timedelta(seconds=1))

    assert stopped == DeliveryReport(retry_scheduled=1)
    assert rest == DeliveryReport(sent=2)
    assert sorted(r.status for r in list_alerts(sqlite_store)) == ["retry", "sent", "sent"]


def test_gives_up_after_max_attempts_but_keeps_the_alert(
    sqlite_store: GovernanceStore, fake_slack: FakeSlackServer
) -> None:
    fake_slack.fail_next(2, ScriptedFailure.http_error(500))
    enqueue(sqlite_store, _alert(), actor=ACTOR)

    _deliver(sqlite_store, fake_slack, T0, max_attempts=2)
    report = _deliver(sqlite_store, fake_slack, T0 + timedelta(minutes=1), max_attempts=2)

    assert report == DeliveryReport(failed_permanently=1)
    record = _only(sqlite_store)
    assert record.status == "failed"
    assert (record.last_error or "").startswith("gave up after 2 attempts: Slack answered HTTP 500")


def test_timeout_after_slack_posted_gives_a_duplicate_not_a_loss(
    sqlite_store: GovernanceStore, fake_slack: FakeSlackServer
) -> None:
    """At least once: a timed-out post may have landed, and the retry posts it again."""
    fake_slack.fail_next(1, ScriptedFailure.slow(delay_s=0.4, deliver=True))
    enqueue(sqlite_store, _alert(), actor=ACTOR)

    timed_out = _deliver(sqlite_store, fake_slack, T0, timeout_s=0.2)
    _wait_for(lambda: len(fake_slack.messages) == 1)
    retried = _deliver(sqlite_store, fake_slack, T0 + timedelta(seconds=30))

    assert timed_out == DeliveryReport(retry_scheduled=1)
    assert "may have been posted" in str(
        sqlite_store.recent_events(action="alert.retry_scheduled", limit=1)[0].payload
    )
    assert retried == DeliveryReport(sent=1)
    assert [m.text for m in fake_slack.messages] == [_only(sqlite_store).message] * 2


# -- permanent failures, configuration ---------------------------------------------------


def test_channel_not_found_fails_permanently_and_requeue_delivers(
    store: GovernanceStore, fake_slack: FakeSlackServer
) -> None:
    enqueue(store, _alert(channel="#credit-risk-ml"), actor=ACTOR)

    failed = _deliver(store, fake_slack, T0)
    later = _deliver(store, fake_slack, T0 + timedelta(days=2))
    [record] = list_alerts(store, status="failed")

    assert failed == DeliveryReport(failed_permanently=1)
    assert later == DeliveryReport()  # a permanent failure is not retried by itself
    assert [r.error for r in fake_slack.requests] == ["channel_not_found"]
    assert "invite the bot to #credit-risk-ml" in (record.last_error or "")
    assert record.next_attempt_at is None

    fake_slack.add_channel("credit-risk-ml")
    assert requeue_failed(store, actor="ops", model="other_model") == 0
    assert requeue_failed(store, actor="ops", model="fraud_model") == 1
    assert requeue_failed(store, actor="ops") == 0  # nothing failed any more
    delivered = _deliver(store, fake_slack, T0 + timedelta(days=2))

    assert delivered == DeliveryReport(sent=1)
    assert (_only(store).status, _only(store).attempts) == ("sent", 1)
    assert [m.channel for m in fake_slack.messages] == ["#credit-risk-ml"]
    assert _alert_actions(store) == ["alert.raised", "alert.failed", "alert.requeued", "alert.sent"]
    assert store.recent_events(action="alert.requeued", limit=1)[0].actor == "ops"
    assert _chain_ok(store)


def test_alert_without_channel_uses_the_default_or_fails_clearly(
    sqlite_store: GovernanceStore, fake_slack: FakeSlackServer
) -> None:
    enqueue(sqlite_store, _alert(channel=None), actor=ACTOR)
    enqueue(sqlite_store, _alert(channel=None, subject="age"), actor=ACTOR)

    without = _deliver(sqlite_store, fake_slack, T0, limit=1)
    with_default = _deliver(sqlite_store, fake_slack, T0, default_channel="risk-alerts")

    assert without == DeliveryReport(failed_permanently=1)
    assert with_default == DeliveryReport(sent=1)
    failed = list_alerts(sqlite_store, status="failed")[0]
    assert "no Slack channel for model 'fraud_model'" in (failed.last_error or "")
    assert [m.channel for m in fake_slack.messages] == ["risk-alerts"]


@pytest.mark.parametrize("settings_token", [None, ""], ids=["no_settings", "empty_token"])
def test_without_token_alerts_are_kept_and_sent_once_a_token_is_set(
    store: GovernanceStore,
    fake_slack: FakeSlackServer,
    caplog: pytest.LogCaptureFixture,
    settings_token: str | None,
) -> None:
    enqueue(store, _alert(), actor=ACTOR)
    unconfigured = None if settings_token is None else _settings(fake_slack, token=settings_token)

    with caplog.at_level(logging.WARNING, logger="governance_pipelines.alerting.delivery"):
        first = deliver_pending(store, unconfigured, actor=ACTOR, now=T0)
        again = deliver_pending(store, unconfigured, actor=ACTOR, now=T0 + timedelta(hours=1))
    held = _only(store)
    sent = _deliver(store, fake_slack, T0 + timedelta(hours=2))

    assert first == again == DeliveryReport(not_configured=1, notice=NOT_CONFIGURED)
    assert NOT_CONFIGURED == "Slack is not configured (set SLACK_BOT_TOKEN)"
    assert NOT_CONFIGURED in caplog.text
    assert (held.status, held.attempts, held.last_error) == ("unconfigured", 0, NOT_CONFIGURED)
    assert sent == DeliveryReport(sent=1)
    assert len(fake_slack.messages) == 1
    assert len(fake_slack.requests) == 1  # nothing was attempted without a token
    # Audited once when it was held, not on every run without a token.
    assert _alert_actions(store) == ["alert.raised", "alert.not_configured", "alert.sent"]
    assert _chain_ok(store)


# -- concurrency -------------------------------------------------------------------------


def test_concurrent_deliverers_post_each_alert_exactly_once(
    store: GovernanceStore, fake_slack: FakeSlackServer, tmp_path: Path
) -> None:
    """Two deliverers with their own engines (as two processes would have) race on 12 alerts."""
    for i in range(12):
        enqueue(store, _alert(subject=f"f{i}", breached=f"PSI of f{i}"), actor=ACTOR)
    url = store.engine.url.render_as_string(hide_password=False)
    stores = [GovernanceStore.open(url, tmp_path / f"home{i}", upgrade=False) for i in range(2)]
    start = threading.Barrier(2)
    reports: list[list[DeliveryReport]] = [[], []]
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            start.wait(timeout=5)
            while True:
                report = _deliver(stores[i], fake_slack, T0, limit=2)
                reports[i].append(report)
                if report == DeliveryReport():
                    return
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        for opened in stores:
            opened.dispose()

    assert errors == []
    texts = [m.text for m in fake_slack.messages]
    assert len(texts) == len(set(texts)) == 12
    assert sum(r.sent for rs in reports for r in rs) == 12
    assert all(r.claims_lost == 0 for rs in reports for r in rs)
    assert {r.status for r in list_alerts(store)} == {"sent"}
    assert _alert_actions(store).count("alert.sent") == 12
    assert _chain_ok(store)


def test_stale_lease_is_reclaimed_and_the_late_answer_is_not_recorded_twice(
    store: GovernanceStore, fake_slack: FakeSlackServer
) -> None:
    """A deliverer that stalls past its lease loses the alert to another one (at least once)."""
    fake_slack.fail_next(1, ScriptedFailure.slow(delay_s=0.4, deliver=True))
    enqueue(store, _alert(), actor=ACTOR)
    stalled: list[DeliveryReport] = []
    thread = threading.Thread(
        target=lambda: stalled.append(_deliver(store, fake_slack, T0, timeout_s=3))
    )
    thread.start()
    try:
        _wait_for(lambda: _only(store).status == "sending")
        during_lease = _deliver(store, fake_slack, T0 + timedelta(minutes=4))
        after_lease = _deliver(store, fake_slack, T0 + timedelta(minutes=6))
    finally:
        thread.join(timeout=10)

    assert during_lease == DeliveryReport()
    assert after_lease == DeliveryReport(sent=1)
    assert stalled == [DeliveryReport(claims_lost=1)]
    record = _only(store)
    assert (record.status, record.attempts) == ("sent", 2)
    assert record.slack_ts == fake_slack.messages[0].ts  # the reclaiming deliverer's post
    assert len(fake_slack.messages) == 2  # the stalled post landed too: at least once
    assert _alert_actions(store) == [
        "alert.raised",
        "alert.lease_expired",
        "alert.sent",
        "alert.claim_lost",
    ]
    lost = store.recent_events(action="alert.claim_lost", limit=1)[0]
    assert lost.payload["delivered"] is True
    assert _chain_ok(store)


# -- plumbing ----------------------------------------------------------------------------


def test_list_alerts_filters_newest_first(sqlite_store: GovernanceStore) -> None:
    enqueue(sqlite_store, _alert(), actor=ACTOR)
    enqueue(sqlite_store, _alert(model_name="churn", subject="tenure"), actor=ACTOR)

    assert [r.model_name for r in list_alerts(sqlite_store)] == ["churn", "fraud_model"]
    assert [r.model_name for r in list_alerts(sqlite_store, model="churn")] == ["churn"]
    assert list_alerts(sqlite_store, status="sent") == []
    assert len(list_alerts(sqlite_store, limit=1)) == 1
    assert all(r.created_at.tzinfo is not None for r in list_alerts(sqlite_store))


def test_no_dagster_import() -> None:
    code = (
        "import sys, governance_pipelines.alerting.outbox, governance_pipelines.alerting.delivery; "
        "assert not [m for m in sys.modules if m.startswith('dagster')]"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=30)


def _wait_for(condition: Callable[[], bool], timeout_s: float = 3.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)
