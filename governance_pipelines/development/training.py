"""Governed training: a declarative spec in, a fitted model plus its lab-notebook record out.

Everything that shapes the model — estimator, parameters, preprocessing, split — is data
in :class:`TrainingSpec`, so the run record can be written as JSON and a run rebuilt from
that JSON alone (:func:`retrain_from_record`). Nothing in the spec is a Python object.

Artifact format: the fitted ``Pipeline`` is serialised with ``joblib`` (scikit-learn's
recommended persistence, efficient for numpy arrays). Like any pickle it executes code on
load, so :func:`load_artifact` verifies the recorded sha256 before unpickling.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import json
import math
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import joblib
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from governance_pipelines.development import metrics as metric_registry
from governance_pipelines.development.environment import (
    capture_code_version,
    capture_environment,
    data_fingerprint,
    json_safe,
    output_sha256,
    positions_sha256,
)

RECORD_VERSION = 1
_TASKS = ("classification", "regression")
_RULES = ("random", "time")
ARTIFACT_FORMAT = "joblib"


class TrainingError(ValueError):
    """Base class: training cannot proceed; the message says what to change."""


class TrainingSpecError(TrainingError):
    """The spec itself is inconsistent."""


class MissingColumnError(TrainingError):
    """A declared column is not in the frame."""


class EstimatorImportError(TrainingError):
    """The estimator import path does not resolve to an estimator class."""


class TargetError(TrainingError):
    """The target cannot be learned as declared (missing values, a single class)."""


class ArtifactIntegrityError(TrainingError):
    """Artifact bytes do not match the recorded sha256 (tampered or wrong file)."""


@dataclass(frozen=True)
class PreprocessingSpec:
    """Declarative preprocessing, rebuilt identically from the record.

    Numeric columns: optional imputation (``"median"``/``"mean"``/``None``) then optional
    standard scaling. Categorical columns: most-frequent imputation then one-hot encoding
    that ignores categories unseen in training (so scoring never crashes on a new value).
    """

    numeric_imputation: Literal["median", "mean"] | None = "median"
    scale_numeric: bool = True
    categorical_imputation: bool = True
    one_hot: bool = True


@dataclass(frozen=True)
class TrainingSpec:
    """What to train. Every field is plain data so the spec round-trips through JSON.

    Fields:
        task: ``"classification"`` or ``"regression"``.
        target: name of the label column.
        features: input columns, in order.
        estimator: import path, e.g. ``"sklearn.ensemble.RandomForestClassifier"``.
        params: JSON-serialisable constructor arguments. No seed is injected: a missing
            ``random_state`` is what the reproducibility check is there to catch.
        categorical_features: subset of ``features`` to one-hot encode; the rest are numeric.
        preprocessing: see :class:`PreprocessingSpec`.
        split_rule: ``"random"`` (stratified for classification) or ``"time"`` (the latest
            ``test_size`` share of rows by ``time_column`` is the test set).
        time_column: required for the time split; need not be a feature.
        test_size: share of rows held out, in (0, 1).
        seed: seed of the random split.
        primary_metric: a name from :mod:`metrics`; ``metric_threshold`` is the gate value.
        metric_direction: optional, must match the metric's registered direction.
        algorithm_type: human label for the model card; derived from the class if omitted.
    """

    task: Literal["classification", "regression"]
    target: str
    features: tuple[str, ...]
    estimator: str
    params: Mapping[str, Any] = field(default_factory=dict)
    categorical_features: tuple[str, ...] = ()
    preprocessing: PreprocessingSpec = field(default_factory=PreprocessingSpec)
    split_rule: Literal["random", "time"] = "random"
    time_column: str | None = None
    test_size: float = 0.25
    seed: int = 0
    primary_metric: str = "roc_auc"
    metric_threshold: float | None = None
    metric_direction: Literal["higher", "lower"] | None = None
    algorithm_type: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "features", tuple(self.features))
        object.__setattr__(self, "categorical_features", tuple(self.categorical_features))
        object.__setattr__(self, "params", dict(self.params))
        metric = metric_registry.get_metric(self.primary_metric)
        extra = sorted(set(self.categorical_features) - set(self.features))
        problems = [
            (self.task not in _TASKS, f"task must be one of {_TASKS}, got {self.task!r}"),
            (not self.features, "features is empty; declare at least one input column"),
            (self.target in self.features, f"target {self.target!r} is listed as a feature"),
            (bool(extra), f"categorical_features {extra} are not in features"),
            (self.split_rule not in _RULES, f"split_rule must be one of {_RULES}"),
            (self.split_rule == "time" and not self.time_column, "a time split needs time_column"),
            (not 0.0 < self.test_size < 1.0, f"test_size must be in (0, 1), got {self.test_size}"),
            (
                metric.task != self.task,
                f"{self.primary_metric!r} is a {metric.task} metric; for {self.task} use one of "
                f"{list(metric_registry.metric_names(self.task))}",
            ),
            (
                self.metric_direction not in (None, metric.direction),
                f"{self.primary_metric} is {metric.direction}-is-better, not {self.metric_direction}",
            ),
        ]
        messages = [message for bad, message in problems if bad]
        if messages:
            raise TrainingSpecError("Invalid training spec: " + "; ".join(messages) + ".")
        try:
            json.dumps(self.params, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise TrainingSpecError(f"params must be JSON-serialisable: {exc}") from None

    @property
    def numeric_features(self) -> tuple[str, ...]:
        return tuple(f for f in self.features if f not in self.categorical_features)

    def to_dict(self) -> dict[str, Any]:
        return json.loads(json.dumps(asdict(self)))  # tuples become lists, as in a stored record

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainingSpec:
        preprocessing = PreprocessingSpec(**(data.get("preprocessing") or {}))
        return cls(**{**data, "preprocessing": preprocessing})


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


def import_estimator(path: str) -> type:
    """Resolve ``"package.module.ClassName"`` to an estimator class."""
    module_name, _, class_name = path.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module_name), class_name, None)
    except (ImportError, ValueError) as exc:
        raise EstimatorImportError(f"Cannot import estimator {path!r}: {exc}") from None
    if not isinstance(cls, type) or not hasattr(cls, "fit") or not hasattr(cls, "get_params"):
        raise EstimatorImportError(f"{path!r} is not a scikit-learn estimator class.")
    return cls


def _column_groups(spec: TrainingSpec) -> list[tuple[str, list[str], list[tuple[Any, str]]]]:
    """(group, columns, [(transformer, description)]) — one source for fit and record."""
    prep = spec.preprocessing
    numeric: list[tuple[Any, str]] = []
    if prep.numeric_imputation:
        imputer = SimpleImputer(strategy=prep.numeric_imputation)
        numeric.append((imputer, f"impute with the training {prep.numeric_imputation}"))
    if prep.scale_numeric:
        numeric.append((StandardScaler(), "standardise with training mean and variance"))
    categorical: list[tuple[Any, str]] = []
    if prep.categorical_imputation:
        imputer = SimpleImputer(strategy="most_frequent")
        categorical.append((imputer, "impute with the training mode"))
    if prep.one_hot:
        encoder = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
        categorical.append((encoder, "one-hot encode; unseen categories encode as all zeros"))
    groups = [
        ("numeric", list(spec.numeric_features), numeric),
        ("categorical", list(spec.categorical_features), categorical),
    ]
    return [group for group in groups if group[1]]


def build_pipeline(spec: TrainingSpec) -> Pipeline:
    """``Pipeline(ColumnTransformer, estimator)`` exactly as declared."""
    cls = import_estimator(spec.estimator)
    try:
        estimator = cls(**spec.params)
    except TypeError as exc:
        raise TrainingSpecError(f"Invalid params for {spec.estimator}: {exc}.") from None
    transformers = []
    for name, columns, steps in _column_groups(spec):
        named = [(type(step).__name__.lower(), step) for step, _ in steps]
        transformers.append((name, Pipeline(named) if named else "passthrough", columns))
    columns = ColumnTransformer(transformers, remainder="drop", verbose_feature_names_out=False)
    return Pipeline([("preprocess", columns), ("estimator", estimator)])


def describe_preprocessing(spec: TrainingSpec) -> list[dict[str, Any]]:
    """The transformation pipeline in words, for the record and the model card."""
    groups = _column_groups(spec)
    return [{"name": n, "columns": c, "steps": [words for _, words in s]} for n, c, s in groups]


_ALGORITHM_NAMES = {
    "HistGradientBoosting": "gradient boosting (histogram-based)",
    "GradientBoosting": "gradient boosting",
    "RandomForest": "random forest",
    "ExtraTrees": "extremely randomised trees",
    "LogisticRegression": "logistic regression",
    "MLP": "neural network (multi-layer perceptron)",
    "SVC": "support vector machine",
    "SVR": "support vector machine",
    "KNeighbors": "k-nearest neighbours",
}


def algorithm_type(estimator_path: str) -> str:
    """A label for the model card, e.g. ``"random forest"``; unknown classes become words."""
    class_name = estimator_path.rpartition(".")[2]
    for prefix, label in _ALGORITHM_NAMES.items():
        if class_name.startswith(prefix):
            return label
    words = re.sub(r"(?<!^)(?=[A-Z][a-z])", " ", class_name).lower()
    return words.replace(" classifier", "").replace(" regressor", "") or class_name


def _check_columns(frame: pd.DataFrame, spec: TrainingSpec) -> None:
    needed = [*spec.features, spec.target, *([spec.time_column] if spec.time_column else [])]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise MissingColumnError(f"Columns {missing} missing; frame has {list(frame.columns)}.")
    target = frame[spec.target]
    if target.isna().any():
        raise TargetError(f"Target {spec.target!r} has {int(target.isna().sum())} missing values.")
    if spec.task == "classification" and target.nunique() < 2:
        raise TargetError(f"Target {spec.target!r} has one class; a classifier needs two or more.")
    if spec.task == "regression" and not pd.api.types.is_numeric_dtype(target):
        raise TargetError(f"Regression target {spec.target!r} is not numeric ({target.dtype}).")


def split_positions(frame: pd.DataFrame, spec: TrainingSpec) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic train/test row positions (``iloc``) for the spec's split rule."""
    n_rows = len(frame)
    n_test = math.ceil(n_rows * spec.test_size)
    if n_rows - n_test < 1:
        raise TrainingError(f"{n_rows} rows cannot be split with test_size={spec.test_size}.")
    if spec.split_rule == "time":
        time = frame[spec.time_column]
        if time.isna().any():
            raise TrainingError(f"Time column {spec.time_column!r} has missing values.")
        # Stable sort: rows with equal timestamps keep their order, so the split is repeatable.
        order = np.argsort(time.to_numpy(), kind="stable")
        return np.sort(order[: n_rows - n_test]), np.sort(order[n_rows - n_test :])
    stratify = frame[spec.target].to_numpy() if spec.task == "classification" else None
    split = {"test_size": n_test, "random_state": spec.seed, "stratify": stratify}
    try:
        train, test = train_test_split(np.arange(n_rows), **split)
    except ValueError as exc:
        raise TargetError(f"Stratified split failed ({exc}); each class needs 2+ rows.") from None
    return np.asarray(train), np.asarray(test)


