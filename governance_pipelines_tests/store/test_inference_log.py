"""The inference log table: the demo simulator and real serving systems write the same rows."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pandas as pd
import pytest

from governance_pipelines.examples.credit import default_probability, load_credit_applications
from governance_pipelines.examples.traffic import credit_default_label_fn, simulate_inference_log
from governance_pipelines.store import GovernanceStore
from governance_pipelines.store.inference_log import (
    InferenceLogError,
    iter_inference_log,
    read_inference_log,
    write_inference_log,
)


@pytest.fixture(scope="module")
def traffic() -> pd.DataFrame:
    pool = load_credit_applications(n_rows=500, seed=1)
    return simulate_inference_log(
        "credit_default",
        1,
        pool,
        default_probability,
        start=date(2026, 1, 1),
        days=4,
        requests_per_day=100,
        consumer_teams=["lending", "collections"],
        label_fn=credit_default_label_fn,
        label_delay_days=2,
    )


def test_simulated_traffic_round_trips(store: GovernanceStore, traffic: pd.DataFrame) -> None:
    assert write_inference_log(store.engine, traffic) == 400
    back = read_inference_log(store.engine, "credit_default")
    assert len(back) == 400
    merged = back.merge(traffic, on="request_id", suffixes=("", "_sent"))
    assert (merged["requested_at"] == merged["requested_at_sent"]).all()
    assert merged["prediction"].equals(merged["prediction_sent"])
    assert merged["label"].isna().sum() == traffic["label"].isna().sum()
    assert back["requested_at"].is_monotonic_increasing


def test_reads_are_chunked_and_windowed(store: GovernanceStore, traffic: pd.DataFrame) -> None:
    write_inference_log(store.engine, traffic)
    day_two = list(
        iter_inference_log(
            store.engine,
            "credit_default",
            start=datetime(2026, 1, 2, tzinfo=UTC),
            end=datetime(2026, 1, 3, tzinfo=UTC),
            chunk_rows=30,
        )
    )
    assert [len(chunk) for chunk in day_two] == [30, 30, 30, 10]
    assert read_inference_log(store.engine, "other_model").empty


def test_duplicate_request_ids_reject_the_whole_batch(
    store: GovernanceStore, traffic: pd.DataFrame
) -> None:
    write_inference_log(store.engine, traffic.iloc[:10])
    with pytest.raises(InferenceLogError, match="request ids must be unique"):
        write_inference_log(store.engine, traffic.iloc[5:50])
    assert len(read_inference_log(store.engine, "credit_default")) == 10


def test_missing_columns_and_nulls_are_named(store: GovernanceStore, traffic: pd.DataFrame) -> None:
    with pytest.raises(InferenceLogError, match="lack column"):
        write_inference_log(store.engine, traffic.drop(columns=["latency_ms"]))
    broken = traffic.copy()
    broken.loc[3, "consumer_team"] = None
    with pytest.raises(InferenceLogError, match="consumer_team must not be null"):
        write_inference_log(store.engine, broken)
