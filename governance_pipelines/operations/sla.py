"""Uptime and latency of a deployed model, measured from its inference log against its SLA.

Why from the log: the framework asks for "routine model audits against SLAs" that a
reader can trust and re-run. The inference log is the record every other monitor uses, so
an SLA verdict computed from it is reproducible from stored data, not from a metrics
backend's retention window.

Definitions (fixed here so every report and dashboard means the same thing):

- **requests**: rows in the log; **errors**: rows whose status is not ``'ok'`` (anything
  unexpected counts against the model, so an odd status can never inflate availability).
- **availability** = ok / requests; **error rate** = errors / requests. Both are checked
  because `SlaConfig` declares both (``availability`` and ``max_error_rate``).
- **latency quantiles** are over *successful* requests with a recorded latency. Failed
  requests are excluded because they usually fail fast (validation errors, refused
  connections): including them makes latency look *better* exactly when the service is
  worst, and errors are already charged to availability.
- quantiles use ``np.percentile(..., method="linear")`` (numpy's default, type 7 of
  Hyndman & Fan, also pandas' and Prometheus-free spreadsheets' default): the value at
  rank ``q·(n−1)`` between the sorted latencies, interpolated linearly. It is stable for
  small samples and easy to recompute by hand in an audit.
- a window with **no requests** has no availability or latency (``None``) and no
  breaches: the log cannot see requests that never arrived, which is the job of an
  external uptime probe.
- days are **UTC calendar days** of ``requested_at`` (naive timestamps are UTC).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

import numpy as np
import pandas as pd

from governance_pipelines.config import SlaConfig
from governance_pipelines.operations.evidence_fields import RecordFields

__all__ = ["QUANTILES", "SlaInputError", "SlaReport", "daily_sla", "sla_report"]

QUANTILES: tuple[float, ...] = (50.0, 95.0, 99.0)
PERCENTILE_METHOD: Final = "linear"
_REQUIRED = ("model_name", "requested_at", "status", "latency_ms")


class SlaInputError(ValueError):
    """The frame cannot be measured (missing columns, or several models for one SLA)."""


@dataclass(frozen=True)
class SlaReport:
    """One model's service level over one window (a UTC day for `daily_sla`).

    `breaches` are sentences for alerts and audit records, e.g.
    ``"p95 latency 180 ms > 120 ms"``; `passed` is true exactly when there are none.
    """

    model_name: str
    day: date | None
    requests: int
    errors: int
    availability: float | None
    error_rate: float | None
    p50_latency_ms: float | None
    p95_latency_ms: float | None
    p99_latency_ms: float | None
    latency_samples: int
    breaches: tuple[str, ...]
    passed: bool
    sla: SlaConfig

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready record (for asset metadata and the audit trail)."""
        return {
            "model_name": self.model_name,
            "day": self.day.isoformat() if self.day else None,
            "requests": self.requests,
            "errors": self.errors,
            "availability": self.availability,
            "error_rate": self.error_rate,
            "p50_latency_ms": self.p50_latency_ms,
            "p95_latency_ms": self.p95_latency_ms,
            "p99_latency_ms": self.p99_latency_ms,
            "latency_samples": self.latency_samples,
            "breaches": list(self.breaches),
            "passed": self.passed,
            "sla": self.sla.model_dump(),
        }

    @classmethod
    def from_dict(cls, record: Mapping[str, Any]) -> SlaReport:
        """The report `to_dict` gave, from stored evidence; other keys are ignored.

        The metrics exporter reads the SLA check's evidence back through this, so a row that
        is not such a record fails here with the key named (`ValueError`), not as a KeyError
        deep inside whichever reader met it first.
        """
        fields = RecordFields(record, "SLA report")
        return cls(
            model_name=fields.text("model_name"),
            day=fields.optional_day("day"),
            requests=fields.integer("requests"),
            errors=fields.integer("errors"),
            availability=fields.optional_number("availability"),
            error_rate=fields.optional_number("error_rate"),
            p50_latency_ms=fields.optional_number("p50_latency_ms"),
            p95_latency_ms=fields.optional_number("p95_latency_ms"),
            p99_latency_ms=fields.optional_number("p99_latency_ms"),
            latency_samples=fields.integer("latency_samples"),
            breaches=fields.texts("breaches"),
            passed=fields.flag("passed"),
            sla=fields.sla_config("sla"),
        )


