"""Alerting: sensors that turn failed governance checks and failed runs into Slack alerts.

The governance store keeps every check evaluation (with its model, version, day and
evidence), so the sensor reads it with a cursor — exactly-once processing — and hands
failures to the persisted outbox, which deduplicates, retries and audits delivery. A
failed non-blocking check never fails its run, which is why a run-failure hook alone would
miss drift, performance and SLA breaches.
"""

from datetime import UTC, date, datetime

import dagster as dg

from governance_pipelines import check_names
from governance_pipelines.alerting.outbox import Alert, deliver_pending, enqueue
from governance_pipelines.alerting.slack import DEFAULT_BASE_URL, SlackSettings
from governance_pipelines.config import GovernanceConfig
from governance_pipelines.orchestration import naming
from governance_pipelines.orchestration.resources import GovernanceStoreResource
from governance_pipelines.store import GovernanceStore
from governance_pipelines.store.repository import CheckResultRecord

SENSOR_ACTOR = "sensor:governance_alerts_sensor"

# check name -> (alert kind, asset the check belongs to)
WATCHED_CHECKS: dict[str, tuple[str, str]] = {
    naming.NO_DATASET_DRIFT: ("drift", naming.DRIFT_REPORT),
    naming.PERFORMANCE_WITHIN_TOLERANCE: ("performance", naming.MODEL_PERFORMANCE),
    naming.WITHIN_SLA: ("sla", naming.SLA_REPORT),
    naming.INFERENCE_ROWS_VALID: ("check_failed", naming.INFERENCE_LOG),
    check_names.SNAPSHOT_INTEGRITY: ("check_failed", naming.TRAINING_SNAPSHOT),
    check_names.SNAPSHOT_SCHEMA_VALID: ("check_failed", naming.TRAINING_SNAPSHOT),
    **{
        name: ("check_failed", naming.MODEL_VERSION) for name in check_names.REQUIRED_VERSION_CHECKS
    },
}


class SlackAlertsResource(dg.ConfigurableResource):
    """Slack delivery settings; with no token, alerts are recorded and shown, not sent."""

    token: str | None = None
    base_url: str | None = None
    timeout_s: float = 10.0

    def settings(self) -> SlackSettings | None:
        if not self.token:
            return None
        return SlackSettings(
            token=self.token, base_url=self.base_url or DEFAULT_BASE_URL, timeout_s=self.timeout_s
        )


def alert_for(config: GovernanceConfig, result: CheckResultRecord) -> Alert | None:
    """The alert a failed check result raises, or None for checks nobody is paged about."""
    if result.passed or result.check_name not in WATCHED_CHECKS:
        return None
    kind, asset = WATCHED_CHECKS[result.check_name]
    try:
        model = config.model(result.model_name)
    except KeyError:
        return None
    evidence = result.evidence
    day = (
        date.fromisoformat(evidence["day"])
        if "day" in evidence
        else result.created_at.astimezone(UTC).date()
    )
    value, threshold, higher_is_worse = _figures(result)
    return Alert(
        model_name=model.name,
        kind=kind,
        severity="ERROR" if result.severity == "ERROR" else "WARN",
        day=day,
        breached=result.summary,
        value=value,
        threshold=threshold,
        higher_is_worse=higher_is_worse,
        version=result.version,
        subject=result.check_name if kind == "check_failed" else None,
        url=f"{config.dagster_url.rstrip('/')}/assets/{model.name}/{asset}",
        channel=config.channel_for(model),
    )


def _figures(result: CheckResultRecord) -> tuple[float | None, float | None, bool]:
    evidence = result.evidence
    if result.check_name == naming.NO_DATASET_DRIFT:
        return evidence.get("drift_share"), evidence.get("share_threshold"), True
    if (
        result.check_name == naming.PERFORMANCE_WITHIN_TOLERANCE
        and evidence.get("value") is not None
    ):
        higher_is_better = bool(evidence.get("higher_is_better", True))
        tolerance = float(evidence.get("tolerance", 0.0))
        validation = float(evidence["validation_value"])
        floor = validation - tolerance if higher_is_better else validation + tolerance
        return float(evidence["value"]), floor, not higher_is_better
    if result.check_name == naming.WITHIN_SLA and evidence.get("availability") is not None:
        return float(evidence["availability"]), float(evidence["sla"]["availability"]), False
    return None, None, True


def raise_and_deliver(
    store: GovernanceStore,
    config: GovernanceConfig,
    results: list[CheckResultRecord],
    slack: SlackSettings | None,
) -> tuple[int, str]:
    raised = 0
    for result in results:
        alert = alert_for(config, result)
        if alert is not None and enqueue(store, alert, actor=SENSOR_ACTOR).status != "duplicate":
            raised += 1
    report = deliver_pending(store, slack, actor=SENSOR_ACTOR)
    delivery = (
        f"sent {report.sent}, retrying {report.retry_scheduled}, failed {report.failed_permanently}"
    )
    if report.notice:
        delivery += f"; {report.notice}"
    return raised, delivery


def build_alert_sensors(config: GovernanceConfig) -> list[dg.SensorDefinition]:
    @dg.sensor(
        name="governance_alerts_sensor",
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Alerts model owners on Slack about failed drift, performance, SLA and blocking checks.",
    )
    def governance_alerts_sensor(
        context: dg.SensorEvaluationContext,
        governance_store: GovernanceStoreResource,
        slack: SlackAlertsResource,
    ) -> dg.SkipReason:
        store = governance_store.store
        cursor = int(context.cursor or 0)
        results = store.check_results_after(cursor)
        raised, delivery = raise_and_deliver(store, config, results, slack.settings())
        if results:
            context.update_cursor(str(results[-1].id))
        if slack.settings() is None:
            context.log.warning(
                "Slack is not configured (set SLACK_BOT_TOKEN): alerts are recorded, not sent"
            )
        return dg.SkipReason(f"{len(results)} new check results, {raised} new alerts; {delivery}")

    @dg.run_failure_sensor(
        name="run_failure_alert_sensor",
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Alerts the owners of the models a failed run touched.",
    )
    def run_failure_alert_sensor(
        context: dg.RunFailureSensorContext,
        governance_store: GovernanceStoreResource,
        slack: SlackAlertsResource,
    ) -> None:
        store = governance_store.store
        run = context.dagster_run
        message = context.failure_event.message or "the run failed"
        models = sorted(
            {key.path[0] for key in run.asset_selection or ()} & {m.name for m in config.models}
        )
        for model_name in models or [m.name for m in config.models]:
            model = config.model(model_name)
            enqueue(
                store,
                Alert(
                    model_name=model.name,
                    kind="run_failure",
                    severity="ERROR",
                    day=datetime.now(UTC).date(),
                    breached=f"run {run.run_id[:8]} of {run.job_name} failed: {message}",
                    subject=run.run_id,
                    url=f"{config.dagster_url.rstrip('/')}/runs/{run.run_id}",
                    channel=config.channel_for(model),
                ),
                actor="sensor:run_failure_alert_sensor",
            )
        deliver_pending(store, slack.settings(), actor="sensor:run_failure_alert_sensor")

    return [governance_alerts_sensor, run_failure_alert_sensor]
