"""The governance metric families: one naming scheme, and builders from reports to samples.

Why: Grafana panels and alert rules are written against metric names and labels, so the
scheme below is an interface. Every family's name, help text and labels live here, built
from the figures the operations reports already carry; `metrics_export` only validates
and renders the samples, and `metrics_collection` feeds these builders from the store.

Naming scheme (all gauges unless noted; one series per label set):

==========================================  ==============================================
metric                                      labels
==========================================  ==============================================
governance_drift_share                      model, version (share of drifted features)
governance_dataset_drift                    model, version (1 = data-set drift)
governance_feature_drift_score              model, version, feature, method
governance_feature_drifted                  model, version, feature (1 = drifted)
governance_sla_requests / _errors           model, day
governance_sla_availability                 model, day (ratio 0–1)
governance_sla_latency_ms                   model, day, quantile ("0.5", "0.95", "0.99")
governance_sla_passed                       model, day (1 = no breach)
governance_performance_value                model, version, day, metric
governance_performance_label_coverage       model, version, day (ratio 0–1)
governance_performance_degraded             model, version, day, metric (1 = degraded)
governance_ingestion_rejected_rows          model, reason
governance_check_passed                     model, check (1 = passed)
governance_alerts_pending                   (none)
==========================================  ==============================================

Conventions: everything starts with ``governance_``; ratios are 0–1 (Prometheus' advice),
booleans are 0/1 gauges so they can be summed and alerted on; latency keeps the ``_ms``
unit of `SlaConfig` so thresholds in Grafana read like the YAML. Per-day counts are
gauges, not counters: a day's count is a fact about that day, not a running total. An
undefined value (ROC AUC on a one-class day) is exported as NaN, never as 0.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from governance_pipelines.operations.metrics_export import MetricSample

if TYPE_CHECKING:
    from datetime import date

__all__ = [
    "alerts_pending_sample",
    "check_sample",
    "drift_samples",
    "ingestion_samples",
    "performance_samples",
    "sla_samples",
]

# Each builder reads only the figures below: an `SlaReport`, `PerformanceDay` or
# `IngestionResult` has them, and so does the evidence `metrics_collection` reads back
# from the store (which lacks the rest of those records).


class SlaFigures(Protocol):
    """What `sla_samples` reads of an `SlaReport`."""

    @property
    def model_name(self) -> str: ...
    @property
    def day(self) -> date | None: ...
    @property
    def requests(self) -> int: ...
    @property
    def errors(self) -> int: ...
    @property
    def availability(self) -> float | None: ...
    @property
    def p50_latency_ms(self) -> float | None: ...
    @property
    def p95_latency_ms(self) -> float | None: ...
    @property
    def p99_latency_ms(self) -> float | None: ...
    @property
    def passed(self) -> bool: ...


class PerformanceFigures(Protocol):
    """What `performance_samples` reads of a `PerformanceDay`."""

    @property
    def day(self) -> date | None: ...
    @property
    def version(self) -> int: ...
    @property
    def metric(self) -> str: ...
    @property
    def value(self) -> float | None: ...
    @property
    def label_coverage(self) -> float: ...
    @property
    def degraded(self) -> bool: ...


class IngestionFigures(Protocol):
    """What `ingestion_samples` reads of an `IngestionResult`."""

    @property
    def counts_by_reason(self) -> Mapping[str, int]: ...


def _flag(value: bool) -> int:
    return 1 if value else 0


def _number(value: float | None) -> float:
    return math.nan if value is None else float(value)


def sla_samples(reports: Iterable[SlaFigures]) -> list[MetricSample]:
    """Requests, errors, availability, latency quantiles and the verdict per model/day."""
    samples: list[MetricSample] = []
    for report in reports:
        labels = {"model": report.model_name, "day": _day(report.day)}
        samples += [
            MetricSample(
                "governance_sla_requests",
                "Requests in the SLA window.",
                "gauge",
                labels,
                report.requests,
            ),
            MetricSample(
                "governance_sla_errors",
                "Requests whose status is not ok.",
                "gauge",
                labels,
                report.errors,
            ),
            MetricSample(
                "governance_sla_availability",
                "Share of requests that succeeded (0-1).",
                "gauge",
                labels,
                _number(report.availability),
            ),
        ]
        for quantile, value in (
            ("0.5", report.p50_latency_ms),
            ("0.95", report.p95_latency_ms),
            ("0.99", report.p99_latency_ms),
        ):
            samples.append(
                MetricSample(
                    "governance_sla_latency_ms",
                    "Latency quantile of successful requests in milliseconds.",
                    "gauge",
                    {**labels, "quantile": quantile},
                    _number(value),
                )
            )
        samples.append(
            MetricSample(
                "governance_sla_passed",
                "1 if the window met every SLA target.",
                "gauge",
                labels,
                _flag(report.passed),
            )
        )
    return samples


def performance_samples(model: str, days: Iterable[PerformanceFigures]) -> list[MetricSample]:
    """Live metric value, label coverage and degradation flag per version/day."""
    samples: list[MetricSample] = []
    for day in days:
        labels = {"model": model, "version": day.version, "day": _day(day.day)}
        samples += [
            MetricSample(
                "governance_performance_value",
                "Live model metric from delayed labels (NaN when undefined).",
                "gauge",
                {**labels, "metric": day.metric},
                _number(day.value),
            ),
            MetricSample(
                "governance_performance_label_coverage",
                "Share of requests with ground truth (0-1).",
                "gauge",
                labels,
                day.label_coverage,
            ),
            MetricSample(
                "governance_performance_degraded",
                "1 if the metric is worse than validation by more than the tolerance.",
                "gauge",
                {**labels, "metric": day.metric},
                _flag(day.degraded),
            ),
        ]
    return samples


def drift_samples(model: str, version: int | str, report: Any) -> list[MetricSample]:
    """Data-set and per-feature drift from an `operations.drift.DriftReport`."""
    labels = {"model": model, "version": version}
    samples = [
        MetricSample(
            "governance_drift_share",
            "Share of features that drifted (0-1).",
            "gauge",
            labels,
            float(report.drift_share),
        ),
        MetricSample(
            "governance_dataset_drift",
            "1 if the drifted share reached the threshold.",
            "gauge",
            labels,
            _flag(report.dataset_drift),
        ),
    ]
    for column in report.columns:
        feature = {**labels, "feature": column.column}
        samples += [
            MetricSample(
                "governance_feature_drift_score",
                "Drift score of a feature (p-value or distance, see method).",
                "gauge",
                {**feature, "method": column.method},
                float(column.statistic),
            ),
            MetricSample(
                "governance_feature_drifted",
                "1 if the feature drifted.",
                "gauge",
                feature,
                _flag(column.drifted),
            ),
        ]
    return samples


def ingestion_samples(model: str, result: IngestionFigures) -> list[MetricSample]:
    """Rejected inference-log rows per reason (every reason, zeros included)."""
    return [
        MetricSample(
            "governance_ingestion_rejected_rows",
            "Inference-log rows rejected by validation in the last batch.",
            "gauge",
            {"model": model, "reason": reason},
            count,
        )
        for reason, count in result.counts_by_reason.items()
    ]


def check_sample(model: str, check: str, passed: bool) -> MetricSample:
    """The latest result of one governance check (1 = passed)."""
    return MetricSample(
        "governance_check_passed",
        "1 if the governance check passed.",
        "gauge",
        {"model": model, "check": check},
        _flag(passed),
    )


def alerts_pending_sample(count: int) -> MetricSample:
    """Alerts raised but not yet delivered or acknowledged."""
    return MetricSample(
        "governance_alerts_pending", "Governance alerts not yet delivered.", "gauge", {}, count
    )


def _day(day: Any) -> str:
    return "" if day is None else day.isoformat()
