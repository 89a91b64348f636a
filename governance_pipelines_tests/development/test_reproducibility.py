from __future__ import annotations

import json

import numpy as np
import pandas as pd

from governance_pipelines.development.reproducibility import (
    ReproducibilitySpec,
    check_model_reproducibility,
    check_reproducibility,
    current_environment_differences,
)
from governance_pipelines.development.training import train_model
from governance_pipelines.development.training_spec import TrainingSpec


def make_frame(n: int = 600, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    frame["y"] = ((2 * frame["a"] - frame["b"] + rng.normal(size=n)) > 0).astype(int)
    return frame


def forest(random_state: int | None) -> TrainingSpec:
    return TrainingSpec(
        task="classification",
        target="y",
        features=("a", "b"),
        estimator="sklearn.ensemble.RandomForestClassifier",
        params={"n_estimators": 30, "max_depth": 4, "random_state": random_state},
    )


def test_seeded_model_reproduces_exactly_from_json_record() -> None:
    frame = make_frame()
    model = train_model(frame, forest(0))
    record = json.loads(json.dumps(model.record))
    result = check_reproducibility(frame, record, original_artifact=model.artifact)
    assert result.passed, result.findings
    assert result.identical_predictions
    assert result.max_abs_prediction_difference == 0.0
    assert all(delta == 0.0 for delta in result.metric_deltas.values())
    assert result.environment_differences == ()
    # With nothing but the record, identity is proven by the output hash.
    record_only = check_reproducibility(frame, record)
    assert record_only.passed
    assert record_only.max_abs_prediction_difference is None


def test_unseeded_forest_fails_exact_but_passes_with_tolerance() -> None:
    frame = make_frame()
    model = train_model(frame, forest(None))
    exact = check_model_reproducibility(frame, model)
    assert not exact.passed
    assert not exact.identical_predictions
    assert exact.max_abs_prediction_difference > 0
    assert "random_state" in exact.findings[0]
    tolerant = check_model_reproducibility(frame, model, ReproducibilitySpec(metric_tolerance=0.1))
    assert tolerant.passed, tolerant.findings
    assert tolerant.mode.startswith("metrics within")
    assert set(tolerant.metric_deltas) == set(model.metrics)
    too_strict = check_model_reproducibility(
        frame, model, ReproducibilitySpec(metric_tolerance=0.0)
    )
    assert not too_strict.passed
    assert "beyond the declared tolerance" in too_strict.findings[0]


def test_different_data_is_reported() -> None:
    frame = make_frame()
    model = train_model(frame, forest(0))
    changed = frame.copy()
    changed.loc[5, "a"] += 1.0
    result = check_reproducibility(changed, model.record, original_artifact=model.artifact)
    assert not result.passed
    assert any("different data" in finding for finding in result.findings)


def test_environment_differences_explain_without_failing() -> None:
    frame = make_frame()
    model = train_model(frame, forest(0))
    record = json.loads(json.dumps(model.record))
    record["environment"]["packages"]["scikit-learn"] = "0.0.1"
    assert any("scikit-learn" in d for d in current_environment_differences(record))
    result = check_reproducibility(frame, record)
    assert result.passed
    assert any("scikit-learn: recorded 0.0.1" in d for d in result.environment_differences)
