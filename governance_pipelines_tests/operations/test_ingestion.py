"""Inference-log batch validation: every malformed row is counted with a reason."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd
import pytest

from governance_pipelines.operations.ingestion import (
    REASONS,
    IngestionError,
    validate_inference_batch,
)

FEATURES = ["income", "age", "region"]
CATEGORICAL = {"region"}


def _row(i: int, **overrides: object) -> dict[str, object]:
    row: dict[str, object] = {
        "request_id": f"r{i}",
        "model_name": "credit",
        "model_version": 1,
        "requested_at": pd.Timestamp("2024-03-01 10:00", tz="UTC") + pd.Timedelta(minutes=i),
        "consumer_team": "lending",
        "latency_ms": 20.0 + i,
        "status": "ok",
        "features": json.dumps({"income": 50_000.0 + i, "age": 30 + i, "region": "north"}),
        "prediction": 0.1,
        "label": np.nan,
        "label_at": pd.NaT,
    }
    row.update(overrides)
    return row


def _validate(rows: list[dict[str, object]], task: str = "classification"):
    return validate_inference_batch(
        pd.DataFrame(rows),
        features=FEATURES,
        known_versions={1, 2},
        categorical=CATEGORICAL,
        task=task,
    )


def test_a_failed_request_needs_no_prediction_and_regression_any_finite_one() -> None:
    failed = _row(1, status="error", prediction=None)
    assert _validate([_row(0), failed]).rejected.empty
    assert _validate([_row(0, prediction=1234.5)], task="regression").rejected.empty
    (reason,) = _validate([_row(0, prediction=float("inf"))], task="regression").rejected["reason"]
    assert reason == "bad_prediction"


def test_clean_batch_decodes_features_into_typed_columns() -> None:
    result = _validate([_row(0), _row(1, model_version=2)])
    assert result.rejected.empty
    assert set(result.counts_by_reason) == set(REASONS)
    assert sum(result.counts_by_reason.values()) == 0
    valid = result.valid
    assert "features" not in valid.columns
    assert list(valid.columns[-3:]) == FEATURES
    assert valid["income"].tolist() == [50_000.0, 50_001.0]
    assert valid["age"].dtype == np.int64
    assert valid["region"].tolist() == ["north", "north"]
    assert valid["model_version"].tolist() == [1, 2]
    assert str(valid["requested_at"].dt.tz) == "UTC"


@pytest.mark.parametrize(
    ("overrides", "reason", "detail"),
    [
        ({"request_id": None}, "missing_metadata", "null or empty request_id"),
        ({"consumer_team": ""}, "missing_metadata", "null or empty consumer_team"),
        ({"consumer_team": "  "}, "missing_metadata", "consumer_team"),
        ({"prediction": None}, "bad_prediction", "of an answered request is not a probability"),
        ({"prediction": float("nan")}, "bad_prediction", "not a probability in [0, 1]"),
        ({"prediction": float("inf")}, "bad_prediction", "inf"),
        ({"prediction": 1.7}, "bad_prediction", "1.7 of an answered request"),
        ({"prediction": -0.2}, "bad_prediction", "-0.2"),
        ({"request_id": "r0"}, "duplicate_request_id", "'r0' appears earlier"),
        ({"requested_at": "not a time"}, "bad_timestamp", "'not a time'"),
        ({"model_version": 7}, "unknown_version", "7 is not registered (known: 1, 2)"),
        ({"model_version": 1.5}, "unknown_version", "1.5"),
        ({"status": "timeout"}, "bad_status", "'timeout'"),
        ({"latency_ms": -3.0}, "bad_latency", "-3.0"),
        ({"latency_ms": "fast"}, "bad_latency", "'fast'"),
        ({"features": "{not json"}, "unparsable_features", "not valid JSON"),
        ({"features": b"\xff" * 70}, "unparsable_features", "not valid JSON: b'\\xff"),
        ({"features": None}, "unparsable_features", "features is null"),
        ({"features": "[1, 2]"}, "unparsable_features", "JSON list"),
        ({"features": '{"income": 1.0, "age": 3}'}, "missing_features", "lack region"),
        (
            {"features": '{"income": "12.5", "age": 3, "region": "x"}'},
            "wrong_type",
            "feature 'income' is '12.5', expected a finite number",
        ),
        (
            {"features": '{"income": 1.0, "age": 3, "region": {"a": 1}}'},
            "wrong_type",
            "feature 'region'",
        ),
        (
            {"features": '{"income": Infinity, "age": 3, "region": "x"}'},
            "wrong_type",
            "inf",
        ),
    ],
)
def test_each_malformed_row_is_rejected_with_its_reason(
    overrides: dict[str, object], reason: str, detail: str
) -> None:
    result = _validate([_row(0), _row(1, **overrides), _row(2)])
    assert result.valid["request_id"].tolist() == ["r0", "r2"]
    assert len(result.rejected) == 1
    rejected = result.rejected.iloc[0]
    assert rejected["reason"] == reason
    assert detail in rejected["detail"]
    assert result.rejected.index.tolist() == [1]  # traceable to the input row
    assert result.counts_by_reason[reason] == 1
    assert sum(result.counts_by_reason.values()) == 1


def test_first_failing_rule_wins_and_counts_add_up() -> None:
    rows = [
        _row(0, status="weird", features="garbage"),  # bad_status comes before features
        _row(1, features="garbage"),
        _row(2),
        _row(3, features='{"income": "x", "age": null, "region": null}'),
    ]
    result = _validate(rows)
    assert result.rejected["reason"].tolist() == ["bad_status", "unparsable_features", "wrong_type"]
    assert sum(result.counts_by_reason.values()) == len(result.rejected) == 3
    assert result.total == 4
    assert result.rejected_share == 0.75


def test_null_values_and_booleans_are_accepted_and_extra_keys_ignored() -> None:
    rows = [
        _row(0, features='{"income": null, "age": true, "region": null, "extra": [1]}'),
        _row(1, latency_ms=np.nan),
        _row(2, features='{"income": 1, "age": 2.5, "region": 3}'),
    ]
    result = _validate(rows)
    assert result.rejected.empty, result.rejected[["reason", "detail"]]
    assert np.isnan(result.valid["income"].iloc[0])
    assert result.valid["age"].tolist() == [1.0, 30 + 1, 2.5]
    assert "extra" not in result.valid.columns


def test_rejected_rows_keep_the_original_payload() -> None:
    result = _validate([_row(0, features="{oops")])
    assert result.rejected["features"].iloc[0] == "{oops"
    assert result.valid.empty
    assert list(result.valid.columns[-3:]) == FEATURES


def test_empty_batch() -> None:
    result = validate_inference_batch(
        pd.DataFrame(columns=[*_row(0)]), features=FEATURES, known_versions={1}
    )
    assert result.valid.empty
    assert result.rejected.empty
    assert result.rejected_share == 0.0


def test_frame_level_problems_raise_actionable_errors() -> None:
    frame = pd.DataFrame([_row(0)]).drop(columns=["status"])
    with pytest.raises(IngestionError, match="lacks column"):
        validate_inference_batch(frame, features=FEATURES, known_versions={1})
    with pytest.raises(IngestionError, match="same name as inference-log columns"):
        validate_inference_batch(pd.DataFrame([_row(0)]), features=["status"], known_versions={1})
    with pytest.raises(IngestionError, match="not among the declared features"):
        validate_inference_batch(
            pd.DataFrame([_row(0)]), features=FEATURES, known_versions={1}, categorical={"regoin"}
        )


def test_simulated_traffic_is_all_valid() -> None:
    """The demo's own log passes, at a throughput that keeps nightly runs cheap."""
    from governance_pipelines.examples.traffic import decode_features, simulate_inference_log

    rng = np.random.default_rng(0)
    pool = pd.DataFrame(
        {
            "income": rng.normal(50_000, 10_000, 500).round(2),
            "age": rng.integers(18, 80, 500),
            "region": rng.choice(["north", "south"], 500),
        }
    )
    log = simulate_inference_log(
        "credit",
        1,
        pool,
        lambda frame: np.full(len(frame), 0.2),
        start=date(2024, 1, 1),
        days=2,
        requests_per_day=10_000,
        consumer_teams=["a", "b"],
    )
    result = validate_inference_batch(
        log, features=FEATURES, known_versions={1}, categorical=CATEGORICAL
    )
    assert result.rejected.empty
    pd.testing.assert_frame_equal(result.valid[FEATURES], decode_features(log)[FEATURES])
