"""SLA measurement on hand-computed examples."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from governance_pipelines.config import SlaConfig
from governance_pipelines.operations.sla import SlaInputError, daily_sla, sla_report


def _log(latencies: list[float], statuses: list[str], *, day: str = "2024-03-01") -> pd.DataFrame:
    n = len(latencies)
    return pd.DataFrame(
        {
            "model_name": ["credit"] * n,
            "requested_at": pd.date_range(f"{day} 08:00", periods=n, freq="min", tz="UTC"),
            "status": statuses,
            "latency_ms": latencies,
        }
    )


TEN = [10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0]
ONE_ERROR = ["ok"] * 9 + ["error"]  # the 100 ms request failed


def test_hand_computed_quantiles_availability_and_breaches() -> None:
    # Successful latencies are 10..90 (n = 9); numpy's linear method takes rank q·(n − 1):
    # p50 → rank 4 → 50; p95 → rank 7.6 → 80 + 0.6·10 = 86; p99 → rank 7.92 → 89.2.
    sla = SlaConfig(availability=0.95, p95_latency_ms=80, p99_latency_ms=100, max_error_rate=0.05)
    report = sla_report(_log(TEN, ONE_ERROR), sla)
    assert report.model_name == "credit"
    assert (report.requests, report.errors, report.latency_samples) == (10, 1, 9)
    assert report.availability == pytest.approx(0.9)
    assert report.error_rate == pytest.approx(0.1)
    assert report.p50_latency_ms == pytest.approx(50.0)
    assert report.p95_latency_ms == pytest.approx(86.0)
    assert report.p99_latency_ms == pytest.approx(89.2)
    assert report.breaches == (
        "availability 90.00% < 95.00%",
        "error rate 10.00% > 5.00%",
        "p95 latency 86 ms > 80 ms",
    )
    assert not report.passed


def test_failed_requests_are_excluded_from_latency() -> None:
    # All ten included would give p50 = 55; the failed 100 ms request must not count.
    report = sla_report(_log(TEN, ONE_ERROR), SlaConfig())
    assert report.p50_latency_ms == pytest.approx(50.0)
    all_ok = sla_report(_log(TEN, ["ok"] * 10), SlaConfig())
    assert all_ok.p50_latency_ms == pytest.approx(np.percentile(TEN, 50))  # 55.0
    assert all_ok.p50_latency_ms == pytest.approx(55.0)


def test_passing_window_and_breach_message_formats() -> None:
    report = sla_report(_log(TEN, ["ok"] * 10), SlaConfig(availability=0.9, p95_latency_ms=200))
    assert report.passed
    assert report.breaches == ()
    slow = sla_report(
        _log([180.0] * 10, ["ok"] * 10), SlaConfig(p95_latency_ms=120, p99_latency_ms=150.5)
    )
    assert slow.breaches == ("p95 latency 180 ms > 120 ms", "p99 latency 180 ms > 150.5 ms")
    # Just enough decimals that value and target never print the same.
    near = sla_report(_log([120.04] * 4, ["ok"] * 4), SlaConfig(p95_latency_ms=120))
    assert near.breaches == ("p95 latency 120.04 ms > 120 ms",)
    statuses = ["ok"] * 9995 + ["error"] * 5  # 99.950% against 99.951%: both "99.95%"
    tight = sla_report(
        _log([1.0] * 10_000, statuses), SlaConfig(availability=0.99951, max_error_rate=1.0)
    )
    assert tight.breaches == ("availability 99.950% < 99.951%",)


def test_unexpected_status_counts_as_an_error_and_null_latency_is_ignored() -> None:
    report = sla_report(
        _log([10.0, np.nan, 30.0, 40.0], ["ok", "ok", "timeout", "ok"]), SlaConfig()
    )
    assert report.errors == 1
    assert report.availability == pytest.approx(0.75)
    assert report.latency_samples == 2
    assert report.p50_latency_ms == pytest.approx(25.0)


def test_empty_window_has_no_values_and_no_breaches() -> None:
    report = sla_report(_log([], []), SlaConfig())
    assert report.requests == 0
    assert report.availability is None
    assert report.p95_latency_ms is None
    assert report.passed


def test_daily_sla_groups_by_utc_day_and_model() -> None:
    first = _log(TEN, ONE_ERROR, day="2024-03-01")
    second = _log([500.0] * 3, ["ok"] * 3, day="2024-03-02")
    # 23:30 in New York on 1 March is 04:30 UTC on 2 March.
    late = pd.DataFrame(
        {
            "model_name": ["credit"],
            "requested_at": [pd.Timestamp("2024-03-01 23:30", tz="America/New_York")],
            "status": ["ok"],
            "latency_ms": [500.0],
        }
    )
    other = _log([1.0], ["ok"]).assign(model_name="churn")
    reports = daily_sla(pd.concat([second, first, late, other], ignore_index=True), SlaConfig())
    assert [(r.model_name, r.day, r.requests) for r in reports] == [
        ("churn", date(2024, 3, 1), 1),
        ("credit", date(2024, 3, 1), 10),
        ("credit", date(2024, 3, 2), 4),
    ]
    assert reports[2].breaches == ("p95 latency 500 ms > 250 ms",)
    assert reports[2].to_dict()["day"] == "2024-03-02"
    assert daily_sla(_log([], []), SlaConfig()) == []


def test_input_errors_are_actionable() -> None:
    with pytest.raises(SlaInputError, match="latency_ms"):
        sla_report(_log(TEN, ONE_ERROR).drop(columns=["latency_ms"]), SlaConfig())
    mixed = pd.concat([_log([1.0], ["ok"]), _log([1.0], ["ok"]).assign(model_name="churn")])
    with pytest.raises(SlaInputError, match="use daily_sla"):
        sla_report(mixed, SlaConfig())
    broken = _log([1.0], ["ok"]).astype({"requested_at": object})
    broken.loc[0, "requested_at"] = None
    with pytest.raises(SlaInputError, match="requested_at"):
        daily_sla(broken, SlaConfig())
