"""The latest governance metrics, read back from the store, as Prometheus samples.

Why from the store: every daily monitor (drift, SLA, performance, ingestion) already
records its verdict *and its figures* as check-result evidence, and that record is what
alerts and audits trust. Exporting the same evidence means a Grafana panel can never
disagree with the audit trail, and a scrape needs no Dagster or recomputation: it is a
handful of indexed reads. `collect_samples` rebuilds each evidence record as the report
that wrote it (`SlaReport`, `PerformanceDay`, `DriftReport` ``.from_dict``), hands it to
the builders of `operations.governance_metrics` and adds the few series they do not cover.
It imports neither dagster nor click.

Naming scheme: the families of `operations.governance_metrics` (drift, SLA, performance,
ingestion, ``governance_alerts_pending`` = outbox rows not ``sent``) plus:

=================================================  ========================================
metric                                             labels
=================================================  ========================================
governance_check_passed                            model, check, version ("" if none)
governance_check_last_evaluated_timestamp_seconds  model, check (Unix time: alert on age)
governance_feature_psi                             model, version, feature
governance_sla_error_rate                          model, day (ratio 0–1)
governance_performance_validation_value            model, version, day, metric (at release)
governance_ingestion_rows                          model, day (rows in the last batch)
governance_usage_requests, governance_usage_errors model, consumer, day (latest day)
governance_cost_month_to_date                      model, currency, month (showback)
governance_chargeback_month_to_date                consumer, cost_center, currency, month
governance_alert_outbox_rows                       status (every status, zeros included)
governance_audit_chain_valid                       (none) 1 = the hash chain verifies
governance_audit_events_total (counter)            (none) events in the audit log
governance_metrics_unreadable_evidence             model, check (1 = evidence not read)
=================================================  ========================================

Store-wide series (alerts, audit) are always exported, whatever models are selected.
A check recorded without figures (a day without traffic) exports only its status; a
record whose evidence cannot be read exports its status plus
``governance_metrics_unreadable_evidence`` instead of failing the whole scrape.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from governance_pipelines.check_names import (
    INFERENCE_ROWS_VALID,
    NO_DATASET_DRIFT,
    PERFORMANCE_WITHIN_TOLERANCE,
    WITHIN_SLA,
)
from governance_pipelines.operations.drift import DriftReport
from governance_pipelines.operations.governance_metrics import (
    alerts_pending_sample,
    check_sample,
    drift_samples,
    ingestion_samples,
    performance_samples,
    sla_samples,
)
from governance_pipelines.operations.metrics_export import MetricSample
from governance_pipelines.operations.performance import PerformanceDay
from governance_pipelines.operations.sla import SlaReport

if TYPE_CHECKING:
    from governance_pipelines.store import GovernanceStore
    from governance_pipelines.store.check_records import CheckResultRecord

__all__ = ["UnknownModelError", "collect_samples", "known_models"]

log = logging.getLogger(__name__)

# Evidence with only these keys carries no figures (a day without traffic).
_NO_FIGURES = frozenset({"day"})


class UnknownModelError(LookupError):
    """A requested model is not in the store; the message names the ones that are."""


# --- views: evidence the reports cannot rebuild -----------------------------------------
# Drift, SLA and performance evidence is their report's `to_dict()` and is read back with
# `from_dict`. Ingestion evidence keeps the counts only, not `IngestionResult`'s frames.


@dataclass(frozen=True)
class _IngestionView:
    counts_by_reason: Mapping[str, int]
    total: int


# --- entry points -----------------------------------------------------------------------


def known_models(store: GovernanceStore) -> list[str]:
    """Every model the store knows: registered, with check results, or with usage."""
    return store.known_model_names()


def collect_samples(
    store: GovernanceStore, model_names: list[str] | None = None
) -> list[MetricSample]:
    """The latest governance metrics of `model_names` (all known models when None).

    Raises `UnknownModelError` for a name the store has never seen, so a typo in a scrape
    config fails loudly instead of exporting an empty, reassuring page.
    """
    known = known_models(store)
    if model_names is None:
        selected = known
    else:
        unknown = [name for name in model_names if name not in known]
        if unknown:
            raise UnknownModelError(
                f"unknown model(s) {', '.join(map(repr, unknown))}; the store knows "
                + (", ".join(known) if known else "no models yet")
            )
        selected = list(dict.fromkeys(model_names))
    samples: list[MetricSample] = []
    for name in selected:
        for record in store.latest_check_results(name):
            samples += _check_samples(record)
    samples += _usage_samples(store, selected)
    samples += _cost_samples(store, selected)
    samples += _alert_samples(store)
    samples += _audit_samples(store)
    return samples


# --- per check --------------------------------------------------------------------------


def _check_samples(record: CheckResultRecord) -> list[MetricSample]:
    """Status and freshness of one check, then its figures when the check has any."""
    model, check = record.model_name, record.check_name
    version = "" if record.version is None else record.version
    samples = [
        replace(
            check_sample(model, check, record.passed),
            labels={"model": model, "check": check, "version": version},
        ),
        MetricSample(
            "governance_check_last_evaluated_timestamp_seconds",
            "When the latest result of the check was recorded (Unix seconds).",
            "gauge",
            {"model": model, "check": check},
            record.created_at.timestamp(),
        ),
    ]
    builder = _FIGURES.get(check)
    evidence = record.evidence
    if builder is None or not isinstance(evidence, Mapping) or set(evidence) <= _NO_FIGURES:
        return samples
    try:
        return samples + builder(record)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        log.warning(
            "cannot export the evidence of %s/%s (id %s): %r", model, check, record.id, error
        )
        unreadable = MetricSample(
            "governance_metrics_unreadable_evidence",
            "1 if the latest evidence of the check could not be exported.",
            "gauge",
            {"model": model, "check": check},
            1,
        )
        return [*samples, unreadable]


def _drift(record: CheckResultRecord) -> list[MetricSample]:
    report = DriftReport.from_dict(record.evidence)  # stored as to_dict() + day, drifted
    version = "" if record.version is None else record.version
    samples = drift_samples(record.model_name, version, report)
    for column in report.columns:
        samples.append(
            MetricSample(
                "governance_feature_psi",
                "Population stability index of a feature (0.1 moderate, 0.25 significant).",
                "gauge",
                {"model": record.model_name, "version": version, "feature": column.column},
                _float(column.psi),
            )
        )
    return samples


def _sla(record: CheckResultRecord) -> list[MetricSample]:
    # The store's row names the model: a report of a window without requests names none.
    report = replace(SlaReport.from_dict(record.evidence), model_name=record.model_name)
    samples = sla_samples([report])
    samples.append(
        MetricSample(
            "governance_sla_error_rate",
            "Share of requests that failed (0-1).",
            "gauge",
            {"model": record.model_name, "day": _day_label(report.day)},
            _float(report.error_rate),
        )
    )
    return samples


def _performance(record: CheckResultRecord) -> list[MetricSample]:
    day = PerformanceDay.from_dict(record.evidence)  # the headline version, + versions
    samples = performance_samples(record.model_name, [day])
    labels = {"model": record.model_name, "version": day.version, "day": _day_label(day.day)}
    samples.append(
        MetricSample(
            "governance_performance_validation_value",
            "The metric the version had at validation (the release baseline).",
            "gauge",
            {**labels, "metric": day.metric},
            day.validation_value,
        )
    )
    return samples


def _ingestion(record: CheckResultRecord) -> list[MetricSample]:
    evidence = record.evidence
    result = _IngestionView(
        counts_by_reason={str(k): int(v) for k, v in evidence["counts_by_reason"].items()},
        total=int(evidence["total"]),
    )
    samples = ingestion_samples(record.model_name, result)
    samples.append(
        MetricSample(
            "governance_ingestion_rows",
            "Inference-log rows in the last validated batch (a UTC day).",
            "gauge",
            {"model": record.model_name, "day": _day_label(_date(evidence.get("day")))},
            result.total,
        )
    )
    return samples


_FIGURES = {
    NO_DATASET_DRIFT: _drift,
    WITHIN_SLA: _sla,
    PERFORMANCE_WITHIN_TOLERANCE: _performance,
    INFERENCE_ROWS_VALID: _ingestion,
}


# --- store-wide and usage ---------------------------------------------------------------


def _usage_samples(store: GovernanceStore, names: list[str]) -> list[MetricSample]:
    """Requests and errors per consumer on each model's latest usage day (all versions)."""
    rows = store.latest_usage(names)
    samples: list[MetricSample] = []
    for row in rows:
        labels = {
            "model": row["model_name"],
            "consumer": row["consumer_team"],
            "day": _day_label(row["day"]),
        }
        samples += [
            MetricSample(
                "governance_usage_requests",
                "Requests per consumer team on the model's latest usage day.",
                "gauge",
                labels,
                int(row["requests"]),
            ),
            MetricSample(
                "governance_usage_errors",
                "Failed requests per consumer team on the model's latest usage day.",
                "gauge",
                labels,
                int(row["errors"]),
            ),
        ]
    return samples


