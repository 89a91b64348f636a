"""Delayed-label performance: exact metrics, direction-aware degradation, undefined days."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from governance_pipelines.operations.performance import (
    PerformanceInputError,
    daily_performance,
)


def _log(
    labels: list[float], predictions: list[float], *, day: str = "2024-03-01", version: int = 1
) -> pd.DataFrame:
    n = len(labels)
    return pd.DataFrame(
        {
            "requested_at": pd.date_range(f"{day} 09:00", periods=n, freq="min", tz="UTC"),
            "model_version": [version] * n,
            "prediction": predictions,
            "label": labels,
        }
    )


AUC = {"task": "classification", "metric": "roc_auc", "tolerance": 0.05, "higher_is_better": True}


def test_auc_known_exactly_with_coverage() -> None:
    # Positives scored 0.9 and 0.4, negatives 0.8, 0.3 and 0.2: of the 6 positive/negative
    # pairs, 5 are ordered correctly (0.4 < 0.8 is the one miss) → AUC = 5/6.
    # Two more requests have no label yet (coverage 5/7), one failed (no prediction).
    frame = _log(
        [1, 1, 0, 0, 0, np.nan, np.nan, 1],
        [0.9, 0.4, 0.8, 0.3, 0.2, 0.5, 0.6, np.nan],
    )
    (day,) = daily_performance(frame, validation_value=0.9, **AUC)
    assert day.value == pytest.approx(5 / 6)
    assert (day.requests, day.labelled, day.scored, day.positives) == (8, 6, 5, 2)
    assert day.label_coverage == pytest.approx(6 / 8)
    assert day.delta == pytest.approx(5 / 6 - 0.9)
    assert day.degraded  # 0.833 < 0.9 - 0.05
    assert day.note is None


def test_auc_with_ties_matches_scikit_learn() -> None:
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, 200).astype(float)
    scores = np.round(rng.random(200), 1)  # many ties
    (day,) = daily_performance(_log(list(labels), list(scores)), validation_value=0.5, **AUC)
    assert day.value == pytest.approx(skm.roc_auc_score(labels, scores), abs=1e-12)


def test_one_class_day_is_flagged_not_faked() -> None:
    frame = pd.concat(
        [_log([0, 0, 0], [0.1, 0.7, 0.2]), _log([1, 0], [0.9, 0.1], day="2024-03-02")]
    )
    first, second = daily_performance(frame, validation_value=0.8, **AUC)
    assert first.value is None
    assert not first.degraded
    assert "only one class" in first.note
    assert "0 positive, 3 negative" in first.note
    assert second.value == 1.0
    assert not second.degraded


def test_lower_is_better_degrades_upwards() -> None:
    # Errors 1, -1, 2, -2 → RMSE = sqrt((1 + 1 + 4 + 4) / 4) = sqrt(2.5) ≈ 1.581, MAE = 1.5.
    frame = _log([10.0, 20.0, 30.0, 40.0], [11.0, 19.0, 32.0, 38.0])
    common = {"task": "regression", "tolerance": 0.1, "higher_is_better": False}
    (rmse,) = daily_performance(frame, metric="rmse", validation_value=1.4, **common)
    assert rmse.value == pytest.approx(np.sqrt(2.5))
    assert rmse.degraded  # 1.581 > 1.4 + 0.1
    (better,) = daily_performance(frame, metric="rmse", validation_value=2.0, **common)
    assert not better.degraded  # lower than validation is an improvement
    (within,) = daily_performance(frame, metric="mae", validation_value=1.45, **common)
    assert within.value == pytest.approx(1.5)
    assert not within.degraded
    (r2,) = daily_performance(
        frame,
        task="regression",
        metric="r2",
        validation_value=0.99,
        tolerance=0.0,
        higher_is_better=True,
    )
    assert r2.value == pytest.approx(1 - 10 / 500)  # SS_res = 10, SS_tot = 500
    assert r2.degraded  # 0.01 below validation with zero tolerance


def test_threshold_metrics_and_tolerance_boundary() -> None:
    # Scores threshold at 0.5 (0.5 itself is positive): predicted 1, 1, 0, 0 vs labels
    # 1, 0, 0, 1 → accuracy 2/4; tp = 1, fp = 1, fn = 1 → f1 = 2/(2 + 1 + 1) = 0.5.
    frame = _log([1, 0, 0, 1], [0.5, 0.9, 0.1, 0.2])
    common = {"task": "classification", "higher_is_better": True}
    (accuracy,) = daily_performance(
        frame, metric="accuracy", validation_value=0.75, tolerance=0.25, **common
    )
    assert accuracy.value == 0.5
    assert not accuracy.degraded  # exactly at the tolerance is not "more than"
    (f1,) = daily_performance(frame, metric="f1", validation_value=0.5, tolerance=0, **common)
    assert f1.value == pytest.approx(skm.f1_score([1, 0, 0, 1], [1, 1, 0, 0]))
    (undefined,) = daily_performance(
        _log([0, 0], [0.1, 0.2]), metric="f1", validation_value=0.5, tolerance=0, **common
    )
    assert undefined.value is None
    assert "no positive" in undefined.note


def test_days_and_versions_are_separate_and_unlabelled_days_reported() -> None:
    frame = pd.concat(
        [
            _log([1, 0], [0.9, 0.1], version=2),
            _log([1, 0], [0.2, 0.8], version=1),
            _log([np.nan, np.nan], [0.5, 0.5], day="2024-03-02", version=2),
        ]
    )
    days = daily_performance(frame, validation_value=0.9, **AUC)
    assert [(d.day, d.version, d.value) for d in days] == [
        (date(2024, 3, 1), 1, 0.0),
        (date(2024, 3, 1), 2, 1.0),
        (date(2024, 3, 2), 2, None),
    ]
    assert days[0].degraded
    assert not days[1].degraded
    assert days[2].label_coverage == 0.0
    assert "no labelled" in days[2].note
    assert days[1].to_dict()["day"] == "2024-03-01"


def test_non_binary_labels_are_flagged() -> None:
    (day,) = daily_performance(_log([1, 2, 0], [0.9, 0.8, 0.1]), validation_value=0.8, **AUC)
    assert day.value is None
    assert "0/1" in day.note


def test_bad_requests_raise_actionable_errors() -> None:
    frame = _log([1, 0], [0.9, 0.1])
    with pytest.raises(PerformanceInputError, match="choose one of rmse, mae, r2"):
        daily_performance(
            frame,
            task="regression",
            metric="roc_auc",
            validation_value=1,
            tolerance=0,
            higher_is_better=True,
        )
    with pytest.raises(PerformanceInputError, match="tolerance"):
        daily_performance(frame, validation_value=0.8, **{**AUC, "tolerance": -1})
    with pytest.raises(PerformanceInputError, match="label"):
        daily_performance(frame.drop(columns=["label"]), validation_value=0.8, **AUC)
    assert daily_performance(frame.iloc[:0], validation_value=0.8, **AUC) == []