def sla_report(frame: pd.DataFrame, sla: SlaConfig, *, day: date | None = None) -> SlaReport:
    """Measure one model's requests in `frame` (any window) against `sla`.

    `day` only labels the report (`daily_sla` passes it); the whole frame is measured.
    """
    _check_columns(frame)
    models = frame["model_name"].dropna().unique()
    if len(models) > 1:
        raise SlaInputError(
            f"sla_report measures one model against its own SLA, but the frame holds "
            f"{', '.join(map(str, sorted(models)))}; use daily_sla or filter by model_name"
        )
    model_name = str(models[0]) if len(models) else ""
    requests = len(frame)
    ok = frame["status"].to_numpy(dtype=object) == "ok"
    errors = int(requests - ok.sum())
    latency = pd.to_numeric(frame["latency_ms"], errors="coerce").to_numpy(dtype=float)
    ok_latency = latency[ok & np.isfinite(latency)]
    quantiles: list[float | None] = [None, None, None]
    if ok_latency.size:
        values = np.percentile(ok_latency, QUANTILES, method=PERCENTILE_METHOD)
        quantiles = [float(v) for v in values]
    availability = (requests - errors) / requests if requests else None
    error_rate = errors / requests if requests else None
    p50, p95, p99 = quantiles
    breaches = _breaches(availability, error_rate, p95, p99, sla)
    return SlaReport(
        model_name=model_name,
        day=day,
        requests=requests,
        errors=errors,
        availability=availability,
        error_rate=error_rate,
        p50_latency_ms=p50,
        p95_latency_ms=p95,
        p99_latency_ms=p99,
        latency_samples=int(ok_latency.size),
        breaches=tuple(breaches),
        passed=not breaches,
        sla=sla,
    )


def daily_sla(frame: pd.DataFrame, sla: SlaConfig) -> list[SlaReport]:
    """One `SlaReport` per model and UTC day present in `frame`, sorted by model then day.

    Days without any request produce no report (see the module note on empty windows).
    """
    _check_columns(frame)
    if frame.empty:
        return []
    days = utc_days(frame["requested_at"])
    if days.isna().any():
        raise SlaInputError(
            f"{int(days.isna().sum())} row(s) have a null or unparsable requested_at; "
            "validate the batch with operations.ingestion.validate_inference_batch first"
        )
    reports = []
    for (_, day), group in frame.groupby([frame["model_name"], days], sort=True):
        reports.append(sla_report(group, sla, day=day))
    return reports


def utc_days(timestamps: pd.Series) -> pd.Series:
    """The UTC calendar day (`datetime.date`) of each timestamp; naive means UTC."""
    stamps = pd.to_datetime(timestamps, utc=True, errors="coerce")
    return pd.Series(
        np.where(stamps.isna(), None, stamps.dt.date.to_numpy(dtype=object)),
        index=timestamps.index,
        dtype=object,
        name="day",
    )


def _check_columns(frame: pd.DataFrame) -> None:
    missing = [column for column in _REQUIRED if column not in frame.columns]
    if missing:
        raise SlaInputError(
            f"SLA measurement needs inference-log column(s) {', '.join(missing)}; "
            f"got {', '.join(map(str, frame.columns)) or 'no columns'}"
        )


def _breaches(
    availability: float | None,
    error_rate: float | None,
    p95: float | None,
    p99: float | None,
    sla: SlaConfig,
) -> list[str]:
    breaches = []
    if availability is not None and availability < sla.availability:
        shown, target = _distinct_percent(availability, sla.availability)
        breaches.append(f"availability {shown} < {target}")
    if error_rate is not None and error_rate > sla.max_error_rate:
        shown, target = _distinct_percent(error_rate, sla.max_error_rate)
        breaches.append(f"error rate {shown} > {target}")
    if p95 is not None and p95 > sla.p95_latency_ms:
        shown, target = _distinct_ms(p95, sla.p95_latency_ms)
        breaches.append(f"p95 latency {shown} > {target}")
    if p99 is not None and sla.p99_latency_ms is not None and p99 > sla.p99_latency_ms:
        shown, target = _distinct_ms(p99, sla.p99_latency_ms)
        breaches.append(f"p99 latency {shown} > {target}")
    return breaches


def _distinct_percent(value: float, target: float) -> tuple[str, str]:
    """Percentages with just enough decimals that a breach never reads "99.50% < 99.50%"."""
    for decimals in range(2, 7):
        shown, wanted = f"{value:.{decimals}%}", f"{target:.{decimals}%}"
        if shown != wanted:
            return shown, wanted
    return f"{value:%}", f"{target:%}"


def _distinct_ms(value: float, target: float) -> tuple[str, str]:
    """Milliseconds to 0.1 ms ("180 ms", "180.4 ms"), more decimals only if needed to differ."""
    for decimals in range(1, 7):
        shown, wanted = _ms(value, decimals), _ms(target, decimals)
        if shown != wanted:
            return shown, wanted
    return f"{value!r} ms", f"{target!r} ms"


def _ms(value: float, decimals: int) -> str:
    text = f"{value:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text} ms"
