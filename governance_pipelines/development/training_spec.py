"""The declarative training spec, and the errors that say why training cannot proceed.

Everything that shapes the model — estimator, parameters, preprocessing, split — is data
in :class:`TrainingSpec`, so the run record can be written as JSON and a run rebuilt from
that JSON alone. Nothing in the spec is a Python object. The spec validates itself on
construction so a bad declaration fails before any data is read or any model is fitted.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from governance_pipelines.development import metrics as metric_registry

_TASKS = ("classification", "regression")
_RULES = ("random", "time")


class TrainingError(ValueError):
    """Base class: training cannot proceed; the message says what to change."""


class TrainingSpecError(TrainingError):
    """The spec itself is inconsistent."""


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
