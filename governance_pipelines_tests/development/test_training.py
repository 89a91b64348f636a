from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest

from governance_pipelines.development.data_split import MissingColumnError, TargetError
from governance_pipelines.development.estimators import EstimatorImportError, algorithm_type
from governance_pipelines.development.model_artifact import ArtifactIntegrityError, load_artifact
from governance_pipelines.development.training import retrain_from_record, train_model
from governance_pipelines.development.training_spec import (
    PreprocessingSpec,
    TrainingSpec,
    TrainingSpecError,
)

RF = "sklearn.ensemble.RandomForestClassifier"


def make_frame(n: int = 600, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "a": rng.normal(size=n),
            "b": rng.normal(size=n),
            "c": rng.choice(["x", "y", "z"], size=n),
            "day": pd.date_range("2024-01-01", periods=n, freq="D"),
        }
    )
    signal = 1.5 * frame["a"] + 1.0 * (frame["c"] == "x") + rng.normal(scale=0.7, size=n)
    frame["y"] = (signal > 0.3).astype(int)
    frame["amount"] = 3.0 * frame["a"] - 2.0 * frame["b"] + rng.normal(scale=0.5, size=n)
    frame.loc[frame.index[::37], "b"] = np.nan  # the imputer must cope
    return frame


def rf_spec(**overrides) -> TrainingSpec:
    values = {
        "task": "classification",
        "target": "y",
        "features": ("a", "b", "c"),
        "categorical_features": ("c",),
        "estimator": RF,
        "params": {"n_estimators": 25, "random_state": 0, "max_depth": 5},
        "primary_metric": "roc_auc",
        "metric_threshold": 0.75,
    }
    values.update(overrides)
    return TrainingSpec(**values)


def test_classification_run_records_everything() -> None:
    frame = make_frame()
    model = train_model(frame, rf_spec(), snapshot_id="snap-123")
    assert set(model.metrics) == {"roc_auc", "accuracy", "f1", "precision", "recall", "log_loss"}
    assert model.metrics["roc_auc"] > 0.8
    assert model.meets_threshold
    assert len(model.train_positions) == 450
    assert len(model.test_positions) == 150
    assert not set(model.train_positions) & set(model.test_positions)
    assert model.predictions.shape == (150,)
    assert model.scores.shape == (150, 2)
    assert model.artifact_sha256 == hashlib.sha256(model.artifact).hexdigest()
    record = json.loads(json.dumps(model.record, allow_nan=False))  # strict JSON
    assert record["algorithm"]["type"] == "random forest"
    assert record["algorithm"]["params"]["n_estimators"] == 25
    assert record["algorithm"]["params"]["criterion"] == "gini"  # defaults are recorded too
    assert record["features"]["categorical"] == ["c"]
    assert record["features"]["transformations"][0]["columns"] == ["a", "b"]
    assert record["data"]["snapshot_id"] == "snap-123"
    assert record["split"] == {**record["split"], "rule": "random", "seed": 0, "n_test": 150}
    assert record["evaluation"]["meets_threshold"] is True
    assert record["artifact"]["sha256"] == model.artifact_sha256
    assert set(record["code"]) >= {"commit", "dirty", "remote_url"}
    assert record["environment"]["packages"]["scikit-learn"]
    assert list(record["environment"]["packages"]) == sorted(record["environment"]["packages"])
    assert record["environment"]["python_version"].count(".") == 2


def test_too_weak_model_fails_threshold() -> None:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(rng.normal(size=(400, 3)), columns=["r1", "r2", "r3"])
    frame["y"] = rng.integers(0, 2, size=400)
    spec = rf_spec(features=("r1", "r2", "r3"), categorical_features=())
    model = train_model(frame, spec)
    assert model.metrics["roc_auc"] < 0.7
    assert not model.meets_threshold
    assert model.record["evaluation"]["meets_threshold"] is False


