"""`governance demo`: the whole governance graph, in-process, on the embedded default.

The demo uses a persistent Dagster instance (DAGSTER_HOME, or a folder under the
governance home) so that its runs, checks and metadata are there to browse in the UI.
Sign-off follows the rules a real team would: the model's author never approves, the
approvers are the declared people with `model.approve`, and an admin promotes.
The store URL reaches Dagster only by name (an EnvVar) and the outcome only masked, so
its password is in neither Dagster's storage nor the summary.
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import dagster as dg

from governance_pipelines import check_names
from governance_pipelines.alerting.outbox import list_alerts
from governance_pipelines.alerting.policy import raise_and_deliver
from governance_pipelines.alerting.slack import SlackSettings
from governance_pipelines.check_names import REQUIRED_VERSION_CHECKS
from governance_pipelines.config import (
    GovernanceConfig,
    ModelConfig,
)
from governance_pipelines.development.declarations import load_checked_config
from governance_pipelines.examples.demo_traffic import plan_for, simulate_model_traffic
from governance_pipelines.orchestration import naming
from governance_pipelines.orchestration.alerts import SENSOR_ACTOR, asset_link
from governance_pipelines.orchestration.definitions_builder import (
    DEVELOPMENT_JOB,
    build_definitions,
)
from governance_pipelines.orchestration.demo_gateway import (
    GatewayRound,
    gateway_round,
    trained_version,
)
from governance_pipelines.orchestration.demo_reports import DemoCosts, demo_costs, publish_catalog
from governance_pipelines.orchestration.demo_setup import (
    DEMO_RUN_TAGS,
    monitoring_window,
    prepare_dagster_home,
    write_workspace,
)
from governance_pipelines.orchestration.model_context import review_version
from governance_pipelines.orchestration.nightly_audit import NIGHTLY_JOB
from governance_pipelines.orchestration.resources import GovernanceStoreResource
from governance_pipelines.security.approvals import PromotionBlocked, approve, promote
from governance_pipelines.security.promotion_state import (
    approval_status,
    blocking_checks_passed,
    current_stages,
    stage_timeline,
)
from governance_pipelines.security.rbac import PermissionDenied, permissions_of
from governance_pipelines.store import GovernanceStore
from governance_pipelines.store.engine import (
    DATABASE_URL_ENV,
    database_url,
    display_url,
    governance_home,
)
from governance_pipelines.store.inference_log import read_inference_log, write_inference_log
from governance_pipelines.store.repository import CheckResultRecord

QUIET = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}
DEMO_TRAFFIC_DAYS = 21


@dataclass(frozen=True)
class ModelOutcome:
    name: str
    snapshot_id: str | None
    rows: int | None
    snapshot_path: str | None
    checks: dict[str, bool] = field(default_factory=dict)
    version: int | None = None
    stage: str | None = None
    approvers: tuple[str, ...] = ()
    card_path: str | None = None
    sign_off: str | None = None


@dataclass(frozen=True)
class MonitoringOutcome:
    """What weeks of simulated production traffic showed, per model."""

    days: int
    requests: dict[str, int]
    drift_days: dict[str, list[tuple[str, list[str]]]]
    sla_breach_days: dict[str, list[str]]
    degraded_days: dict[str, list[str]]
    alerts_raised: int  # monitoring alerts (drift, performance, SLA, failed checks)
    audit_summaries: int  # the nightly audits' summaries, also in the outbox
    delivery: str
    failed_nights: list[str]  # days whose nightly run failed: the demo did not succeed


@dataclass(frozen=True)
class DemoOutcome:
    success: bool
    config_path: Path
    store_url: str  # masked (display_url): the outcome is printed
    home: Path
    dagster_home: Path
    run_id: str
    models: list[ModelOutcome]
    audit_events_verified: int
    audit_ok: bool
    monitoring: MonitoringOutcome | None = None
    costs: DemoCosts | None = None
    catalog: Path | None = None
    gateway: GatewayRound | None = None


def run_demo(
    config_path: Path,
    *,
    home: Path | None = None,
    url: str | None = None,
    traffic_days: int = DEMO_TRAFFIC_DAYS,
    today: date | None = None,
) -> DemoOutcome:
    today = today or datetime.now(UTC).date()
    home_path = governance_home(home).resolve()
    config_path, traffic_days = monitoring_window(config_path, home_path, traffic_days, today)
    config = load_checked_config(config_path)
    store_url = database_url(url, home_path)
    dagster_home = Path(os.environ.get("DAGSTER_HOME") or home_path / "dagster").resolve()
    prepare_dagster_home(dagster_home)
    write_workspace(home_path)
    resource = GovernanceStoreResource.bound_to_environment(home=str(home_path))
    definitions = build_definitions(config, governance_store=resource)
    job = definitions.resolve_job_def(DEVELOPMENT_JOB)
    store = GovernanceStore.open(store_url, home_path)
    try:
        with (
            _exported(DATABASE_URL_ENV, store_url),
            dg.DagsterInstance.from_config(str(dagster_home)) as instance,
        ):
            result = job.execute_in_process(
                instance=instance, raise_on_error=False, run_config=QUIET, tags=DEMO_RUN_TAGS
            )
            sign_offs = {
                m.name: _sign_off(store, config, m, trained_version(result, m.name))
                for m in config.models
            }
            cards = [
                naming.model_asset_key(m.name, naming.MODEL_CARD)
                for m in config.models
                if sign_offs[m.name]
            ]
            if cards:  # re-render so the cards show the approvals and the stage
                job.get_subset(asset_selection=set(cards)).execute_in_process(
                    instance=instance, raise_on_error=False, run_config=QUIET, tags=DEMO_RUN_TAGS
                )
            models = [
                _model_outcome(store, config, model, instance, result, sign_offs[model.name])
                for model in config.models
            ]
            monitoring = (
                _simulate_and_monitor(store, config, definitions, instance, traffic_days, today)
                if traffic_days > 0
                else None
            )
            gateway = (
                gateway_round(store, config, config_path, resource, instance, QUIET, DEMO_RUN_TAGS)
                if traffic_days > 0
                else None
            )
            catalog_built = publish_catalog(job, instance, QUIET, DEMO_RUN_TAGS)
        costs = demo_costs(store, config, days=traffic_days, today=today)
        verification = store.verify_audit_chain()
    finally:
        store.dispose()
    return DemoOutcome(
        success=result.success
        and catalog_built
        and not (monitoring and monitoring.failed_nights)
        and (costs is None or costs.reconciled)
        and (gateway is None or gateway.ok),
        config_path=config_path,
        store_url=display_url(store_url),
        home=home_path,
        dagster_home=dagster_home,
        run_id=result.run_id,
        models=models,
        audit_events_verified=verification.verified,
        audit_ok=verification.ok,
        monitoring=monitoring,
        costs=costs,
        gateway=gateway,
        catalog=home_path / "catalog" / "index.html" if catalog_built else None,
    )


def _sign_off(
    store: GovernanceStore, config: GovernanceConfig, model: ModelConfig, trained: int | None
) -> str | None:
    """Approve and promote the version this run trained (not a challenger an earlier demo
    registered) when it passed every gate; say what was done."""
    versions = [v for v in store.list_model_versions(model.name) if v.version == trained]
    if not versions:
        return None
    latest = versions[-1]
    gate = blocking_checks_passed(
        store, model.name, latest.version, required=REQUIRED_VERSION_CHECKS
    )
    if not gate.passed:
        return None
    if current_stages(stage_timeline(store, model.name)).get(latest.version) == "production":
        return "already in production"
    author = {latest.created_by, latest.record.get("author")}
    status = approval_status(store, config, model.name, latest.version)
    already = {a.user for a in status.approvals}
    approvers = [p for p in _people_with(config, "model.approve") if p not in author | already]
    promoter = next((p for p in _people_with(config, "model.promote") if p not in author), None)
    try:
        for approver in approvers[: max(0, status.required - len(already))]:
            approve(
                store,
                config,
                model.name,
                latest.version,
                approver,
                note="demo review: all gates passed",
            )
        if promoter is None:
            return "not promoted: no one other than the author holds model.promote"
        promote(
            store,
            config,
            model.name,
            latest.version,
            "production",
            promoter,
            reason="demo release",
        )
    except (PermissionDenied, PromotionBlocked) as refusal:
        return f"not promoted: {refusal}"
    return f"promoted by {promoter}"


def _simulate_and_monitor(
    store: GovernanceStore,
    config: GovernanceConfig,
    definitions: dg.Definitions,
    instance: dg.DagsterInstance,
    days: int,
    today: date,
) -> MonitoringOutcome:
    """Serve weeks of traffic from each production version, then run every night's audit."""
    first_new_result = store.last_check_result_id()
    requests: dict[str, int] = {}
    for model in config.models:
        stages = current_stages(stage_timeline(store, model.name))
        production = [version for version, stage in stages.items() if stage == "production"]
        if not production:
            continue
        plan = plan_for(model, today=today, days=days)
        window = (
            datetime.combine(plan.start, time.min, UTC),
            datetime.combine(today, time.min, UTC),
        )
        existing = read_inference_log(store.engine, model.name, start=window[0], end=window[1])
        if len(existing):
            requests[model.name] = len(existing)
            continue
        review = review_version(store, model, max(production))
        log = simulate_model_traffic(model, max(production), review.frame, review.trained, plan)
        requests[model.name] = write_inference_log(store.engine, log)
    nightly = definitions.resolve_job_def(NIGHTLY_JOB)
    failed_nights = []
    for offset in range(days, 0, -1):
        day = (today - timedelta(days=offset)).isoformat()
        run = nightly.execute_in_process(
            partition_key=day,
            instance=instance,
            raise_on_error=False,
            run_config=QUIET,
            tags=DEMO_RUN_TAGS,
        )
        if not run.success:
            failed_nights.append(day)
    summaries = len(list_alerts(store, status=None, limit=1_000_000, kind="audit_summary"))
    results = store.check_results_after(first_new_result, limit=1_000_000)
    raised, delivery = raise_and_deliver(
        store,
        config,
        results,
        SlackSettings.from_env(os.environ) if os.environ.get("SLACK_BOT_TOKEN") else None,
        actor=SENSOR_ACTOR,
        link_for=asset_link(config),
    )
    return MonitoringOutcome(
        days=days,
        requests=requests,
        drift_days=_failing_days(results, check_names.NO_DATASET_DRIFT, detail="drifted"),
        sla_breach_days={
            k: [d for d, _ in v] for k, v in _failing_days(results, check_names.WITHIN_SLA).items()
        },
        degraded_days={
            k: [d for d, _ in v]
            for k, v in _failing_days(results, check_names.PERFORMANCE_WITHIN_TOLERANCE).items()
        },
        alerts_raised=raised,
        audit_summaries=summaries,
        delivery=delivery,
        failed_nights=failed_nights,
    )


