"""Usage reports: requests, errors, consumers, latency and adoption, computed by hand."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest

from governance_pipelines.operations.usage_report import Adoption, adoption, usage_day

DAY = date(2026, 1, 15)
KNOWN = {"web", "ops", "risk"}


def _log() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "model_name": ["credit"] * 6,
            "model_version": [1, 1, 1, 2, 2, 1],
            "consumer_team": ["web", "web", "ops", "web", "ghosts", "web"],
            "requested_at": pd.to_datetime(["2026-01-15 08:00"] * 6, utc=True),
            "status": ["ok", "error", "ok", "timeout", "ok", "OK"],
            "latency_ms": [10.0, 30.0, 20.0, None, 40.0, 50.0],
        }
    )


def _history() -> list[dict]:
    rows = [
        (date(2025, 12, 1), 0),  # a day with usage rows but no request is not a first call
        (date(2025, 12, 2), 5),
        (DAY - timedelta(days=10), 100),  # the previous 7 days: (Jan 1, Jan 8]
        (DAY - timedelta(days=7), 50),
        (DAY - timedelta(days=6), 30),  # the last 7 days: (Jan 8, Jan 15]
        (DAY, 60),
        (DAY, 30),  # several versions or consumers on one day add up
        (DAY + timedelta(days=1), 1000),  # after the day: not yet known
    ]
    return [{"day": d, "requests": n, "version": 1, "consumer_team": "web"} for d, n in rows]


def test_requests_errors_and_consumers_of_the_day() -> None:
    report = usage_day("credit", DAY, _log(), KNOWN)
    assert (report.model_name, report.day) == ("credit", DAY)
    assert report.requests == 6
    assert report.errors == 3  # "error", "timeout" and "OK": anything but "ok"
    assert report.consumers == ["ghosts", "ops", "web"]
    assert report.unknown_consumers == {"ghosts": 1}


def test_latency_mean_and_p95_over_measured_requests_only() -> None:
    report = usage_day("credit", DAY, _log(), KNOWN)
    # measured: 10, 30, 20, 40, 50 (the timeout has none); sorted 10 20 30 40 50,
    # p95 by linear interpolation at position 0.95 * 4 = 3.8: 40 + 0.8 * 10 = 48
    assert report.mean_latency_ms == pytest.approx(30.0)
    assert report.p95_latency_ms == pytest.approx(48.0)


def test_rows_per_version_and_consumer() -> None:
    rows = usage_day("credit", DAY, _log(), KNOWN).rows
    assert [
        (r["version"], r["consumer_team"], r["requests"], r["errors"], r["known"]) for r in rows
    ] == [
        (1, "ops", 1, 0, True),
        (1, "web", 3, 2, True),
        (2, "ghosts", 1, 0, False),
        (2, "web", 1, 1, True),
    ]
    means = [r["mean_latency_ms"] for r in rows]
    assert means[:3] == [pytest.approx(20.0), pytest.approx(30.0), pytest.approx(40.0)]
    assert means[3] is None  # nothing measured is unknown, not NaN


def test_a_log_without_latency_has_no_latency_figures() -> None:
    report = usage_day("credit", DAY, _log().drop(columns=["latency_ms"]), KNOWN)
    assert (report.mean_latency_ms, report.p95_latency_ms) == (None, None)
    assert report.requests == 6
    assert all(r["mean_latency_ms"] is None for r in report.rows)


def test_an_empty_day_reports_zero_with_adoption_still_computed() -> None:
    report = usage_day("credit", DAY, _log().iloc[:0], KNOWN, _history())
    assert (report.requests, report.errors, report.consumers, report.rows) == (0, 0, [], [])
    assert (report.mean_latency_ms, report.p95_latency_ms) == (None, None)
    assert report.adoption is not None
    assert report.adoption.first_call == date(2025, 12, 2)


def test_adoption_first_call_weeks_and_week_over_week_growth() -> None:
    found = adoption(_history(), DAY)
    # Dec 2 to Jan 15 is 44 days: 6 whole weeks
    assert found == Adoption(date(2025, 12, 2), 6, last_7_days=120, previous_7_days=150)
    assert found.growth == pytest.approx(120 / 150 - 1)  # -20 %


def test_adoption_without_a_previous_week_or_without_calls() -> None:
    new = adoption([{"day": DAY - timedelta(days=2), "requests": 7}], DAY)
    assert new == Adoption(DAY - timedelta(days=2), 0, 7, 0)
    assert new.growth is None
    assert adoption([], DAY) == Adoption(None, None, 0, 0)
    assert adoption([{"day": DAY, "requests": 0}], DAY).first_call is None


def test_growth_doubles() -> None:
    history = [
        {"day": DAY - timedelta(days=8), "requests": 10},
        {"day": DAY - timedelta(days=1), "requests": 20},
    ]
    assert adoption(history, DAY).growth == pytest.approx(1.0)


def test_to_dict_is_the_day_as_plain_data() -> None:
    report = usage_day("credit", DAY, _log(), KNOWN, _history())
    assert report.to_dict() == {
        "day": "2026-01-15",
        "requests": 6,
        "errors": 3,
        "unique_consumers": 3,
        "consumers": ["ghosts", "ops", "web"],
        "unknown_consumers": {"ghosts": 1},
        "mean_latency_ms": pytest.approx(30.0),
        "p95_latency_ms": pytest.approx(48.0),
        "first_call": "2025-12-02",
        "weeks_since_first_call": 6,
        "growth": pytest.approx(-0.2),
    }
    empty = usage_day("credit", DAY, _log().iloc[:0], KNOWN).to_dict()
    assert (empty["first_call"], empty["weeks_since_first_call"], empty["growth"]) == (
        None,
        None,
        None,
    )
