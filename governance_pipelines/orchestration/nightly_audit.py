"""The nightly audit: yesterday's monitoring for every model, record re-verification, a summary.

One partitioned job covers ingestion, drift, performance and SLA of every model for the
day; its last asset re-verifies the audit chain, every snapshot and every model artifact,
and posts the summary to Slack through the outbox.
"""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg

from governance_pipelines import check_names
from governance_pipelines.alerting.delivery import deliver_pending
from governance_pipelines.alerting.outbox import Alert, enqueue
from governance_pipelines.compliance.checkpoint_writer import anchor_chain
from governance_pipelines.compliance.integrity import IntegrityReport, verify_store
from governance_pipelines.compliance.nightly_summary import nightly_summary
from governance_pipelines.config import GovernanceConfig
from governance_pipelines.orchestration import naming
from governance_pipelines.orchestration.alerts import SlackAlertsResource
from governance_pipelines.orchestration.costs import cost_allocation_key
from governance_pipelines.orchestration.daily_assets import daily_check_spec
from governance_pipelines.orchestration.resources import GovernanceStoreResource
from governance_pipelines.store import GovernanceStore

NIGHTLY_JOB = "nightly_audit_job"
DAILY_ASSETS = (
    naming.INFERENCE_LOG,
    naming.DRIFT_REPORT,
    naming.MODEL_PERFORMANCE,
    naming.SLA_REPORT,
    naming.USAGE_REPORT,
)


def build_nightly_audit_definitions(
    config: GovernanceConfig, partitions: dg.DailyPartitionsDefinition
) -> dg.Definitions:
    audit_key = naming.governance_asset_key(naming.NIGHTLY_AUDIT)
    daily_selection = [
        naming.model_asset_key(m.name, a) for m in config.models for a in DAILY_ASSETS
    ]
    job = dg.define_asset_job(
        NIGHTLY_JOB,
        selection=dg.AssetSelection.assets(*daily_selection, cost_allocation_key(), audit_key),
        description="Yesterday's ingestion, drift, performance, SLA and usage for every model, "
        "the day's cost allocation, then the audit.",
    )
    return dg.Definitions(
        assets=[_nightly_audit_asset(config, partitions)],
        jobs=[job],
        schedules=[_nightly_schedule(config)],
    )


def _nightly_audit_asset(
    config: GovernanceConfig, partitions: dg.DailyPartitionsDefinition
) -> dg.AssetsDefinition:
    upstream = [
        *(naming.model_asset_key(m.name, a) for m in config.models for a in DAILY_ASSETS[1:]),
        cost_allocation_key(),
    ]
    audit_key = naming.governance_asset_key(naming.NIGHTLY_AUDIT)

    @dg.asset(
        key=audit_key,
        deps=upstream,
        partitions_def=partitions,
        group_name=naming.GOVERNANCE_GROUP,
        kinds={"sql"},
        check_specs=[
            daily_check_spec(
                check_names.NIGHTLY_AUDIT_PASSED,
                audit_key,
                "The audit chain, every governed record's binding, every sealed day of the "
                "inference log, every snapshot and every model artifact re-verified intact.",
                partitions,
            )
        ],
    )
    def nightly_audit(
        context: dg.AssetExecutionContext,
        governance_store: GovernanceStoreResource,
        slack: SlackAlertsResource,
    ) -> dg.MaterializeResult:
        """The day's governance summary: monitoring results per model and a re-verification of the
        audit chain, snapshot files and model artifacts; posted to Slack."""
        store = governance_store.store
        day = date.fromisoformat(context.partition_key)
        actor = naming.run_actor(context)
        integrity = verify_store(store)
        anchored = anchor_chain(store, verified=integrity.passed, actor=actor)
        passed = integrity.passed and anchored.ok
        summary = nightly_summary(store, config, day, f"{integrity.summary}; {anchored.text}")
        store.record_event(
            actor=actor,
            action="audit.nightly_completed",
            payload={"day": day.isoformat(), "passed": passed, "summary": summary},
        )
        slack_outcome = _post_summary(store, config, day, summary, passed, slack, actor)
        context.log.info(f"audit summary: {slack_outcome}")
        return _audit_result(integrity, anchored.text, summary, passed, slack_outcome)

    return nightly_audit