def _failing_days(
    results: list[CheckResultRecord], check_name: str, detail: str | None = None
) -> dict[str, list[tuple[str, list[str]]]]:
    latest: dict[tuple[str, str], CheckResultRecord] = {}
    for result in results:
        if result.check_name == check_name and "day" in result.evidence:
            latest[(result.model_name, result.evidence["day"])] = result
    failing: dict[str, list[tuple[str, list[str]]]] = {}
    for (model_name, day), result in sorted(latest.items()):
        if not result.passed:
            failing.setdefault(model_name, []).append(
                (day, list(result.evidence.get(detail, [])) if detail else [])
            )
    return failing


def _people_with(config: GovernanceConfig, permission: str) -> list[str]:
    return [p.name for p in config.people if permission in permissions_of(config, p.name)]


@contextmanager
def _exported(name: str, value: str) -> Iterator[None]:
    """Set an environment variable for the demo's runs; the caller's value comes back after."""
    previous = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = previous


def _model_outcome(
    store: GovernanceStore,
    config: GovernanceConfig,
    model: ModelConfig,
    instance: dg.DagsterInstance,
    result: dg.ExecuteInProcessResult,
    sign_off: str | None,
) -> ModelOutcome:
    checks = {
        evaluation.check_name: evaluation.passed
        for evaluation in result.get_asset_check_evaluations()
        if evaluation.asset_key.path[0] == model.name
    }
    snapshot = _latest_metadata(
        instance, naming.model_asset_key(model.name, naming.TRAINING_SNAPSHOT)
    )
    card = _latest_metadata(instance, naming.model_asset_key(model.name, naming.MODEL_CARD))
    versions = store.list_model_versions(model.name)
    version = versions[-1].version if versions else None
    stage = current_stages(stage_timeline(store, model.name)).get(version) if version else None
    approvers = (
        tuple(a.user for a in approval_status(store, config, model.name, version).approvals)
        if version
        else ()
    )
    return ModelOutcome(
        name=model.name,
        snapshot_id=snapshot.get("snapshot_id"),
        rows=snapshot.get("dagster/row_count"),
        snapshot_path=snapshot.get("path"),
        checks=checks,
        version=version,
        stage=stage,
        approvers=approvers,
        card_path=card.get("html"),
        sign_off=sign_off,
    )


def _latest_metadata(instance: dg.DagsterInstance, key: dg.AssetKey) -> dict[str, Any]:
    event = instance.get_latest_materialization_event(key)
    if event is None or event.asset_materialization is None:
        return {}
    return {name: value.value for name, value in event.asset_materialization.metadata.items()}
