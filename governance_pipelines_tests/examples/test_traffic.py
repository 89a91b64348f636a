"""The traffic simulator must produce an inference log the monitors can rely on."""

from __future__ import annotations

import json
import uuid
from datetime import date

import numpy as np
import pandas as pd
import pytest

from governance_pipelines.examples.credit import default_probability, load_credit_applications
from governance_pipelines.examples.traffic import (
    CREDIT_DEMO_DRIFT,
    INFERENCE_LOG_COLUMNS,
    apply_drift,
    credit_default_label_fn,
    decode_features,
    simulate_inference_log,
)

START = date(2024, 7, 1)
DAYS = 10
PER_DAY = 400
DRIFT_DAY = 5
SPIKE_DAY = 2
DELAY = 3
TEAMS = ("underwriting", "collections", "marketing")


@pytest.fixture(scope="module")
def pool() -> pd.DataFrame:
    return load_credit_applications(n_rows=2_000, seed=7).drop(columns="default")


def _simulate(pool: pd.DataFrame, **overrides: object) -> pd.DataFrame:
    kwargs: dict[str, object] = {
        "start": START,
        "days": DAYS,
        "requests_per_day": PER_DAY,
        "consumer_teams": TEAMS,
        "drift_from_day": DRIFT_DAY,
        "drift": CREDIT_DEMO_DRIFT,
        "label_fn": credit_default_label_fn,
        "label_delay_days": DELAY,
        "error_rate": 0.02,
        "latency_spike_days": (SPIKE_DAY,),
        "seed": 1,
    }
    kwargs.update(overrides)
    return simulate_inference_log("credit_default", 3, pool, default_probability, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def log(pool: pd.DataFrame) -> pd.DataFrame:
    return _simulate(pool)


def _day(log: pd.DataFrame) -> pd.Series:
    return (log["requested_at"] - pd.Timestamp(START, tz="UTC")).dt.days


def test_columns_are_exactly_the_contract(log: pd.DataFrame) -> None:
    assert list(log.columns) == [
        "request_id",
        "model_name",
        "model_version",
        "requested_at",
        "consumer_team",
        "latency_ms",
        "status",
        "features",
        "prediction",
        "label",
        "label_at",
    ]
    assert tuple(log.columns) == INFERENCE_LOG_COLUMNS
    assert len(log) == DAYS * PER_DAY


def test_column_types(log: pd.DataFrame) -> None:
    assert log["model_name"].eq("credit_default").all()
    assert log["model_version"].dtype == np.int64
    assert log["model_version"].eq(3).all()
    assert str(log["requested_at"].dtype) == "datetime64[ns, UTC]"
    assert str(log["label_at"].dtype) == "datetime64[ns, UTC]"
    for column in ("latency_ms", "prediction", "label"):
        assert log[column].dtype == np.float64
    for column in ("request_id", "consumer_team", "status", "features"):
        assert log[column].map(type).eq(str).all()
    assert set(log["status"].unique()) == {"ok", "error"}


def test_deterministic_per_seed(pool: pd.DataFrame, log: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(log, _simulate(pool))
    other = _simulate(pool, seed=2)
    assert not set(other["request_id"]) & set(log["request_id"])


def test_request_ids_are_unique_uuid4(log: pd.DataFrame) -> None:
    assert log["request_id"].is_unique
    for text in log["request_id"].head(50):
        parsed = uuid.UUID(text)
        assert parsed.version == 4
        assert str(parsed) == text


def test_requests_are_sorted_in_window_with_diurnal_peak(log: pd.DataFrame) -> None:
    assert log["requested_at"].is_monotonic_increasing
    assert _day(log).between(0, DAYS - 1).all()
    assert _day(log).value_counts().eq(PER_DAY).all()
    hours = log["requested_at"].dt.hour
    assert hours.between(12, 16).sum() > 3 * hours.between(0, 4).sum()


def test_team_usage_is_skewed(log: pd.DataFrame) -> None:
    shares = log["consumer_team"].value_counts(normalize=True)
    assert set(shares.index) == set(TEAMS)
    assert shares["underwriting"] > shares["collections"] > shares["marketing"]


def test_error_rows_have_nan_prediction(log: pd.DataFrame) -> None:
    errors = log["status"] == "error"
    assert errors.any()
    assert log.loc[errors, "prediction"].isna().all()
    ok = log.loc[~errors, "prediction"]
    assert ok.notna().all()
    assert ok.between(0.0, 1.0).all()


def test_labels_arrive_after_the_delay(log: pd.DataFrame) -> None:
    window_end = pd.Timestamp(START, tz="UTC") + pd.Timedelta(days=DAYS)
    known = log["label"].notna()
    assert (known == log["label_at"].notna()).all()
    delay = log.loc[known, "label_at"] - log.loc[known, "requested_at"]
    assert delay.eq(pd.Timedelta(days=DELAY)).all()
    assert (log.loc[known, "label_at"] <= window_end).all()
    assert not known[_day(log) >= DAYS - DELAY].any()
    assert known[_day(log) < DAYS - DELAY - 1].all()
    assert set(log.loc[known, "label"].unique()) == {0.0, 1.0}


def test_no_label_fn_means_no_labels(pool: pd.DataFrame) -> None:
    unlabelled = _simulate(pool, label_fn=None, days=2)
    assert unlabelled["label"].isna().all()
    assert unlabelled["label_at"].isna().all()


def test_features_are_compact_json_of_the_pool_columns(
    log: pd.DataFrame, pool: pd.DataFrame
) -> None:
    first = log["features"].iloc[0]
    assert ": " not in first
    assert ", " not in first
    record = json.loads(first)
    assert list(record) == list(pool.columns)
    assert isinstance(record["application_date"], str)
    date.fromisoformat(record["application_date"])
    assert isinstance(record["age"], int)
    assert isinstance(record["gender"], str)


def test_drift_shifts_features_by_the_documented_amount(log: pd.DataFrame) -> None:
    features = decode_features(log)
    drifted = (_day(log) >= DRIFT_DAY).to_numpy()
    before, after = features[~drifted], features[drifted]
    income_ratio = after["annual_income"].mean() / before["annual_income"].mean()
    assert income_ratio == pytest.approx(CREDIT_DEMO_DRIFT["annual_income"], abs=0.06)
    dti_ratio = after["debt_to_income"].mean() / before["debt_to_income"].mean()
    assert dti_ratio == pytest.approx(CREDIT_DEMO_DRIFT["debt_to_income"], abs=0.08)
    rate_shift = after["interest_rate"].mean() - before["interest_rate"].mean()
    assert rate_shift == pytest.approx(CREDIT_DEMO_DRIFT["interest_rate+"], abs=0.4)
    southeast_before = (before["region"] == "southeast").mean()
    southeast_after = (after["region"] == "southeast").mean()
    assert southeast_after - southeast_before > 0.12


def test_drift_raises_scores_and_default_rate(log: pd.DataFrame) -> None:
    drifted = _day(log) >= DRIFT_DAY
    assert log.loc[drifted, "prediction"].mean() > 1.3 * log.loc[~drifted, "prediction"].mean()
    assert log.loc[drifted, "label"].mean() > log.loc[~drifted, "label"].mean()


def test_no_drift_without_drift_day(pool: pd.DataFrame) -> None:
    steady = decode_features(_simulate(pool, drift_from_day=None, days=6, seed=3))
    later = np.arange(len(steady)) >= len(steady) // 2
    ratio = steady.loc[later, "annual_income"].mean() / steady.loc[~later, "annual_income"].mean()
    assert ratio == pytest.approx(1.0, abs=0.08)


def test_spike_days_have_higher_p95_latency(log: pd.DataFrame) -> None:
    p95 = log.groupby(_day(log))["latency_ms"].quantile(0.95)
    others = p95.drop(SPIKE_DAY)
    assert p95[SPIKE_DAY] > 2 * others.max()
    normal_median = log.loc[_day(log) != SPIKE_DAY, "latency_ms"].median()
    assert 20 <= normal_median <= 60


def test_apply_drift_rules(pool: pd.DataFrame) -> None:
    drifted = apply_drift(
        pool,
        {"annual_income": 0.5, "interest_rate+": 2.0, "age": 1.1, "region=mountain": 1.0},
    )
    np.testing.assert_allclose(drifted["annual_income"], pool["annual_income"] * 0.5)
    np.testing.assert_allclose(drifted["interest_rate"], pool["interest_rate"] + 2.0)
    assert drifted["age"].dtype == pool["age"].dtype
    assert drifted["region"].eq("mountain").all()
    assert isinstance(drifted["region"].dtype, pd.CategoricalDtype)
    pd.testing.assert_frame_equal(pool, load_credit_applications(2_000, 7).drop(columns="default"))
    with pytest.raises(ValueError, match="not in the feature pool"):
        apply_drift(pool, {"salary": 0.9})
    with pytest.raises(ValueError, match="not numeric"):
        apply_drift(pool, {"region": 0.9})


def test_credit_label_fn_is_deterministic_and_follows_the_model(pool: pd.DataFrame) -> None:
    labels = credit_default_label_fn(pool)
    np.testing.assert_array_equal(labels, credit_default_label_fn(pool))
    assert abs(labels.mean() - default_probability(pool).mean()) < 0.03


def test_predict_output_length_is_checked(pool: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="predict returned"):
        simulate_inference_log(
            "m",
            1,
            pool,
            lambda frame: np.zeros(3),
            start=START,
            days=1,
            requests_per_day=10,
            consumer_teams=TEAMS,
        )


def test_thirty_days_of_two_thousand_requests_has_every_request(pool: pd.DataFrame) -> None:
    big = _simulate(pool, days=30, requests_per_day=2_000, drift_from_day=15)
    assert len(big) == 60_000
    assert big["request_id"].is_unique
