"""Collecting the latest governance metrics from a real store seeded like the daily monitors.

The evidence is produced by the real monitors (`validate_inference_batch`, `sla_report`,
`daily_performance`, `compute_drift`) on a small inference log and stored exactly as
`orchestration/monitoring.py` stores it, so a change of evidence shape breaks these tests.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from governance_pipelines.config import SlaConfig
from governance_pipelines.operations import metrics_collection as mc
from governance_pipelines.operations.drift import DriftReport, compute_drift
from governance_pipelines.operations.drift_reference import ReferenceProfile
from governance_pipelines.operations.ingestion import IngestionResult, validate_inference_batch
from governance_pipelines.operations.metrics_export import MetricSample, render_openmetrics
from governance_pipelines.operations.performance import PerformanceDay, daily_performance
from governance_pipelines.operations.sla import SlaReport, sla_report
from governance_pipelines.store import GovernanceStore
from governance_pipelines.store.immutability import drop_append_only_triggers
from governance_pipelines.store.schema import audit_log

DAY = date(2024, 5, 2)
MODEL = "credit"
VERSION = 2


@dataclass(frozen=True)
class Seeded:
    ingestion: IngestionResult
    sla: SlaReport
    performance: PerformanceDay
    drift: DriftReport


def _inference_log(n: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    start = datetime(2024, 5, 2, tzinfo=UTC)
    labels = rng.integers(0, 2, n)
    rows = [
        {
            "request_id": f"r{i}",
            "model_name": MODEL,
            "model_version": VERSION,
            "requested_at": start + timedelta(minutes=10 * i),
            "consumer_team": "risk" if i % 3 else "ops",
            "latency_ms": float(20 + i),
            "status": "error" if i in (5, 17) else "ok",
            "features": json.dumps({"income": float(rng.normal(3.0, 1.0)), "region": "n"}),
            "prediction": float(np.clip(labels[i] * 0.6 + rng.uniform(0, 0.4), 0, 1)),
            "label": int(labels[i]),
            "label_at": start + timedelta(days=3),
        }
        for i in range(n)
    ]
    rows[9]["features"] = "{not json"
    return pd.DataFrame(rows)


def _record(
    store: GovernanceStore, check: str, passed: bool, evidence: dict[str, Any], **kw: Any
) -> None:
    """As `orchestration.monitoring._record` stores a daily check result."""
    store.record_check_result(
        model_name=kw.pop("model", MODEL),
        check_name=check,
        passed=passed,
        severity="WARN",
        summary="test",
        evidence={"day": DAY.isoformat(), **evidence},
        actor="test",
        **kw,
    )


def seed_store(store: GovernanceStore) -> Seeded:
    """One day of every monitor for `credit`, a version check, and two usage days."""
    store.register_model(name=MODEL, team="risk", owner="o", description="d", config={}, actor="t")
    ingestion = validate_inference_batch(
        _inference_log(),
        features=["income", "region"],
        known_versions={VERSION},
        categorical={"region"},
    )
    valid = ingestion.valid
    sla = sla_report(valid, SlaConfig(p95_latency_ms=60.0, availability=0.99), day=DAY)
    performance = daily_performance(
        valid,
        task="classification",
        metric="roc_auc",
        validation_value=0.9,
        tolerance=0.05,
        higher_is_better=True,
    )[0]
    rng = np.random.default_rng(1)
    reference = pd.DataFrame({"income": rng.normal(0.0, 1.0, 400), "region": ["n", "s"] * 200})
    drift = compute_drift(
        ReferenceProfile.from_frame(reference, categorical=["region"]),
        valid[["income", "region"]],
    )
    counts = {"counts_by_reason": ingestion.counts_by_reason, "total": ingestion.total}
    _record(store, mc.INFERENCE_ROWS_VALID, False, counts)
    _record(store, mc.WITHIN_SLA, sla.passed, sla.to_dict())
    _record(
        store,
        mc.PERFORMANCE_WITHIN_TOLERANCE,
        not performance.degraded,
        {**performance.to_dict(), "versions": [performance.to_dict()]},
        version=VERSION,
    )
    drifted = [c.column for c in drift.columns if c.drifted]
    _record(
        store,
        mc.NO_DATASET_DRIFT,
        not drift.dataset_drift,
        {**drift.to_dict(), "drifted": drifted},
        version=VERSION,
    )
    _record(store, "model_version_fair", True, {"groups": 2}, version=VERSION)
    store.replace_usage_day(MODEL, DAY - timedelta(days=1), [_usage(1, "risk", 99, 9)])
    store.replace_usage_day(
        MODEL, DAY, [_usage(1, "risk", 5, 1), _usage(2, "risk", 30, 2), _usage(2, "ops", 20, 0)]
    )
    return Seeded(ingestion, sla, performance, drift)


def _usage(version: int, team: str, requests: int, errors: int) -> dict[str, Any]:
    return {"version": version, "consumer_team": team, "requests": requests, "errors": errors}


def by_series(samples: list[MetricSample]) -> dict[tuple[str, frozenset], float]:
    series = {(s.name, frozenset(s.labels.items())): s.value for s in samples}
    assert len(series) == len(samples), "a series appears twice"
    return series


def value(series: dict, name: str, **labels: Any) -> float:
    return series[(name, frozenset((k, str(v)) for k, v in labels.items()))]


@pytest.fixture
def seeded(sqlite_store: GovernanceStore) -> tuple[GovernanceStore, Seeded]:
    return sqlite_store, seed_store(sqlite_store)


def test_every_monitor_figure_is_exported(seeded) -> None:
    store, seed = seeded
    samples = mc.collect_samples(store)
    series = by_series(samples)
    render_openmetrics(samples)  # one consistent exposition: no family declared twice
    day = DAY.isoformat()

    assert value(
        series, "governance_check_passed", model=MODEL, check=mc.WITHIN_SLA, version=""
    ) == int(seed.sla.passed)
    assert (
        value(
            series,
            "governance_check_passed",
            model=MODEL,
            check="model_version_fair",
            version=VERSION,
        )
        == 1
    )
    assert (
        value(
            series,
            "governance_check_passed",
            model=MODEL,
            check=mc.INFERENCE_ROWS_VALID,
            version="",
        )
        == 0
    )
    stamp = value(
        series,
        "governance_check_last_evaluated_timestamp_seconds",
        model=MODEL,
        check=mc.WITHIN_SLA,
    )
    assert abs(stamp - datetime.now(UTC).timestamp()) < 300

    assert value(series, "governance_drift_share", model=MODEL, version=VERSION) == pytest.approx(
        seed.drift.drift_share
    )
    assert value(series, "governance_dataset_drift", model=MODEL, version=VERSION) == int(
        seed.drift.dataset_drift
    )
    for column in seed.drift.columns:
        feature = {"model": MODEL, "version": VERSION, "feature": column.column}
        score = value(series, "governance_feature_drift_score", **feature, method=column.method)
        assert score == pytest.approx(column.statistic)
        assert value(series, "governance_feature_drifted", **feature) == int(column.drifted)
        assert value(series, "governance_feature_psi", **feature) == pytest.approx(column.psi)
    assert (
        value(series, "governance_feature_drifted", model=MODEL, version=VERSION, feature="income")
        == 1
    )

    assert value(series, "governance_sla_requests", model=MODEL, day=day) == seed.sla.requests == 59
    assert value(series, "governance_sla_errors", model=MODEL, day=day) == 2
    assert value(series, "governance_sla_availability", model=MODEL, day=day) == pytest.approx(
        57 / 59
    )
    assert value(series, "governance_sla_error_rate", model=MODEL, day=day) == pytest.approx(2 / 59)
    for quantile, expected in (("0.5", seed.sla.p50_latency_ms), ("0.95", seed.sla.p95_latency_ms)):
        got = value(series, "governance_sla_latency_ms", model=MODEL, day=day, quantile=quantile)
        assert got == pytest.approx(expected)
    p99 = value(series, "governance_sla_latency_ms", model=MODEL, day=day, quantile="0.99")
    assert p99 == pytest.approx(seed.sla.p99_latency_ms)
    assert value(series, "governance_sla_passed", model=MODEL, day=day) == int(seed.sla.passed) == 0

    perf = {"model": MODEL, "version": VERSION, "day": day}
    assert value(series, "governance_performance_value", **perf, metric="roc_auc") == pytest.approx(
        seed.performance.value
    )
    assert value(series, "governance_performance_label_coverage", **perf) == pytest.approx(
        seed.performance.label_coverage
    )
    assert value(series, "governance_performance_degraded", **perf, metric="roc_auc") == int(
        seed.performance.degraded
    )
    assert value(series, "governance_performance_validation_value", **perf, metric="roc_auc") == 0.9

    assert (
        value(
            series, "governance_ingestion_rejected_rows", model=MODEL, reason="unparsable_features"
        )
        == 1
    )
    assert (
        value(series, "governance_ingestion_rejected_rows", model=MODEL, reason="bad_status") == 0
    )
    assert value(series, "governance_ingestion_rows", model=MODEL, day=day) == 60

    assert value(series, "governance_usage_requests", model=MODEL, consumer="risk", day=day) == 35
    assert value(series, "governance_usage_errors", model=MODEL, consumer="risk", day=day) == 3
    assert value(series, "governance_usage_requests", model=MODEL, consumer="ops", day=day) == 20
    assert not [
        k for k in series if k[0] == "governance_usage_requests" and ("day", "2024-05-01") in k[1]
    ]

    assert value(series, "governance_alerts_pending") == 0
    assert value(series, "governance_audit_chain_valid") == 1
    assert value(series, "governance_audit_events_total") == 6  # model + 5 check results
    assert all(s.name.startswith("governance_") for s in samples)


def test_latest_result_wins_and_no_traffic_exports_only_status(seeded) -> None:
    store, _ = seeded
    _record(store, mc.WITHIN_SLA, True, {**_sla_evidence(), "requests": 7, "errors": 0})
    _record(store, mc.NO_DATASET_DRIFT, True, {})  # a day without traffic (monitoring._no_traffic)
    series = by_series(mc.collect_samples(store))
    assert value(series, "governance_sla_requests", model=MODEL, day=DAY.isoformat()) == 7
    assert (
        value(series, "governance_check_passed", model=MODEL, check=mc.NO_DATASET_DRIFT, version="")
        == 1
    )
    assert not [k for k in series if k[0].startswith(("governance_drift", "governance_feature"))]


def _sla_evidence() -> dict[str, Any]:
    return SlaReport(
        MODEL, DAY, 1, 0, 1.0, 0.0, None, None, None, 0, (), True, SlaConfig()
    ).to_dict()


def test_empty_sla_day_exports_nan_not_zero(sqlite_store) -> None:
    empty = sla_report(_inference_log().iloc[:0], SlaConfig(), day=DAY)
    _record(sqlite_store, mc.WITHIN_SLA, True, empty.to_dict())
    series = by_series(mc.collect_samples(sqlite_store))
    assert math.isnan(
        value(series, "governance_sla_availability", model=MODEL, day=DAY.isoformat())
    )
    assert value(series, "governance_sla_requests", model=MODEL, day=DAY.isoformat()) == 0


def test_unreadable_evidence_is_flagged_not_fatal(seeded) -> None:
    store, _ = seeded
    _record(store, mc.PERFORMANCE_WITHIN_TOLERANCE, True, {"metric": "roc_auc"}, version=VERSION)
    series = by_series(mc.collect_samples(store))
    flag = (
        "governance_metrics_unreadable_evidence",
        frozenset({("model", MODEL), ("check", mc.PERFORMANCE_WITHIN_TOLERANCE)}),
    )
    assert series[flag] == 1
    assert not [k for k in series if k[0] == "governance_performance_value"]
    assert value(series, "governance_sla_requests", model=MODEL, day=DAY.isoformat()) == 59


def test_malformed_sla_evidence_is_flagged_and_the_key_logged(seeded, caplog) -> None:
    store, _ = seeded
    _record(store, mc.WITHIN_SLA, False, {**_sla_evidence(), "requests": "many"})
    with caplog.at_level(logging.WARNING, logger=mc.__name__):
        series = by_series(mc.collect_samples(store))
    flag = (
        "governance_metrics_unreadable_evidence",
        frozenset({("model", MODEL), ("check", mc.WITHIN_SLA)}),
    )
    assert series[flag] == 1
    assert not [k for k in series if k[0].startswith("governance_sla_")]
    assert (
        value(series, "governance_check_passed", model=MODEL, check=mc.WITHIN_SLA, version="") == 0
    )
    assert "'requests' must be an integer" in caplog.text


def test_model_selection_and_unknown_models(seeded) -> None:
    store, _ = seeded
    _record(store, mc.WITHIN_SLA, True, _sla_evidence(), model="fraud")
    assert mc.known_models(store) == ["credit", "fraud"]
    only_fraud = mc.collect_samples(store, ["fraud"])
    models = {s.labels.get("model") for s in only_fraud}
    assert models == {"fraud", None}  # None: the store-wide alert and audit series
    assert {s.name for s in only_fraud if "model" not in s.labels} >= {
        "governance_alerts_pending",
        "governance_audit_chain_valid",
        "governance_audit_events_total",
    }
    with pytest.raises(mc.UnknownModelError, match=r"'nope'.*credit, fraud"):
        mc.collect_samples(store, ["credit", "nope"])


def test_model_without_results_exports_nothing(sqlite_store) -> None:
    sqlite_store.register_model(
        name="idle", team="t", owner="o", description="d", config={}, actor="t"
    )
    samples = mc.collect_samples(sqlite_store, ["idle"])
    assert all("model" not in s.labels for s in samples)


def test_pending_alerts_and_tampered_audit_chain(seeded) -> None:
    from governance_pipelines.alerting.outbox import Alert, enqueue

    store, _ = seeded
    for kind in ("drift", "sla"):
        alert = Alert(
            model_name=MODEL, kind=kind, severity="WARN", day=DAY, breached=f"{kind} breached"
        )
        enqueue(store, alert, actor="test")
    series = by_series(mc.collect_samples(store))
    assert value(series, "governance_alerts_pending") == 2
    assert value(series, "governance_alert_outbox_rows", status="pending") == 2
    assert value(series, "governance_alert_outbox_rows", status="sent") == 0

    with store.engine.begin() as connection:  # whoever can drop the guard can edit a row
        drop_append_only_triggers(connection, ("audit_log",))
        connection.execute(sa.update(audit_log).where(audit_log.c.seq == 2).values(actor="mallory"))
    series = by_series(mc.collect_samples(store))
    assert value(series, "governance_audit_chain_valid") == 0
    assert value(series, "governance_audit_events_total") == 8  # tampering removes nothing
