"""Governed training: a declarative spec in, a fitted model plus its lab-notebook record out.

The spec (:mod:`training_spec`) is plain data, so the run record can be written as JSON and
a run rebuilt from that JSON alone (:func:`retrain_from_record`). The pieces a run is made
of live next to this module: estimator and preprocessing construction (:mod:`estimators`),
the train/test split (:mod:`data_split`) and the serialised artifact (:mod:`model_artifact`).
This module sequences them and writes down what happened.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from governance_pipelines.development import metrics as metric_registry
from governance_pipelines.development.data_split import (
    TargetError,
    check_columns,
    split_positions,
)
from governance_pipelines.development.environment import (
    capture_code_version,
    capture_environment,
    data_fingerprint,
    json_safe,
    output_sha256,
    positions_sha256,
)
from governance_pipelines.development.estimators import (
    algorithm_type,
    build_pipeline,
    describe_preprocessing,
)
from governance_pipelines.development.model_artifact import ARTIFACT_FORMAT, serialize_pipeline
from governance_pipelines.development.training_spec import (
    TrainingError,
    TrainingSpec,
    TrainingSpecError,
)

RECORD_VERSION = 1


@dataclass(frozen=True, eq=False)
class TrainedModel:
    """A fitted pipeline with its split, held-out results, artifact and run record.

    ``train_positions``/``test_positions`` are row positions (``iloc``) in the input frame.
    ``scores`` is ``predict_proba`` on the test rows (columns in ``classes`` order) or
    ``None`` for regressors and classifiers without probabilities.
    """

    spec: TrainingSpec
    pipeline: Pipeline
    train_positions: np.ndarray
    test_positions: np.ndarray
    metrics: dict[str, float]
    primary_metric_value: float
    meets_threshold: bool
    predictions: np.ndarray
    scores: np.ndarray | None
    classes: tuple[Any, ...] | None
    artifact: bytes
    artifact_sha256: str
    record: dict[str, Any]

    @property
    def comparable_output(self) -> np.ndarray:
        """What reproducibility compares: probabilities if any, else predictions."""
        return prediction_output(self.predictions, self.scores)


def prediction_output(predictions: np.ndarray, scores: np.ndarray | None) -> np.ndarray:
    return np.asarray(predictions) if scores is None else np.asarray(scores, dtype=float)


@dataclass(frozen=True)
class _HeldOut:
    """What the test rows said, in one value so the model and its record cannot disagree."""

    predictions: np.ndarray
    scores: np.ndarray | None
    classes: tuple[Any, ...] | None
    metrics: dict[str, float]
    primary: float
    passed: bool


def train_model(
    frame: pd.DataFrame,
    spec: TrainingSpec,
    *,
    snapshot_id: str = "unknown",
    repo_path: Path | str | None = None,
    container_image: str | None = None,
) -> TrainedModel:
    """Split, fit, evaluate on held-out rows, serialise, and write the run record."""
    check_columns(frame, spec)
    train_pos, test_pos = split_positions(frame, spec)
    pipeline = _fit_pipeline(frame, spec, train_pos)
    held_out = _evaluate_held_out(pipeline, frame, spec, test_pos)
    artifact = serialize_pipeline(pipeline)
    artifact_sha = hashlib.sha256(artifact).hexdigest()
    record = {
        "record_version": RECORD_VERSION,
        "trained_at": datetime.now(UTC).isoformat(),
        "spec": spec.to_dict(),
        "algorithm": _algorithm_entry(spec, pipeline),
        "features": _features_entry(spec),
        "data": {
            "snapshot_id": snapshot_id,
            "n_rows": len(frame),
            "fingerprint": data_fingerprint(frame, [*spec.features, spec.target]),
        },
        "split": _split_entry(spec, train_pos, test_pos),
        **_evaluation_entries(spec, held_out),
        "code": capture_code_version(repo_path).to_dict(),
        "environment": capture_environment(container_image).to_dict(),
        "artifact": {"format": ARTIFACT_FORMAT, "sha256": artifact_sha, "bytes": len(artifact)},
    }
    return TrainedModel(
        spec=spec,
        pipeline=pipeline,
        train_positions=train_pos,
        test_positions=test_pos,
        metrics=held_out.metrics,
        primary_metric_value=held_out.primary,
        meets_threshold=held_out.passed,
        predictions=held_out.predictions,
        scores=held_out.scores,
        classes=held_out.classes,
        artifact=artifact,
        artifact_sha256=artifact_sha,
        record=record,
    )


def _fit_pipeline(frame: pd.DataFrame, spec: TrainingSpec, train_pos: np.ndarray) -> Pipeline:
    """Build before checking the training rows, so a bad estimator is reported first.

    A stratified split can still leave one class in the training rows of a tiny frame;
    that is caught here with a clear message rather than as an sklearn error mid-fit.
    """
    pipeline = build_pipeline(spec)
    x_train = frame.iloc[train_pos][list(spec.features)]
    y_train = frame.iloc[train_pos][spec.target]
    if spec.task == "classification" and y_train.nunique() < 2:
        raise TargetError(f"The training rows of {spec.target!r} contain a single class.")
    try:
        pipeline.fit(x_train, y_train)
    except ValueError as exc:  # e.g. text in a numeric column: say which estimator failed
        raise TrainingError(f"Fitting {spec.estimator} failed: {exc}") from exc
    return pipeline


def _evaluate_held_out(
    pipeline: Pipeline, frame: pd.DataFrame, spec: TrainingSpec, test_pos: np.ndarray
) -> _HeldOut:
    """Score only rows the model never saw, so the gate judges generalisation."""
    x_test = frame.iloc[test_pos][list(spec.features)]
    y_true = frame.iloc[test_pos][spec.target].to_numpy()
    predictions = np.asarray(pipeline.predict(x_test))
    scores, classes = None, None
    if spec.task == "classification":
        classes = tuple(pipeline.classes_.tolist())
        if hasattr(pipeline, "predict_proba"):
            scores = np.asarray(pipeline.predict_proba(x_test), dtype=float)
    metrics = metric_registry.compute_metrics(spec.task, y_true, predictions, scores, classes)
    primary = metrics.get(spec.primary_metric, math.nan)
    passed = metric_registry.meets_threshold(spec.primary_metric, primary, spec.metric_threshold)
    return _HeldOut(predictions, scores, classes, metrics, primary, passed)


def _algorithm_entry(spec: TrainingSpec, pipeline: Pipeline) -> dict[str, Any]:
    """Declared and effective params side by side: defaults sklearn filled in are recorded too."""
    estimator = pipeline.named_steps["estimator"]
    cls = type(estimator)
    return {
        "type": spec.algorithm_type or algorithm_type(spec.estimator),
        "estimator": spec.estimator,
        "class": f"{cls.__module__}.{cls.__qualname__}",
        "declared_params": dict(spec.params),
        "params": json_safe(estimator.get_params(deep=False)),
    }


def _features_entry(spec: TrainingSpec) -> dict[str, Any]:
    return {
        "all": list(spec.features),
        "numeric": list(spec.numeric_features),
        "categorical": list(spec.categorical_features),
        "transformations": describe_preprocessing(spec),
    }


def _split_entry(spec: TrainingSpec, train_pos: np.ndarray, test_pos: np.ndarray) -> dict[str, Any]:
    """The test rows are hashed, not listed, so a retrain can prove it held out the same rows."""
    return {
        "rule": spec.split_rule,
        "seed": spec.seed,
        "n_train": len(train_pos),
        "n_test": len(test_pos),
        "test_positions_sha256": positions_sha256(test_pos),
    }


def _evaluation_entries(spec: TrainingSpec, held_out: _HeldOut) -> dict[str, Any]:
    """The ``metrics``, ``evaluation`` and ``predictions`` sections, in record order.

    Predictions are stored as a hash only: enough to prove a retrain reproduced them.
    """
    output = prediction_output(held_out.predictions, held_out.scores)
    return {
        "metrics": {k: json_safe(v) for k, v in held_out.metrics.items()},
        "evaluation": {
            "primary_metric": spec.primary_metric,
            "direction": metric_registry.get_metric(spec.primary_metric).direction,
            "threshold": spec.metric_threshold,
            "value": json_safe(held_out.primary),
            "meets_threshold": held_out.passed,
        },
        "predictions": {
            "output": "probabilities" if held_out.scores is not None else "predictions",
            "sha256": output_sha256(output),
        },
    }


def spec_from_record(record: Mapping[str, Any]) -> TrainingSpec:
    """The training spec stored in a run record (accepts a record loaded from JSON)."""
    try:
        return TrainingSpec.from_dict(record["spec"])
    except KeyError:
        raise TrainingSpecError("The record has no 'spec' (not from train_model).") from None


def retrain_from_record(
    frame: pd.DataFrame,
    record: Mapping[str, Any],
    *,
    repo_path: Path | str | None = None,
    container_image: str | None = None,
) -> TrainedModel:
    """Rebuild and refit a run using nothing but its record and the same data."""
    spec = spec_from_record(record)
    snapshot_id = (record.get("data") or {}).get("snapshot_id", "unknown")
    return train_model(
        frame, spec, snapshot_id=snapshot_id, repo_path=repo_path, container_image=container_image
    )
