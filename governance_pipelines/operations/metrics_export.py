"""Governance metrics in the Prometheus / OpenMetrics text formats.

Why: the framework says integrate with the monitoring teams already run (Grafana,
Datadog, Splunk…) instead of building dashboards nobody uses. All of them ingest the
Prometheus exposition format; OpenMetrics 1.0 is its standardised successor. Rendering is
a pure function from samples to text, so the same output can be served on `/metrics`,
written for the node-exporter textfile collector, or attached to an asset.

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
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from numbers import Real
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from datetime import date

__all__ = [
    "OPENMETRICS_CONTENT_TYPE",
    "PROMETHEUS_CONTENT_TYPE",
    "MetricExportError",
    "MetricSample",
    "alerts_pending_sample",
    "check_sample",
    "drift_samples",
    "ingestion_samples",
    "performance_samples",
    "render_openmetrics",
    "render_prometheus",
    "sla_samples",
]

OPENMETRICS_CONTENT_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8"
PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

MetricType = Literal["gauge", "counter"]
_METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
# Suffixes OpenMetrics gives meaning to; a gauge named like this is misread by parsers.
_RESERVED_SUFFIXES = ("_total", "_created", "_count", "_sum", "_bucket", "_gcount", "_gsum")


class MetricExportError(ValueError):
    """A sample that would produce an invalid exposition; the message says how to fix it."""


@dataclass(frozen=True)
class MetricSample:
    """One value of one series: ``name{labels} value [timestamp]``.

    `labels` values are rendered with `str`. `timestamp` is Unix time in seconds (it is
    converted to milliseconds for the Prometheus format); leave it None to let the
    scraper stamp the sample, which is what Prometheus recommends for live values.
    A counter may be named with or without ``_total``; the family is the name without it.
    """

    name: str
    help: str
    type: MetricType
    labels: Mapping[str, Any]
    value: float
    timestamp: float | None = None
    _label_items: tuple[tuple[str, str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _METRIC_NAME.fullmatch(self.name):
            raise MetricExportError(
                f"metric name {self.name!r} is invalid; use letters, digits, '_' and ':' "
                "and do not start with a digit (e.g. 'governance_drift_share')"
            )
        if self.type not in ("gauge", "counter"):
            raise MetricExportError(
                f"metric {self.name!r}: type must be 'gauge' or 'counter', got {self.type!r}"
            )
        if self.type == "gauge" and self.name.endswith(_RESERVED_SUFFIXES):
            raise MetricExportError(
                f"gauge {self.name!r} ends with a suffix OpenMetrics reserves "
                f"({', '.join(_RESERVED_SUFFIXES)}); rename it or make it a counter"
            )
        for label in self.labels:
            if not isinstance(label, str) or not _LABEL_NAME.fullmatch(label):
                raise MetricExportError(
                    f"metric {self.name!r}: label name {label!r} is invalid; use letters, "
                    "digits and '_' and do not start with a digit"
                )
            if label.startswith("__"):
                raise MetricExportError(
                    f"metric {self.name!r}: label name {label!r} starts with '__', "
                    "which Prometheus reserves for internal use"
                )
        if isinstance(self.value, bool) or not isinstance(self.value, Real):
            raise MetricExportError(
                f"metric {self.name!r}: value must be a number, got {self.value!r} "
                "(export booleans as 0/1 with int(...))"
            )
        if self.type == "counter" and (math.isnan(self.value) or self.value < 0):
            raise MetricExportError(
                f"counter {self.name!r} has value {self.value!r}; counters must be >= 0 "
                "and not NaN — export a value that can go down or be undefined as a gauge"
            )
        if self.timestamp is not None and (
            isinstance(self.timestamp, bool)
            or not isinstance(self.timestamp, Real)
            or not math.isfinite(self.timestamp)
        ):
            raise MetricExportError(
                f"metric {self.name!r}: timestamp must be finite Unix seconds, "
                f"got {self.timestamp!r}"
            )
        items = tuple(sorted((k, str(v)) for k, v in self.labels.items()))
        object.__setattr__(self, "labels", MappingProxyType(dict(items)))
        object.__setattr__(self, "_label_items", items)

    @property
    def family(self) -> str:
        """The metric family name (a counter's name without ``_total``)."""
        return self.name.removesuffix("_total") if self.type == "counter" else self.name


def render_openmetrics(samples: Iterable[MetricSample]) -> str:
    """OpenMetrics 1.0 text: families with ``# HELP``/``# TYPE``, then ``# EOF``.

    Serve with `OPENMETRICS_CONTENT_TYPE`. Families appear in first-seen order, samples
    in input order; a family's samples are grouped even if the input interleaves them.
    """
    from prometheus_client.openmetrics.exposition import generate_latest

    return generate_latest(_Exposition(_families(samples))).decode("utf-8")


def render_prometheus(samples: Iterable[MetricSample]) -> str:
    """The classic Prometheus text format 0.0.4 (for collectors that predate OpenMetrics).

    Rendered by `prometheus_client`, the reference implementation, so escaping, special
    values and timestamps (integer milliseconds here) are exactly what scrapers expect.
    """
    from prometheus_client.exposition import generate_latest

    return generate_latest(_Exposition(_families(samples))).decode("utf-8")


class _Exposition:
    """A one-shot `prometheus_client` collector over already-validated families."""

    def __init__(self, families: list[Any]) -> None:
        self._families = families

    def collect(self) -> Iterable[Any]:
        return iter(self._families)


def _families(samples: Iterable[MetricSample]) -> list[Any]:
    """Group samples into `prometheus_client` metric families, refusing what no scraper
    could read unambiguously (a family declared twice, a series given twice)."""
    from prometheus_client.metrics_core import Metric

    families: dict[str, Metric] = {}
    seen: dict[str, set[tuple[tuple[str, str], ...]]] = {}
    for sample in samples:
        if not isinstance(sample, MetricSample):
            raise MetricExportError(f"expected MetricSample objects, got {type(sample).__name__}")
        family = families.get(sample.family)
        if family is None:
            family = families[sample.family] = Metric(sample.family, sample.help, sample.type)
            seen[sample.family] = set()
        elif (family.type, family.documentation) != (sample.type, sample.help):
            raise MetricExportError(
                f"metric family {sample.family!r} is declared twice with different type or "
                f"help ({family.type!r}/{family.documentation!r} vs "
                f"{sample.type!r}/{sample.help!r})"
            )
        if sample._label_items in seen[sample.family]:
            raise MetricExportError(
                f"metric {sample.family!r} has two samples with labels {dict(sample.labels)}; "
                "each series may appear once per exposition"
            )
        seen[sample.family].add(sample._label_items)
        name = sample.family + "_total" if sample.type == "counter" else sample.name
        family.add_sample(
            name, dict(sample._label_items), float(sample.value), timestamp=sample.timestamp
        )
    return list(families.values())


# --- builders for the governance reports (the naming scheme above) ----------------------
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
