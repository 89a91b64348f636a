"""From a spec's declared estimator and preprocessing to an unfitted scikit-learn Pipeline.

The estimator is named by import path (plain data in the spec), so it is resolved here and
checked to be an estimator class before anything is fitted. Preprocessing is built and
described from one source (:func:`_column_groups`) so the words in the run record and the
model card can never drift from the transformers that were actually fitted.
"""

from __future__ import annotations

import importlib
import re
from typing import Any

from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from governance_pipelines.development.training_spec import (
    TrainingError,
    TrainingSpec,
    TrainingSpecError,
)


class EstimatorImportError(TrainingError):
    """The estimator import path does not resolve to an estimator class."""


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
