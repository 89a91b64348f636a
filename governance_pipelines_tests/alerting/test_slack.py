"""Slack delivery against a real HTTP fake: every failure must come back as data.

The outbox depends on ``post_message`` never raising for Slack/network trouble and on the
retryable/permanent split being right (a permanent error retried forever is noise, a
transient one given up on is a lost alert), so each failure mode is driven end to end
through slack-sdk's real HTTP path.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slack_sdk import WebClient

from governance_pipelines.alerting.slack import (
    AlertKind,
    DeliveryOutcome,
    SlackSettings,
    backoff_delay,
    format_alert,
    make_client,
    post_message,
)
from governance_pipelines_tests.fakes.slack_server import (
    FakeSlackServer,
    ScriptedFailure,
    make_fake_slack_fixture,
)

TOKEN = "xoxb-test-token"

fake_slack = make_fake_slack_fixture(
    token=TOKEN, channels=["ml-alerts"], channels_without_bot=["private-ops"]
)


def _settings(server: FakeSlackServer, *, token: str | None = TOKEN, timeout_s: float = 2):
    return SlackSettings(token=token, base_url=server.base_url, timeout_s=timeout_s)


# -- delivery ----------------------------------------------------------------------------


def test_delivers_text_and_blocks_with_bearer_token(fake_slack: FakeSlackServer) -> None:
    alert = format_alert(model="fraud", version="3", kind="drift", breached="PSI", value=0.3)

    outcome = post_message(_settings(fake_slack), "#ml-alerts", alert.text, alert.blocks)

    assert outcome.delivered
    assert not outcome.retryable
    assert outcome.error is None
    [message] = fake_slack.messages
    assert outcome.ts == message.ts
    assert message.channel == "#ml-alerts"
    assert message.channel_id == fake_slack.channel_id("ml-alerts")
    assert message.token == TOKEN
    assert message.text == alert.text
    assert message.blocks == alert.blocks


def test_accepts_a_prebuilt_client_and_channel_ids(fake_slack: FakeSlackServer) -> None:
    client = make_client(_settings(fake_slack))
    channel_id = fake_slack.channel_id("ml-alerts")

    first = post_message(client, channel_id, "one")
    second = post_message(client, "ml-alerts", "two")

    assert first.delivered
    assert second.delivered
    assert first.ts != second.ts
    assert [m.text for m in fake_slack.messages] == ["one", "two"]
    assert client.retry_handlers == []


def test_base_url_without_trailing_slash_is_fixed(fake_slack: FakeSlackServer) -> None:
    settings_ = SlackSettings(token=TOKEN, base_url=fake_slack.base_url.rstrip("/"))

    assert post_message(settings_, "ml-alerts", "hi").delivered


def test_auth_test_and_form_encoded_post(fake_slack: FakeSlackServer) -> None:
    client = WebClient(token=TOKEN, base_url=fake_slack.base_url, retry_handlers=[])
    assert client.auth_test()["user_id"] == "U0FAKEBOT"

    # Form-encoded with the token as a field, blocks as a JSON string: as curl users post.
    body = (
        f"token={TOKEN}&channel=ml-alerts&text=form&blocks="
        + urllib.request.quote(json.dumps([{"type": "divider"}]))
    ).encode()
    with urllib.request.urlopen(f"{fake_slack.base_url}chat.postMessage", body, timeout=2) as r:
        answer = json.load(r)

    assert answer["ok"] is True
    assert answer["message"]["text"] == "form"
    assert fake_slack.messages[-1].blocks == [{"type": "divider"}]


# -- failures ----------------------------------------------------------------------------


def test_wrong_token_is_permanent_and_says_what_to_do(fake_slack: FakeSlackServer) -> None:
    outcome = post_message(_settings(fake_slack, token="xoxb-wrong"), "ml-alerts", "hi")

    assert outcome == DeliveryOutcome(
        delivered=False,
        retryable=False,
        error=outcome.error,
        code="invalid_auth",
    )
    assert "SLACK_BOT_TOKEN" in (outcome.error or "")
    assert fake_slack.messages == []


def test_missing_token_is_reported_without_a_call(fake_slack: FakeSlackServer) -> None:
    outcome = post_message(_settings(fake_slack, token=None), "ml-alerts", "hi")

    assert not outcome.delivered
    assert not outcome.retryable
    assert "SLACK_BOT_TOKEN" in (outcome.error or "")
    assert fake_slack.requests == []


@pytest.mark.parametrize(
    ("channel", "code"),
    [("no-such-channel", "channel_not_found"), ("private-ops", "not_in_channel")],
)
def test_channel_problems_ask_to_invite_the_bot(
    fake_slack: FakeSlackServer, channel: str, code: str
) -> None:
    outcome = post_message(_settings(fake_slack), channel, "hi")

    assert (outcome.delivered, outcome.retryable, outcome.code) == (False, False, code)
    assert f"invite the bot to #{channel}" in (outcome.error or "")


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        ("msg_too_long", False),
        ("missing_scope", False),
        ("some_future_error", False),
        ("internal_error", True),
        ("service_unavailable", True),
    ],
)
def test_ok_false_errors(fake_slack: FakeSlackServer, error: str, retryable: bool) -> None:
    fake_slack.fail_next(1, ScriptedFailure.api_error(error))

    outcome = post_message(_settings(fake_slack), "ml-alerts", "hi")

    assert (outcome.delivered, outcome.retryable, outcome.code) == (False, retryable, error)
    assert error in (outcome.error or "")


def test_rate_limit_is_retryable_after_the_header(fake_slack: FakeSlackServer) -> None:
    fake_slack.fail_next(1, ScriptedFailure.rate_limited(retry_after_s=17))
    settings_ = _settings(fake_slack)

    limited = post_message(settings_, "ml-alerts", "hi")
    after = post_message(settings_, "ml-alerts", "hi")

    assert (limited.delivered, limited.retryable, limited.retry_after_s) == (False, True, 17)
    assert "17" in (limited.error or "")
    assert after.delivered
    # slack-sdk's own retry handler would have resent silently: exactly two requests.
    assert [r.status for r in fake_slack.requests] == [429, 200]


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_retryable(fake_slack: FakeSlackServer, status: int) -> None:
    fake_slack.fail_next(1, ScriptedFailure.http_error(status))

    outcome = post_message(_settings(fake_slack), "ml-alerts", "hi")

    assert (outcome.delivered, outcome.retryable, outcome.code) == (False, True, f"http_{status}")
    assert len(fake_slack.requests) == 1


def test_timeout_is_retryable_and_quick(fake_slack: FakeSlackServer) -> None:
    fake_slack.fail_next(1, ScriptedFailure.slow(delay_s=3))

    started = time.monotonic()
    outcome = post_message(_settings(fake_slack, timeout_s=0.3), "ml-alerts", "hi")

    assert time.monotonic() - started < 1.5
    assert (outcome.delivered, outcome.retryable, outcome.code) == (False, True, "timeout")
    assert "may have been posted" in (outcome.error or "")


def test_timeout_after_slack_posted_is_still_retryable(fake_slack: FakeSlackServer) -> None:
    """Slack may post a message whose answer never arrives: why the outbox needs dedup."""
    fake_slack.fail_next(1, ScriptedFailure.slow(delay_s=0.4, deliver=True))

    outcome = post_message(_settings(fake_slack, timeout_s=0.2), "ml-alerts", "late")
    deadline = time.monotonic() + 2
    while not fake_slack.messages and time.monotonic() < deadline:
        time.sleep(0.02)

    assert (outcome.delivered, outcome.retryable, outcome.code) == (False, True, "timeout")
    assert [m.text for m in fake_slack.messages] == ["late"]


def test_fake_records_concurrent_posts(fake_slack: FakeSlackServer) -> None:
    settings_ = _settings(fake_slack)
    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(
            pool.map(lambda i: post_message(settings_, "ml-alerts", f"m{i}"), range(16))
        )

    assert all(o.delivered for o in outcomes)
    assert sorted(m.text or "" for m in fake_slack.messages) == sorted(f"m{i}" for i in range(16))
    assert len({m.ts for m in fake_slack.messages}) == 16


def test_no_dagster_import() -> None:
    """The delivery layer must stay importable (and cheap) without dagster."""
    code = (
        "import sys, governance_pipelines.alerting.slack, "
        "governance_pipelines_tests.fakes.slack_server; "
        "assert not [m for m in sys.modules if m.startswith('dagster')]"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=30)


def test_dropped_connection_is_retryable(fake_slack: FakeSlackServer) -> None:
    fake_slack.fail_next(1, ScriptedFailure.disconnect())

    outcome = post_message(_settings(fake_slack), "ml-alerts", "hi")

    assert (outcome.delivered, outcome.retryable) == (False, True)


def test_connection_refused_is_retryable() -> None:
    with socket.socket() as sock:  # a port that was free a moment ago and has no listener
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings_ = SlackSettings(token=TOKEN, base_url=f"http://127.0.0.1:{port}/api/", timeout_s=1)

    outcome = post_message(settings_, "ml-alerts", "hi")

    assert (outcome.delivered, outcome.retryable, outcome.code) == (False, True, "connection_error")
    assert f"127.0.0.1:{port}" in (outcome.error or "")


def test_wrong_base_url_path_is_permanent(fake_slack: FakeSlackServer) -> None:
    settings_ = SlackSettings(token=TOKEN, base_url=fake_slack.base_url.replace("/api/", "/x/"))

    outcome = post_message(settings_, "ml-alerts", "hi")

    assert (outcome.retryable, outcome.code) == (False, "http_404")
    assert "base_url" in (outcome.error or "")


def test_programmer_errors_raise(fake_slack: FakeSlackServer) -> None:
    with pytest.raises(ValueError, match="channel"):
        post_message(_settings(fake_slack), "", "hi")
    with pytest.raises(ValueError, match="text or blocks"):
        post_message(_settings(fake_slack), "ml-alerts", "")
    with pytest.raises(ValueError, match="timeout_s"):
        SlackSettings(token=TOKEN, timeout_s=0)


def test_settings_repr_hides_the_token() -> None:
    assert TOKEN not in repr(SlackSettings(token=TOKEN))
    assert SlackSettings.from_env({"SLACK_BOT_TOKEN": TOKEN}).token == TOKEN
    assert SlackSettings.from_env({}).token is None
    local = "http://127.0.0.1:9/api/"
    assert SlackSettings.from_env({"GOVERNANCE_SLACK_BASE_URL": local}).base_url == local


# -- backoff -----------------------------------------------------------------------------

attempts = st.integers(min_value=1, max_value=10_000)
retry_afters = st.none() | st.floats(min_value=0, max_value=10_000, allow_nan=False)
bases = st.floats(min_value=0.1, max_value=600, allow_nan=False)


@settings(database=None, deadline=None)
@given(attempt=attempts, retry_after=retry_afters, base=bases, cap_extra=st.floats(0, 1e5))
def test_backoff_bounds(
    attempt: int, retry_after: float | None, base: float, cap_extra: float
) -> None:
    cap = base + cap_extra
    delay = backoff_delay(attempt, retry_after, base_s=base, cap_s=cap)

    assert delay >= (retry_after or 0)
    assert delay >= min(base, cap)
    assert delay <= max(cap, retry_after or 0)
    if retry_after is None or retry_after <= cap:
        assert delay <= cap


@settings(database=None, deadline=None)
@given(attempt=attempts, retry_after=retry_afters)
def test_backoff_is_non_decreasing_in_attempt(attempt: int, retry_after: float | None) -> None:
    assert backoff_delay(attempt, retry_after) <= backoff_delay(attempt + 1, retry_after)


def test_backoff_examples() -> None:
    assert [backoff_delay(n, None) for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert backoff_delay(50, None) == 3600
    assert backoff_delay(1, 90) == 90
    assert backoff_delay(1, 7200) == 7200  # Retry-After wins over the cap
    with pytest.raises(ValueError, match="1-based"):
        backoff_delay(0, None)


# -- formatting --------------------------------------------------------------------------


def test_format_alert_drift() -> None:
    alert = format_alert(
        model="fraud_model",
        version="3",
        kind=AlertKind.DRIFT,
        breached="PSI of feature amount",
        value=0.3124,
        threshold=0.2,
        url="http://dagster.local/assets/fraud_model/drift_report",
    )

    assert alert.text == (
        ":chart_with_upwards_trend: Drift: fraud_model v3: PSI of feature amount"
        " 0.3124 &gt; threshold 0.2"
    )
    types = [b["type"] for b in alert.blocks]
    assert types == ["header", "section", "actions"]
    assert alert.blocks[0]["text"]["text"] == "Drift: fraud_model v3"
    assert "0.3124 &gt; threshold 0.2" in alert.blocks[1]["text"]["text"]
    button = alert.blocks[2]["elements"][0]
    assert button["url"] == "http://dagster.local/assets/fraud_model/drift_report"


def test_format_alert_lower_is_worse_and_units() -> None:
    perf = format_alert(
        model="churn",
        version="v12",
        kind="performance",
        breached="roc_auc",
        value=0.71,
        threshold=0.75,
    )
    sla = format_alert(
        model="churn", kind="sla", breached="p95 latency", value=1250, threshold=800, unit="ms"
    )

    assert "churn v12: roc_auc 0.71 &lt; threshold 0.75" in perf.text
    assert sla.text.endswith("p95 latency 1,250 ms &gt; threshold 800 ms")
    assert [b["type"] for b in sla.blocks] == ["header", "section"]


def test_format_alert_without_figures_escapes_and_adds_details() -> None:
    alert = format_alert(
        model="m",
        kind="run_failure",
        breached="job <training_job> failed",
        details="run 1a2b & 3 retries",
    )

    assert alert.text == ":rotating_light: Run failed: m: job &lt;training_job&gt; failed"
    assert alert.blocks[-1] == {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": "run 1a2b &amp; 3 retries"}],
    }
    assert len(alert.text) < 200


def test_format_alert_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="is not a valid AlertKind"):
        format_alert(model="m", kind="bogus", breached="x")
    with pytest.raises(ValueError, match="url"):
        format_alert(model="m", kind="sla", breached="x", url="javascript:alert(1)")
