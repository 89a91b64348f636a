"""OpenMetrics / Prometheus text exposition: exact text, escaping, and parser round trips."""

from __future__ import annotations

import math
from datetime import date
from types import SimpleNamespace

import pandas as pd
import pytest

from governance_pipelines.config import SlaConfig
from governance_pipelines.operations.governance_metrics import (
    alerts_pending_sample,
    check_sample,
    drift_samples,
    ingestion_samples,
    performance_samples,
    sla_samples,
)
from governance_pipelines.operations.ingestion import IngestionResult
from governance_pipelines.operations.metrics_export import (
    MetricExportError,
    MetricSample,
    render_openmetrics,
    render_prometheus,
)
from governance_pipelines.operations.performance import daily_performance
from governance_pipelines.operations.sla import sla_report

HELP = "Share of features that drifted."


def _samples() -> list[MetricSample]:
    return [
        MetricSample(
            "governance_drift_share", HELP, "gauge", {"version": 3, "model": "credit"}, 0.25
        ),
        MetricSample("governance_requests_total", "Requests.", "counter", {"model": "credit"}, 12),
        MetricSample(
            "governance_drift_share", HELP, "gauge", {"model": 'a"b\\c\nd', "version": 1}, math.nan
        ),
        MetricSample(
            "governance_feature_drift_score", "Score.", "gauge", {}, math.inf, 1700000000.5
        ),
        MetricSample("governance_alerts_pending", "Pending.", "gauge", {}, -math.inf),
    ]


def test_openmetrics_text_is_exact() -> None:
    expected = (
        "# HELP governance_drift_share Share of features that drifted.\n"
        "# TYPE governance_drift_share gauge\n"
        'governance_drift_share{model="credit",version="3"} 0.25\n'
        'governance_drift_share{model="a\\"b\\\\c\\nd",version="1"} NaN\n'
        "# HELP governance_requests Requests.\n"
        "# TYPE governance_requests counter\n"
        'governance_requests_total{model="credit"} 12.0\n'
        "# HELP governance_feature_drift_score Score.\n"
        "# TYPE governance_feature_drift_score gauge\n"
        "governance_feature_drift_score +Inf 1700000000.5\n"
        "# HELP governance_alerts_pending Pending.\n"
        "# TYPE governance_alerts_pending gauge\n"
        "governance_alerts_pending -Inf\n"
        "# EOF\n"
    )
    assert render_openmetrics(_samples()) == expected


def test_prometheus_text_differs_where_the_formats_differ() -> None:
    text = render_prometheus(_samples())
    assert "# EOF" not in text
    assert "# TYPE governance_requests_total counter\n" in text
    assert "governance_feature_drift_score +Inf 1700000000500\n" in text  # milliseconds
    quoted = MetricSample("governance_x", 'say "hi"\\', "gauge", {}, 1)
    assert render_prometheus([quoted]).splitlines()[0] == '# HELP governance_x say "hi"\\\\'
    assert render_openmetrics([quoted]).splitlines()[0] == '# HELP governance_x say \\"hi\\"\\\\'


def test_empty_exposition() -> None:
    assert render_openmetrics([]) == "# EOF\n"
    assert render_prometheus([]) == ""


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "2fast"}, "metric name"),
        ({"name": "governance drift"}, "metric name"),
        ({"labels": {"bad-label": "x"}}, "label name"),
        ({"labels": {"__name__": "x"}}, "reserves"),
        ({"type": "histogram"}, "'gauge' or 'counter'"),
        ({"name": "governance_rows_total"}, "suffix"),
        ({"value": True}, "0/1"),
        ({"value": "1"}, "must be a number"),
        ({"type": "counter", "value": -1}, "counters must be >= 0"),
        ({"type": "counter", "value": math.nan}, "counters must be >= 0"),
        ({"timestamp": math.nan}, "timestamp"),
    ],
)
def test_invalid_samples_are_rejected_with_a_fix(kwargs: dict[str, object], message: str) -> None:
    arguments = {"name": "governance_x", "help": "X.", "type": "gauge", "labels": {}, "value": 1}
    with pytest.raises(MetricExportError, match=message):
        MetricSample(**{**arguments, **kwargs})  # type: ignore[arg-type]


def test_conflicting_families_and_duplicate_series_are_rejected() -> None:
    a = MetricSample("governance_x", "X.", "gauge", {"m": "a"}, 1)
    with pytest.raises(MetricExportError, match="declared twice"):
        render_openmetrics([a, MetricSample("governance_x", "Other.", "gauge", {"m": "b"}, 1)])
    with pytest.raises(MetricExportError, match="two samples"):
        render_openmetrics([a, MetricSample("governance_x", "X.", "gauge", {"m": "a"}, 2)])