def _post_summary(
    store: GovernanceStore,
    config: GovernanceConfig,
    day: date,
    summary: str,
    passed: bool,
    slack: SlackAlertsResource,
    actor: str,
) -> str:
    """Queue the summary for the audit channel (or every model's channel) and deliver it;
    the outbox keeps it when Slack is down, so the nightly run never loses the summary."""
    channels = (
        {config.schedules.audit_channel}
        if config.schedules.audit_channel
        else {config.channel_for(m) for m in config.models}
    )
    for channel in sorted(c for c in channels if c):
        enqueue(
            store,
            Alert(
                model_name=naming.GOVERNANCE_GROUP,
                kind="audit_summary",
                severity="INFO" if passed else "ERROR",
                day=day,
                breached=summary,
                subject=channel,
                url=f"{config.dagster_url.rstrip('/')}/assets/governance/{naming.NIGHTLY_AUDIT}",
                channel=channel,
            ),
            actor=actor,
        )
    delivery = deliver_pending(store, slack.settings(), actor=actor)
    return delivery.notice or f"{delivery.sent} message(s) sent"


def _audit_result(
    integrity: IntegrityReport, checkpoint: str, summary: str, passed: bool, slack_outcome: str
) -> dg.MaterializeResult:
    problems = dg.MetadataValue.md("\n".join(f"- {p}" for p in integrity.problems[:50]) or "none")
    return dg.MaterializeResult(
        metadata={
            "summary": dg.MetadataValue.md(summary),
            "audit_events": dg.MetadataValue.int(integrity.chain_events),
            "records_verified": dg.MetadataValue.int(integrity.records_checked),
            "inference_seals_verified": dg.MetadataValue.int(integrity.seals_checked),
            "snapshots_verified": dg.MetadataValue.int(integrity.snapshots_checked),
            "artifacts_verified": dg.MetadataValue.int(integrity.artifacts_checked),
            "problems": problems,
            "checkpoint": checkpoint,
            "slack": slack_outcome,
        },
        check_results=[
            dg.AssetCheckResult(
                check_name=check_names.NIGHTLY_AUDIT_PASSED,
                passed=passed,
                severity=dg.AssetCheckSeverity.ERROR,
                metadata={"summary": f"{integrity.summary}; {checkpoint}", "problems": problems},
            )
        ],
    )


def _nightly_schedule(config: GovernanceConfig) -> dg.ScheduleDefinition:
    relabelled_keys = [
        naming.model_asset_key(m.name, name)
        for m in config.models
        for name in (naming.INFERENCE_LOG, naming.MODEL_PERFORMANCE)
    ]
    label_delay = max(m.monitoring.label_delay_days for m in config.models)
    first_day = config.schedules.monitoring_start_date

    @dg.schedule(
        name="nightly_audit_schedule",
        cron_schedule=config.schedules.nightly_audit_cron,
        execution_timezone=config.schedules.timezone,
        job_name=NIGHTLY_JOB,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Runs the nightly audit for yesterday, and re-measures performance once late labels are in.",
    )
    def nightly_audit_schedule(context: dg.ScheduleEvaluationContext) -> list[dg.RunRequest]:
        return nightly_run_requests(
            context.scheduled_execution_time,
            config.schedules.timezone,
            first_day,
            label_delay,
            relabelled_keys,
        )

    return nightly_audit_schedule


def nightly_run_requests(
    scheduled: datetime,
    timezone: str,
    first_day: date,
    label_delay_days: int,
    relabelled_keys: list[dg.AssetKey],
) -> list[dg.RunRequest]:
    """Yesterday (in the schedule's timezone) in full; and the day whose labels have just become
    complete, re-ingested and re-measured, because performance needs the late ground truth."""
    local = (
        scheduled.astimezone(ZoneInfo(timezone))
        if scheduled.tzinfo
        else scheduled.replace(tzinfo=UTC)
    )
    yesterday = local.date() - timedelta(days=1)
    requests = []
    if yesterday >= first_day:
        requests.append(
            dg.RunRequest(run_key=f"nightly-{yesterday}", partition_key=yesterday.isoformat())
        )
    labelled = yesterday - timedelta(days=label_delay_days)
    if label_delay_days and labelled >= first_day:
        requests.append(
            dg.RunRequest(
                run_key=f"late-labels-{labelled}",
                partition_key=labelled.isoformat(),
                asset_selection=relabelled_keys,
            )
        )
    return requests