def test_retrain_from_json_record_is_identical() -> None:
    frame = make_frame()
    model = train_model(frame, rf_spec())
    record = json.loads(json.dumps(model.record))
    again = retrain_from_record(frame, record)
    assert again.spec == model.spec
    np.testing.assert_array_equal(again.test_positions, model.test_positions)
    np.testing.assert_array_equal(again.scores, model.scores)
    assert again.metrics == model.metrics


def test_regression_and_time_split() -> None:
    frame = make_frame()
    spec = TrainingSpec(
        task="regression",
        target="amount",
        features=("a", "b"),
        estimator="sklearn.linear_model.Ridge",
        params={"alpha": 1.0},
        split_rule="time",
        time_column="day",
        test_size=0.2,
        primary_metric="rmse",
        metric_threshold=1.0,
        preprocessing=PreprocessingSpec(numeric_imputation="mean", scale_numeric=False),
    )
    model = train_model(frame, spec)
    assert set(model.metrics) == {"rmse", "mae", "r2"}
    assert model.metrics["r2"] > 0.8
    assert model.meets_threshold
    assert model.scores is None
    days = frame["day"]
    assert days.iloc[model.test_positions].min() > days.iloc[model.train_positions].max()
    assert model.record["algorithm"]["type"] == "ridge"


def test_lower_is_better_threshold_fails_when_error_is_too_high() -> None:
    spec = TrainingSpec(
        task="regression",
        target="amount",
        features=("b",),
        estimator="sklearn.linear_model.LinearRegression",
        primary_metric="rmse",
        metric_threshold=0.5,
    )
    model = train_model(make_frame(), spec)
    assert model.metrics["rmse"] > 0.5
    assert not model.meets_threshold


def test_missing_column_names_it_and_the_available_ones() -> None:
    frame = make_frame().drop(columns=["b"])
    with pytest.raises(MissingColumnError, match=r"\['b'\].*'a'"):
        train_model(frame, rf_spec())


def test_bad_estimator_path() -> None:
    with pytest.raises(EstimatorImportError, match=r"sklearn\.ensemble\.NoSuchForest"):
        train_model(make_frame(), rf_spec(estimator="sklearn.ensemble.NoSuchForest"))
    with pytest.raises(EstimatorImportError, match="nopackage"):
        train_model(make_frame(), rf_spec(estimator="nopackage.Model"))


def test_single_class_target() -> None:
    frame = make_frame().assign(y=1)
    with pytest.raises(TargetError, match="one class"):
        train_model(frame, rf_spec())


def test_invalid_params_and_spec() -> None:
    with pytest.raises(TrainingSpecError, match="n_trees"):
        train_model(make_frame(), rf_spec(params={"n_trees": 3}))
    with pytest.raises(TrainingSpecError, match="regression metric"):
        rf_spec(primary_metric="rmse")
    with pytest.raises(TrainingSpecError, match="time_column"):
        rf_spec(split_rule="time")
    with pytest.raises(TrainingSpecError, match="JSON"):
        rf_spec(params={"class_weight": {0: 1.0, 1: 2.0}, "x": object()})


def test_artifact_is_verified_before_loading() -> None:
    frame = make_frame()
    model = train_model(frame, rf_spec())
    pipeline = load_artifact(model.artifact, model.artifact_sha256)
    x_test = frame.iloc[model.test_positions][["a", "b", "c"]]
    np.testing.assert_array_equal(pipeline.predict_proba(x_test), model.scores)
    with pytest.raises(ArtifactIntegrityError):
        load_artifact(model.artifact + b"x", model.artifact_sha256)


def test_algorithm_labels() -> None:
    assert algorithm_type("sklearn.ensemble.HistGradientBoostingClassifier").startswith(
        "gradient boosting"
    )
    assert algorithm_type("sklearn.neural_network.MLPClassifier").startswith("neural network")
    assert algorithm_type("sklearn.tree.DecisionTreeRegressor") == "decision tree"
