"""Usage roll-up: the rows of `usage_records`."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from governance_pipelines.operations.usage import USAGE_COLUMNS, UsageInputError, usage_by_consumer


def _log() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "model_name": ["credit", "credit", "credit", "credit", "credit", "churn"],
            "model_version": [1, 1, 1, 2, 1, 1],
            "consumer_team": ["risk", "risk", "risk", "risk", "web", "risk"],
            "requested_at": pd.to_datetime(
                [
                    "2024-03-01 01:00",
                    "2024-03-01 23:59",
                    "2024-03-02 00:00",
                    "2024-03-01 12:00",
                    "2024-03-01 12:00",
                    "2024-03-01 12:00",
                ],
                utc=True,
            ),
            "status": ["ok", "error", "ok", "ok", "timeout", "ok"],
            "latency_ms": [10.0, 30.0, 5.0, 7.0, None, 2.5],
        }
    )


def test_counts_per_model_version_team_and_utc_day() -> None:
    usage = usage_by_consumer(_log())
    assert tuple(usage.columns) == USAGE_COLUMNS
    # Latency by hand: credit v1 risk on 03-01 took 10 and 30 ms (sum 40, p95 by linear
    # interpolation 10 + 0.95 * 20 = 29); the timeout has no latency at all (unknown, not 0).
    latency = usage[["latency_ms_sum", "latency_ms_p95"]].to_numpy().tolist()
    assert latency[0] == [2.5, 2.5]
    assert latency[1] == [40.0, pytest.approx(29.0)]
    assert latency[2] == [5.0, 5.0]
    assert pd.isna(latency[3][0])
    assert pd.isna(latency[3][1])
    assert latency[4] == [7.0, 7.0]
    counts = usage.drop(columns=["latency_ms_sum", "latency_ms_p95"])
    assert counts.to_dict("records") == [
        {"model_name": "churn", "version": 1, "consumer_team": "risk",
         "day": date(2024, 3, 1), "requests": 1, "errors": 0},
        {"model_name": "credit", "version": 1, "consumer_team": "risk",
         "day": date(2024, 3, 1), "requests": 2, "errors": 1},
        {"model_name": "credit", "version": 1, "consumer_team": "risk",
         "day": date(2024, 3, 2), "requests": 1, "errors": 0},
        {"model_name": "credit", "version": 1, "consumer_team": "web",
         "day": date(2024, 3, 1), "requests": 1, "errors": 1},
        {"model_name": "credit", "version": 2, "consumer_team": "risk",
         "day": date(2024, 3, 1), "requests": 1, "errors": 0},
    ]  # fmt: skip
    assert usage["requests"].dtype == "int64"
    assert usage["errors"].dtype == "int64"
    assert usage["requests"].sum() == len(_log())  # nothing lost


def test_empty_log_gives_empty_table_with_the_columns() -> None:
    usage = usage_by_consumer(_log().iloc[:0])
    assert usage.empty
    assert tuple(usage.columns) == USAGE_COLUMNS


def test_rows_without_a_key_raise_instead_of_vanishing() -> None:
    frame = _log()
    frame.loc[2, "consumer_team"] = None
    with pytest.raises(UsageInputError, match=r"1 row.*consumer_team"):
        usage_by_consumer(frame)
    with pytest.raises(UsageInputError, match="status"):
        usage_by_consumer(_log().drop(columns=["status"]))
