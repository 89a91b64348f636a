"""`governance alerts`: the outbox as an on-call engineer sees it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from click.testing import CliRunner

from governance_pipelines.alerting.delivery import deliver_pending
from governance_pipelines.alerting.outbox import Alert, enqueue
from governance_pipelines.alerting.slack import SlackSettings
from governance_pipelines.cli import main
from governance_pipelines.store import GovernanceStore
from governance_pipelines_tests.fakes.slack_server import FakeSlackServer


def test_lists_recorded_alerts_and_requeues_failed_ones(tmp_path: Path) -> None:
    store = GovernanceStore.open(None, tmp_path)
    alert = Alert(
        model_name="credit",
        kind="drift",
        severity="WARN",
        day=date(2026, 3, 2),
        breached="4 of 10 columns drifted",
        version=3,
        channel="#nowhere",
    )
    enqueue(store, alert, actor="test")
    with FakeSlackServer(token="xoxb-t", channels=["risk"]) as slack_api:
        deliver_pending(
            store, SlackSettings(token="xoxb-t", base_url=slack_api.base_url), actor="test"
        )
    url = store.engine.url.render_as_string(hide_password=False)
    runner = CliRunner()

    listed = runner.invoke(main, ["alerts", "--database-url", url])
    assert listed.exit_code == 0, listed.output
    assert "2026-03-02  drift         credit v3" in listed.output
    assert "failed" in listed.output
    assert "last error:" in listed.output
    assert "nowhere" in listed.output

    assert (
        runner.invoke(main, ["alerts", "--status", "sent", "--database-url", url]).output.strip()
        == "no alerts"
    )
    requeued = runner.invoke(
        main, ["alerts", "--requeue-failed", "--user", "erin", "--database-url", url]
    )
    assert "requeued 1 failed alert(s)" in requeued.output
    assert "pending" in runner.invoke(main, ["alerts", "--database-url", url]).output
    assert store.recent_events(action="alert.requeued")[-1].actor == "erin"
    store.dispose()


def test_requeue_needs_a_declared_person_and_a_refusal_is_recorded(tmp_path: Path) -> None:
    store = GovernanceStore.open(None, tmp_path)
    url = f"sqlite:///{tmp_path / 'governance.db'}"
    result = CliRunner().invoke(
        main, ["alerts", "--requeue-failed", "--user", "ghost", "--database-url", url]
    )
    assert result.exit_code == 1
    assert "cannot requeue alerts: unknown user 'ghost'" in result.output
    (denied,) = store.recent_events(action="access.denied")
    assert (denied.actor, denied.payload["permission"]) == ("ghost", "audit.read")
    store.dispose()
