"""The paired shadow-vs-production comparison: errors, agreement, a verdict only with evidence."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from governance_pipelines.operations.shadow_comparison import MIN_LABELLED, compare_shadow


def _pairs(shadow: np.ndarray, production: np.ndarray, label: np.ndarray | None) -> pd.DataFrame:
    n = len(shadow)
    return pd.DataFrame(
        {
            "request_id": [f"r{i}" for i in range(n)],
            "endpoint": "e",
            "model_version": 2,
            "production_version": 1,
            "scored_at": pd.Timestamp("2026-12-01", tz="UTC"),
            "status": "ok",
            "shadow_prediction": shadow,
            "production_prediction": production,
            "label": label if label is not None else np.nan,
        }
    )


def test_a_better_candidate_on_the_same_requests_is_called_better() -> None:
    rng = np.random.default_rng(1)
    label = rng.integers(0, 2, 300).astype(float)
    production = np.clip(0.5 + (label - 0.5) * 0.3 + rng.normal(0, 0.1, 300), 0, 1)
    shadow = np.clip(0.5 + (label - 0.5) * 0.8 + rng.normal(0, 0.1, 300), 0, 1)
    result = compare_shadow(_pairs(shadow, production, label), "credit", "classification")
    assert result.labelled == 300
    assert result.error_metric == "brier"
    assert result.shadow_error < result.production_error
    assert result.p_value is not None
    assert result.p_value < 0.001
    assert result.verdict == "shadow is better"
    assert 0.5 < result.agreement <= 1.0


def test_without_enough_labels_there_is_no_verdict() -> None:
    rng = np.random.default_rng(2)
    scores = rng.uniform(size=50)
    label = np.full(50, np.nan)
    label[: MIN_LABELLED - 1] = 1.0
    result = compare_shadow(_pairs(scores, scores[::-1], label), "credit", "classification")
    assert result.labelled == MIN_LABELLED - 1
    assert result.verdict.startswith("not enough labelled requests yet")
    assert result.compared == 50


def test_identical_scores_agree_and_failed_scores_are_counted() -> None:
    scores = np.linspace(0.1, 0.9, 40)
    pairs = _pairs(scores, scores, None)
    pairs.loc[:4, ["status", "shadow_prediction"]] = ["error", np.nan]
    result = compare_shadow(pairs, "credit", "classification")
    assert (result.scored, result.errors, result.compared) == (40, 5, 35)
    assert result.agreement == 1.0
    assert result.mean_abs_difference == 0.0
    assert result.labelled == 0
    assert result.production_error is None


def test_a_regressor_is_compared_on_absolute_error() -> None:
    label = np.arange(40, dtype=float)
    result = compare_shadow(_pairs(label + 0.5, label + 2.0, label), "price", "regression")
    assert result.error_metric == "absolute_error"
    assert result.agreement is None
    assert result.shadow_error == pytest.approx(0.5)
    assert result.production_error == pytest.approx(2.0)
    assert result.verdict == "shadow is better"  # constant difference: p = 0