def serialize_pipeline(pipeline: Pipeline) -> bytes:
    buffer = io.BytesIO()
    joblib.dump(pipeline, buffer)
    return buffer.getvalue()


def load_artifact(artifact: bytes, expected_sha256: str) -> Pipeline:
    """Unpickle an artifact only after its bytes match the recorded hash."""
    actual = hashlib.sha256(artifact).hexdigest()
    if actual != expected_sha256:
        raise ArtifactIntegrityError(f"Artifact sha256 {actual} != recorded {expected_sha256}.")
    return joblib.load(io.BytesIO(artifact))


def train_model(
    frame: pd.DataFrame,
    spec: TrainingSpec,
    *,
    snapshot_id: str = "unknown",
    repo_path: Path | str | None = None,
    container_image: str | None = None,
) -> TrainedModel:
    """Split, fit, evaluate on held-out rows, serialise, and write the run record."""
    _check_columns(frame, spec)
    train_pos, test_pos = split_positions(frame, spec)
    pipeline = build_pipeline(spec)
    columns = list(spec.features)
    x_train, y_train = frame.iloc[train_pos][columns], frame.iloc[train_pos][spec.target]
    x_test, y_test = frame.iloc[test_pos][columns], frame.iloc[test_pos][spec.target]
    if spec.task == "classification" and y_train.nunique() < 2:
        raise TargetError(f"The training rows of {spec.target!r} contain a single class.")
    try:
        pipeline.fit(x_train, y_train)
    except ValueError as exc:  # e.g. text in a numeric column: say which estimator failed
        raise TrainingError(f"Fitting {spec.estimator} failed: {exc}") from exc
    predictions = np.asarray(pipeline.predict(x_test))
    scores, classes = None, None
    if spec.task == "classification":
        classes = tuple(pipeline.classes_.tolist())
        if hasattr(pipeline, "predict_proba"):
            scores = np.asarray(pipeline.predict_proba(x_test), dtype=float)
    y_true = y_test.to_numpy()
    metrics = metric_registry.compute_metrics(spec.task, y_true, predictions, scores, classes)
    primary = metrics.get(spec.primary_metric, math.nan)
    passed = metric_registry.meets_threshold(spec.primary_metric, primary, spec.metric_threshold)
    artifact = serialize_pipeline(pipeline)
    artifact_sha = hashlib.sha256(artifact).hexdigest()
    estimator = pipeline.named_steps["estimator"]
    fingerprint = data_fingerprint(frame, [*spec.features, spec.target])
    cls = type(estimator)
    output = prediction_output(predictions, scores)
    output_kind = "probabilities" if scores is not None else "predictions"
    record: dict[str, Any] = {
        "record_version": RECORD_VERSION,
        "trained_at": datetime.now(UTC).isoformat(),
        "spec": spec.to_dict(),
        "algorithm": {
            "type": spec.algorithm_type or algorithm_type(spec.estimator),
            "estimator": spec.estimator,
            "class": f"{cls.__module__}.{cls.__qualname__}",
            "declared_params": dict(spec.params),
            "params": json_safe(estimator.get_params(deep=False)),
        },
        "features": {
            "all": list(spec.features),
            "numeric": list(spec.numeric_features),
            "categorical": list(spec.categorical_features),
            "transformations": describe_preprocessing(spec),
        },
        "data": {"snapshot_id": snapshot_id, "n_rows": len(frame), "fingerprint": fingerprint},
        "split": {
            "rule": spec.split_rule,
            "seed": spec.seed,
            "n_train": len(train_pos),
            "n_test": len(test_pos),
            "test_positions_sha256": positions_sha256(test_pos),
        },
        "metrics": {k: json_safe(v) for k, v in metrics.items()},
        "evaluation": {
            "primary_metric": spec.primary_metric,
            "direction": metric_registry.get_metric(spec.primary_metric).direction,
            "threshold": spec.metric_threshold,
            "value": json_safe(primary),
            "meets_threshold": passed,
        },
        "predictions": {"output": output_kind, "sha256": output_sha256(output)},
        "code": capture_code_version(repo_path).to_dict(),
        "environment": capture_environment(container_image).to_dict(),
        "artifact": {"format": ARTIFACT_FORMAT, "sha256": artifact_sha, "bytes": len(artifact)},
    }
    return TrainedModel(
        spec=spec,
        pipeline=pipeline,
        train_positions=train_pos,
        test_positions=test_pos,
        metrics=metrics,
        primary_metric_value=primary,
        meets_threshold=passed,
        predictions=predictions,
        scores=scores,
        classes=classes,
        artifact=artifact,
        artifact_sha256=artifact_sha,
        record=record,
    )


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