def _cost_samples(store: GovernanceStore, names: list[str]) -> list[MetricSample]:
    """Month-to-date cost per model (showback) and per consumer team (chargeback), of the
    month of the latest booked day."""
    latest = store.latest_cost_day()
    if latest is None:
        return []
    start = latest.replace(day=1)
    end = latest + timedelta(days=1)
    month = f"{start:%Y-%m}"
    samples = [
        MetricSample(
            "governance_cost_month_to_date",
            "Cost allocated to the model so far this month (showback).",
            "gauge",
            {"model": row["key"], "currency": row["currency"], "month": month},
            float(row["amount"]),
        )
        for row in store.cost_totals(start, end, "model_name")
        if row["key"] in names
    ]
    samples += [
        MetricSample(
            "governance_chargeback_month_to_date",
            "Cost charged to the consumer team so far this month (chargeback).",
            "gauge",
            {
                "consumer": row["key"],
                "cost_center": row["cost_center"] or "",
                "currency": row["currency"],
                "month": month,
            },
            float(row["amount"]),
        )
        for row in store.cost_totals(start, end, "consumer_team")
    ]
    return samples


def _alert_samples(store: GovernanceStore) -> list[MetricSample]:
    """Outbox rows per status; every status but ``sent`` counts as not yet delivered."""
    from governance_pipelines.alerting.outbox import AlertStatus

    counts = {status.value: 0 for status in AlertStatus}
    counts.update(store.alert_status_counts())
    pending = sum(count for status, count in counts.items() if status != AlertStatus.SENT.value)
    by_status = [
        MetricSample(
            "governance_alert_outbox_rows",
            "Alerts in the outbox per delivery status.",
            "gauge",
            {"status": status},
            count,
        )
        for status, count in sorted(counts.items())
    ]
    return [alerts_pending_sample(pending), *by_status]


def _audit_samples(store: GovernanceStore) -> list[MetricSample]:
    """Chain validity (recomputed each collection: a tampered log must show at once) and size."""
    verification = store.verify_audit_chain()
    events = store.audit_event_count()
    return [
        MetricSample(
            "governance_audit_chain_valid",
            "1 if the audit log's hash chain verifies end to end.",
            "gauge",
            {},
            1 if verification.ok else 0,
        ),
        MetricSample(
            "governance_audit_events_total",
            "Events in the tamper-evident audit log.",
            "counter",
            {},
            int(events),
        ),
    ]


# --- small conversions ------------------------------------------------------------------


def _float(value: Any) -> float:
    """A figure as a float; a missing one (JSON null) is NaN, never a made-up 0."""
    return math.nan if value is None else float(value)


def _date(value: Any) -> date | None:
    return date.fromisoformat(str(value)) if value else None


def _day_label(day: date | None) -> str:
    return "" if day is None else day.isoformat()
