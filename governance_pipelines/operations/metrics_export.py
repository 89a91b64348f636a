"""Governance metrics in the Prometheus / OpenMetrics text formats.

Why: the framework says integrate with the monitoring teams already run (Grafana,
Datadog, Splunk…) instead of building dashboards nobody uses. All of them ingest the
Prometheus exposition format; OpenMetrics 1.0 is its standardised successor. Rendering is
a pure function from samples to text, so the same output can be served on `/metrics`,
written for the node-exporter textfile collector, or attached to an asset.

`MetricSample` refuses at construction what no scraper could read (bad names, reserved
suffixes, negative counters), so a broken series fails where it is built rather than at
scrape time. The governance families themselves are built in `governance_metrics`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from numbers import Real
from types import MappingProxyType
from typing import Any, Literal

__all__ = [
    "OPENMETRICS_CONTENT_TYPE",
    "PROMETHEUS_CONTENT_TYPE",
    "MetricExportError",
    "MetricSample",
    "render_openmetrics",
    "render_prometheus",
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
