"""Alert policy: which failed checks page whom, with which figures, and getting them out.

A failed non-blocking check never fails its run, so alerts come from the check results the
store keeps (read by a sensor with a cursor), not from run failures alone. What an alert
says — its kind, severity, day, the figure and threshold that breached — is decided here;
the Dagster shell only supplies links to its UI.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date
from typing import TYPE_CHECKING

from governance_pipelines import check_names
from governance_pipelines.alerting.delivery import deliver_pending
from governance_pipelines.alerting.messages import AlertKind
from governance_pipelines.alerting.outbox import Alert, enqueue
from governance_pipelines.alerting.slack import SlackSettings
from governance_pipelines.store.check_records import CheckResultRecord

if TYPE_CHECKING:
    from governance_pipelines.config import GovernanceConfig
    from governance_pipelines.store import GovernanceStore

# The checks whose failure pages the model's owners, and what kind of alert each raises.
WATCHED_CHECKS: dict[str, AlertKind] = {
    check_names.NO_DATASET_DRIFT: AlertKind.DRIFT,
    check_names.PERFORMANCE_WITHIN_TOLERANCE: AlertKind.PERFORMANCE,
    check_names.WITHIN_SLA: AlertKind.SLA,
    check_names.INFERENCE_ROWS_VALID: AlertKind.CHECK_FAILED,
    check_names.CONSUMERS_KNOWN: AlertKind.CHECK_FAILED,
    check_names.SNAPSHOT_INTEGRITY: AlertKind.CHECK_FAILED,
    check_names.SNAPSHOT_SCHEMA_VALID: AlertKind.CHECK_FAILED,
    **{name: AlertKind.CHECK_FAILED for name in check_names.REQUIRED_VERSION_CHECKS},
}

LinkFor = Callable[[CheckResultRecord], "str | None"]


def alert_for(
    config: GovernanceConfig, result: CheckResultRecord, *, link: str | None = None
) -> Alert | None:
    """The alert a failed check result raises, or None for checks nobody is paged about."""
    kind = WATCHED_CHECKS.get(result.check_name)
    if result.passed or kind is None:
        return None
    model = next((m for m in config.models if m.name == result.model_name), None)
    if model is None:
        return None  # no longer declared: nobody to page
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
        subject=result.check_name if kind == AlertKind.CHECK_FAILED else None,
        url=link,
        channel=config.channel_for(model),
    )


def _figures(result: CheckResultRecord) -> tuple[float | None, float | None, bool]:
    """(value, threshold, higher is worse) of the breach, from the check's evidence."""
    evidence = result.evidence
    if result.check_name == check_names.NO_DATASET_DRIFT:
        return evidence.get("drift_share"), evidence.get("share_threshold"), True
    if (
        result.check_name == check_names.PERFORMANCE_WITHIN_TOLERANCE
        and evidence.get("value") is not None
    ):
        higher_is_better = bool(evidence.get("higher_is_better", True))
        tolerance = float(evidence.get("tolerance", 0.0))
        validation = float(evidence["validation_value"])
        floor = validation - tolerance if higher_is_better else validation + tolerance
        return float(evidence["value"]), floor, not higher_is_better
    if result.check_name == check_names.WITHIN_SLA and evidence.get("availability") is not None:
        return float(evidence["availability"]), float(evidence["sla"]["availability"]), False
    return None, None, True


def raise_and_deliver(
    store: GovernanceStore,
    config: GovernanceConfig,
    results: Iterable[CheckResultRecord],
    slack: SlackSettings | None,
    *,
    actor: str,
    link_for: LinkFor = lambda _result: None,
) -> tuple[int, str]:
    """Enqueue the alerts these results raise, then deliver what is due.

    Returns (new alerts, a one-line delivery report).
    """
    raised = 0
    for result in results:
        alert = alert_for(config, result, link=link_for(result))
        if alert is not None and enqueue(store, alert, actor=actor).status != "duplicate":
            raised += 1
    report = deliver_pending(store, slack, actor=actor)
    delivery = (
        f"sent {report.sent}, retrying {report.retry_scheduled}, failed {report.failed_permanently}"
    )
    if report.notice:
        delivery += f"; {report.notice}"
    return raised, delivery


def run_failure_alerts(
    config: GovernanceConfig,
    *,
    run_id: str,
    job_name: str,
    message: str,
    touched_models: Iterable[str],
    day: date,
    link: str | None = None,
) -> list[Alert]:
    """The owners of every model a failed run touched are told (all models when it is not
    known which, e.g. a failed nightly audit)."""
    declared = {m.name: m for m in config.models}
    names = sorted(set(touched_models) & set(declared)) or sorted(declared)
    return [
        Alert(
            model_name=name,
            kind=AlertKind.RUN_FAILURE,
            severity="ERROR",
            day=day,
            breached=f"run {run_id[:8]} of {job_name} failed: {message}",
            subject=run_id,
            url=link,
            channel=config.channel_for(declared[name]),
        )
        for name in names
    ]
