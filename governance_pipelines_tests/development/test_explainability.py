from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from governance_pipelines.development.explainability import (
    ExplainabilityError,
    ExplainabilitySpec,
    explain_model,
    explain_predictions,
)
from governance_pipelines.development.training import train_model
from governance_pipelines.development.training_spec import TrainingSpec


def make_frame(n: int = 800, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "income": rng.normal(size=n),
            "debt": rng.normal(size=n),
            "noise": rng.normal(size=n),
            "gender": rng.choice(["f", "m"], size=n),
        }
    )
    logit = 2.0 * frame["income"] - 1.5 * frame["debt"]
    frame["y"] = (logit + rng.normal(scale=0.8, size=n) > 0).astype(int)
    return frame


def logistic(features: tuple[str, ...], categorical: tuple[str, ...] = ()) -> TrainingSpec:
    return TrainingSpec(
        task="classification",
        target="y",
        features=features,
        categorical_features=categorical,
        estimator="sklearn.linear_model.LogisticRegression",
    )


def test_informative_model_is_explained() -> None:
    frame = make_frame()
    model = train_model(frame, logistic(("income", "debt", "noise")))
    result = explain_model(frame, model)
    assert result.passed, result.findings
    assert result.top_features[:2] == ("income", "debt")
    assert result.importances[0].rank == 1
    assert result.importances[0].importance_std >= 0
    assert abs(result.null_score - 0.5) < 0.05
    assert result.baseline_score > 0.85
    assert result.explained_share > 0.5
    assert result.table()[0]["feature"] == "income"


def test_too_weak_model_has_nothing_to_explain() -> None:
    rng = np.random.default_rng(2)
    frame = pd.DataFrame(rng.normal(size=(600, 3)), columns=["r1", "r2", "r3"])
    frame["y"] = rng.integers(0, 2, size=600)
    spec = TrainingSpec(
        task="classification",
        target="y",
        features=("r1", "r2", "r3"),
        estimator="sklearn.ensemble.RandomForestClassifier",
        params={"n_estimators": 25, "random_state": 0},
    )
    model = train_model(frame, spec)
    result = explain_model(frame, model, ExplainabilitySpec(min_performance_gain=0.05))
    assert not result.passed
    assert "no signal to explain" in result.findings[0]


def test_redundant_copies_leave_performance_unexplained() -> None:
    frame = make_frame()
    for i in range(4):  # one signal spread over exact copies: each alone is replaceable
        frame[f"income_{i}"] = frame["income"]
    spec = TrainingSpec(
        task="classification",
        target="y",
        features=("income_0", "income_1", "income_2", "income_3"),
        estimator="sklearn.ensemble.RandomForestClassifier",
        params={"n_estimators": 40, "random_state": 0, "max_depth": 4},
    )
    model = train_model(frame, spec)
    result = explain_model(frame, model, ExplainabilitySpec(min_explained_share=0.8))
    assert not result.passed
    assert result.explained_share < 0.8
    assert "redundant" in result.findings[0]


def test_prohibited_sensitive_feature_among_top_drivers_fails() -> None:
    frame = make_frame()
    frame["y"] = ((frame["gender"] == "m") | (frame["income"] > 1.5)).astype(int)
    model = train_model(frame, logistic(("income", "debt", "gender"), ("gender",)))
    result = explain_model(frame, model, ExplainabilitySpec(prohibited_features=("gender",)))
    assert not result.passed
    assert result.top_features[0] == "gender"
    assert any("'gender' is declared not to be used" in f for f in result.findings)
    # Declared but not driving the model: passes.
    fair = make_frame()
    fair_model = train_model(fair, logistic(("income", "debt", "gender"), ("gender",)))
    spec = ExplainabilitySpec(prohibited_features=("gender",), top_k=2)
    assert explain_model(fair, fair_model, spec).passed


def test_regression_metric_orientation_and_errors() -> None:
    frame = make_frame()
    frame["amount"] = 3 * frame["income"] + np.random.default_rng(0).normal(size=len(frame))
    spec = TrainingSpec(
        task="regression",
        target="amount",
        features=("income", "noise"),
        estimator="sklearn.linear_model.LinearRegression",
        primary_metric="rmse",
    )
    model = train_model(frame, spec)
    result = explain_model(frame, model)
    assert result.passed
    assert result.top_features[0] == "income"
    assert result.importances[0].importance_mean > 0  # rmse rises when income is shuffled
    assert result.null_score > result.baseline_score  # shuffled predictions: larger error
    with pytest.raises(ExplainabilityError, match="predict_proba"):
        explain_predictions(model.pipeline, frame[["income", "noise"]], frame["amount"], "roc_auc")
