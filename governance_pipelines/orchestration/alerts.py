"""Alerting sensors: failed governance checks and failed runs become Slack alerts.

The governance store keeps every check evaluation (with its model, version, day and
evidence), so the sensor reads it with a cursor — exactly-once processing — and hands
failures to the persisted outbox, which deduplicates, retries and audits delivery. A
failed non-blocking check never fails its run, which is why a run-failure hook alone would
miss drift, performance and SLA breaches. The policy is `alerting/policy.py`.
"""

from collections.abc import Callable
from datetime import UTC, datetime

import dagster as dg

from governance_pipelines import check_names
from governance_pipelines.alerting.delivery import deliver_pending
from governance_pipelines.alerting.outbox import enqueue
from governance_pipelines.alerting.policy import raise_and_deliver, run_failure_alerts
from governance_pipelines.alerting.slack import DEFAULT_BASE_URL, SlackSettings
from governance_pipelines.config import GovernanceConfig
from governance_pipelines.orchestration import naming
from governance_pipelines.orchestration.resources import GovernanceStoreResource
from governance_pipelines.store.check_records import CheckResultRecord

SENSOR_ACTOR = "sensor:governance_alerts_sensor"
FAILURE_ACTOR = "sensor:run_failure_alert_sensor"

# Where in the UI each watched check lives (the policy itself is in alerting/policy.py).
CHECK_ASSETS: dict[str, str] = {
    check_names.NO_DATASET_DRIFT: naming.DRIFT_REPORT,
    check_names.PERFORMANCE_WITHIN_TOLERANCE: naming.MODEL_PERFORMANCE,
    check_names.WITHIN_SLA: naming.SLA_REPORT,
    check_names.INFERENCE_ROWS_VALID: naming.INFERENCE_LOG,
    check_names.SNAPSHOT_INTEGRITY: naming.TRAINING_SNAPSHOT,
    check_names.SNAPSHOT_SCHEMA_VALID: naming.TRAINING_SNAPSHOT,
    **{name: naming.MODEL_VERSION for name in check_names.REQUIRED_VERSION_CHECKS},
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


def asset_link(config: GovernanceConfig) -> Callable[[CheckResultRecord], str | None]:
    """The UI page of the asset a check result belongs to."""

    def link(result: CheckResultRecord) -> str | None:
        asset = CHECK_ASSETS.get(result.check_name)
        if asset is None:
            return None
        return f"{config.dagster_url.rstrip('/')}/assets/{result.model_name}/{asset}"

    return link


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
        raised, delivery = raise_and_deliver(
            store,
            config,
            results,
            slack.settings(),
            actor=SENSOR_ACTOR,
            link_for=asset_link(config),
        )
        if results:
            context.update_cursor(str(results[-1].id))
        if slack.settings() is None:
            context.log.warning(
                "Slack is not configured (set SLACK_BOT_TOKEN): alerts are recorded, not sent"
            )
        # The tick's logs and its skip reason both say what the tick did.
        done = f"{len(results)} new check results, {raised} new alerts; {delivery}"
        context.log.info(done)
        return dg.SkipReason(done)

    @dg.run_failure_sensor(
        name="run_failure_alert_sensor",
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Alerts the owners of the models a failed run touched.",
    )
    def run_failure_alert_sensor(
        context: dg.RunFailureSensorContext,
        governance_store: GovernanceStoreResource,
        slack: SlackAlertsResource,
    ) -> dg.SkipReason:
        store = governance_store.store
        run = context.dagster_run
        alerts = run_failure_alerts(
            config,
            run_id=run.run_id,
            job_name=run.job_name,
            message=context.failure_event.message or "the run failed",
            touched_models={key.path[0] for key in run.asset_selection or ()},
            day=datetime.now(UTC).date(),
            link=f"{config.dagster_url.rstrip('/')}/runs/{run.run_id}",
        )
        outcomes = [enqueue(store, alert, actor=FAILURE_ACTOR) for alert in alerts]
        queued = sum(outcome.status != "duplicate" for outcome in outcomes)
        report = deliver_pending(store, slack.settings(), actor=FAILURE_ACTOR)
        # The tick's logs and its skip reason both say what the tick did.
        done = (
            f"run {run.run_id[:8]} of {run.job_name} failed: {queued} new alert(s) for "
            f"{len(alerts)} owner channel(s); {report.sent} sent, {report.retry_scheduled} to "
            f"retry, {report.failed_permanently} failed"
            + (f"; {report.notice}" if report.notice else "")
        )
        context.log.info(done)
        return dg.SkipReason(done)

    return [governance_alerts_sensor, run_failure_alert_sensor]