def test_builders_follow_the_naming_scheme() -> None:
    log = pd.DataFrame(
        {
            "model_name": ["credit"] * 2,
            "requested_at": pd.to_datetime(["2024-03-01 10:00"] * 2, utc=True),
            "status": ["ok", "error"],
            "latency_ms": [10.0, 5.0],
        }
    )
    report = sla_report(log, SlaConfig(), day=date(2024, 3, 1))
    text = render_openmetrics(
        [
            *sla_samples([report]),
            check_sample("credit", "training_snapshot_schema_valid", True),
            alerts_pending_sample(2),
            *ingestion_samples(
                "credit",
                IngestionResult(pd.DataFrame(), pd.DataFrame(), {"bad_status": 3, "wrong_type": 0}),
            ),
        ]
    )
    assert 'governance_sla_availability{day="2024-03-01",model="credit"} 0.5\n' in text
    assert (
        'governance_sla_latency_ms{day="2024-03-01",model="credit",quantile="0.95"} 10.0\n' in text
    )
    assert 'governance_sla_passed{day="2024-03-01",model="credit"} 0.0\n' in text
    assert (
        'governance_check_passed{check="training_snapshot_schema_valid",model="credit"} 1.0\n'
        in text
    )
    assert "governance_alerts_pending 2.0\n" in text
    assert 'governance_ingestion_rejected_rows{model="credit",reason="bad_status"} 3.0\n' in text


def test_output_parses_with_prometheus_client() -> None:
    """Round trip through the reference parsers (skipped when prometheus_client is absent)."""
    pytest.importorskip("prometheus_client")
    from prometheus_client.openmetrics.parser import (
        text_string_to_metric_families as parse_openmetrics,
    )
    from prometheus_client.parser import text_string_to_metric_families as parse_prometheus

    for parse, text in (
        (parse_openmetrics, render_openmetrics(_samples())),
        (parse_prometheus, render_prometheus(_samples())),
    ):
        families = {family.name: family for family in parse(text)}
        assert families["governance_requests"].type == "counter"
        assert families["governance_requests"].samples[0].value == 12
        shares = families["governance_drift_share"].samples
        assert shares[0].labels == {"model": "credit", "version": "3"}
        assert shares[1].labels["model"] == 'a"b\\c\nd'
        assert math.isnan(shares[1].value)
        score = families["governance_feature_drift_score"].samples[0]
        assert score.value == math.inf
        assert float(score.timestamp) == pytest.approx(1700000000.5)
        assert families["governance_alerts_pending"].samples[0].value == -math.inf


def _governance_samples() -> list[MetricSample]:
    """One of each builder, over real reports (a drift report stand-in has its fields)."""
    log = pd.DataFrame(
        {
            "model_name": ["credit"] * 3,
            "model_version": [2] * 3,
            "requested_at": pd.to_datetime(["2024-03-01 10:00"] * 3, utc=True),
            "status": ["ok", "ok", "error"],
            "latency_ms": [10.0, 30.0, 5.0],
            "prediction": [0.9, 0.2, float("nan")],
            "label": [1.0, 1.0, float("nan")],
        }
    )
    drift = SimpleNamespace(
        drift_share=0.5,
        dataset_drift=True,
        columns=[
            SimpleNamespace(column="income", method="wasserstein", statistic=0.2, drifted=True),
            SimpleNamespace(column="region", method="chisquare", statistic=0.7, drifted=False),
        ],
    )
    performance = daily_performance(
        log,
        task="classification",
        metric="roc_auc",
        validation_value=0.8,
        tolerance=0.05,
        higher_is_better=True,
    )
    return [
        *sla_samples([sla_report(log, SlaConfig(), day=date(2024, 3, 1))]),
        *performance_samples("credit", performance),
        *drift_samples("credit", 2, drift),
    ]


def test_drift_and_performance_builders() -> None:
    text = render_openmetrics(_governance_samples())
    assert 'governance_drift_share{model="credit",version="2"} 0.5\n' in text
    assert 'governance_dataset_drift{model="credit",version="2"} 1.0\n' in text
    assert (
        'governance_feature_drift_score{feature="income",method="wasserstein",'
        'model="credit",version="2"} 0.2\n'
    ) in text
    # One class among the labels: ROC AUC is undefined and exported as NaN, not 0.
    assert (
        'governance_performance_value{day="2024-03-01",metric="roc_auc",model="credit",'
        'version="2"} NaN\n'
    ) in text
    assert (
        'governance_performance_label_coverage{day="2024-03-01",model="credit",version="2"} '
        f"{2 / 3!r}\n"
    ) in text


def test_governance_metrics_parse_with_prometheus_client() -> None:
    pytest.importorskip("prometheus_client")
    from prometheus_client.openmetrics.parser import (
        text_string_to_metric_families as parse_openmetrics,
    )

    families = {f.name: f for f in parse_openmetrics(render_openmetrics(_governance_samples()))}
    latency = families["governance_sla_latency_ms"].samples
    assert [s.labels["quantile"] for s in latency] == ["0.5", "0.95", "0.99"]
    assert latency[0].value == 20.0
    assert families["governance_feature_drifted"].samples[1].value == 0
