"""The gateway's Prometheus metrics: what it answered, how fast, and what the journal holds.

A registry per app (not the global one), so tests and several apps in one process never
share counters; `/metrics` renders it in the Prometheus text format.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from governance_pipelines.serving.request_journal import JournalCounts

__all__ = ["GatewayMetrics"]

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class _JournalCollector:
    """Reads the journal's counters at scrape time (no double bookkeeping)."""

    def __init__(self, counts: JournalCounts) -> None:
        self.counts = counts

    def collect(self) -> Iterator[Metric]:
        c = self.counts
        for name, help_text, value in (
            ("gateway_requests_logged", "Journal lines written to the inference log.", c.logged),
            (
                "gateway_requests_replayed",
                "Journal lines of killed workers replayed at start.",
                c.replayed,
            ),
            (
                "gateway_requests_shed",
                "Requests refused with 503: the journal was full.",
                c.rejected,
            ),
            (
                "gateway_journal_flush_errors",
                "Failed writes of the journal to the log.",
                c.flush_errors,
            ),
        ):
            family = CounterMetricFamily(name, help_text)
            family.add_metric([], value)
            yield family
        pending = GaugeMetricFamily(
            "gateway_requests_pending", "Answered requests not yet in the inference log."
        )
        pending.add_metric([], c.pending)
        yield pending


@dataclass
class GatewayMetrics:
    counts: JournalCounts
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self.responses = Counter(
            "gateway_responses",
            "Responses per endpoint and HTTP status.",
            ["endpoint", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "gateway_request_seconds",
            "Time from request to response (auth, validation, model, journal).",
            ["endpoint"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.serving = Gauge(
            "gateway_endpoint_version",
            "The model version an endpoint serves (primary, canary or shadow).",
            ["endpoint", "model", "role"],
            registry=self.registry,
        )
        self.shadow = Counter(
            "gateway_shadow_scores",
            "Requests a shadow candidate scored, per outcome (journaled, error, shed).",
            ["endpoint", "outcome"],
            registry=self.registry,
        )
        self.registry.register(_JournalCollector(self.counts))

    def render(self) -> bytes:
        return generate_latest(self.registry)
