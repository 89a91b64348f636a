"""Offline metrics by name, each with the direction in which it improves.

A governance threshold such as ``roc_auc >= 0.75`` or ``rmse <= 12`` is only meaningful
together with the metric's direction, so the direction lives next to the metric here
instead of in every caller. Config files name metrics by these registry keys.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
from sklearn import metrics as skm

Direction = Literal["higher", "lower"]
Task = Literal["classification", "regression"]


class UnknownMetricError(ValueError):
    """A metric name that is not in the registry (typo in the governance config)."""


@dataclass(frozen=True)
class MetricDefinition:
    """One metric: the task it applies to, whether bigger is better, what it needs.

    ``needs_scores`` marks metrics computed from predicted probabilities rather than
    labels; they are skipped (not faked) when an estimator has no ``predict_proba``.
    """

    name: str
    task: Task
    direction: Direction
    needs_scores: bool
    description: str


_DEFINITIONS: tuple[MetricDefinition, ...] = (
    MetricDefinition("roc_auc", "classification", "higher", True, "area under the ROC curve"),
    MetricDefinition("accuracy", "classification", "higher", False, "share of correct labels"),
    MetricDefinition("f1", "classification", "higher", False, "harmonic mean of precision/recall"),
    MetricDefinition(
        "precision", "classification", "higher", False, "share of positive calls that are right"
    ),
    MetricDefinition("recall", "classification", "higher", False, "share of positives found"),
    MetricDefinition("log_loss", "classification", "lower", True, "cross-entropy of probabilities"),
    MetricDefinition("rmse", "regression", "lower", False, "root mean squared error"),
    MetricDefinition("mae", "regression", "lower", False, "mean absolute error"),
    MetricDefinition("r2", "regression", "higher", False, "coefficient of determination"),
)

METRICS: MappingProxyType[str, MetricDefinition] = MappingProxyType(
    {definition.name: definition for definition in _DEFINITIONS}
)


def get_metric(name: str) -> MetricDefinition:
    """Look a metric up, failing with the list of valid names so a typo is obvious."""
    try:
        return METRICS[name]
    except KeyError:
        raise UnknownMetricError(
            f"Unknown metric {name!r}; known metrics: {', '.join(sorted(METRICS))}."
        ) from None


def metric_names(task: Task) -> tuple[str, ...]:
    """The metrics reported for a task, in registry order."""
    return tuple(d.name for d in _DEFINITIONS if d.task == task)


def meets_threshold(name: str, value: float | None, threshold: float | None) -> bool:
    """Whether ``value`` is at least as good as ``threshold`` in the metric's direction.

    A missing or NaN value never passes: a gate must not open because a metric could not
    be computed. No threshold means nothing was declared, which passes.
    """
    if threshold is None:
        return True
    if value is None or math.isnan(value):
        return False
    if get_metric(name).direction == "higher":
        return value >= threshold
    return value <= threshold


def is_better(name: str, candidate: float, reference: float) -> bool:
    """Strictly better in the metric's direction."""
    if get_metric(name).direction == "higher":
        return candidate > reference
    return candidate < reference


def oriented(name: str, value: float) -> float:
    """The value with the sign flipped for lower-is-better metrics (bigger is better)."""
    return value if get_metric(name).direction == "higher" else -value


def _binary_or_macro(classes: Sequence[Any]) -> dict[str, Any]:
    if len(classes) == 2:
        return {"average": "binary", "pos_label": classes[1]}
    return {"average": "macro"}


def compute_metric(
    name: str,
    y_true: np.ndarray,
    y_pred: np.ndarray | None,
    scores: np.ndarray | None = None,
    classes: Sequence[Any] | None = None,
) -> float:
    """One metric; NaN when it is undefined for this data (e.g. AUC with one class).

    ``scores`` is the ``predict_proba`` matrix with columns in ``classes`` order; for a
    binary task the positive class is ``classes[1]``, as in scikit-learn.
    """
    definition = get_metric(name)
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if definition.task == "regression":
        fn: dict[str, Callable[[], float]] = {
            "rmse": lambda: math.sqrt(skm.mean_squared_error(y_true, y_pred)),
            "mae": lambda: skm.mean_absolute_error(y_true, y_pred),
            "r2": lambda: skm.r2_score(y_true, y_pred) if len(y_true) > 1 else math.nan,
        }
        return float(fn[name]())
    if classes is None:
        classes = sorted(np.unique(np.concatenate([y_true, y_pred])).tolist())
    classes = list(classes)
    if definition.needs_scores:
        if scores is None:
            return math.nan
        scores = np.asarray(scores, dtype=float)
        if name == "log_loss":
            return float(skm.log_loss(y_true, scores, labels=classes))
        if len(np.unique(y_true)) < 2:
            return math.nan
        if len(classes) == 2:
            return float(skm.roc_auc_score(y_true == classes[1], scores[:, 1]))
        return float(
            skm.roc_auc_score(y_true, scores, multi_class="ovr", average="macro", labels=classes)
        )
    if name == "accuracy":
        return float(skm.accuracy_score(y_true, y_pred))
    kwargs = {**_binary_or_macro(classes), "zero_division": 0.0}
    if kwargs["average"] == "macro":
        kwargs["labels"] = classes
    scorer = {"f1": skm.f1_score, "precision": skm.precision_score, "recall": skm.recall_score}
    return float(scorer[name](y_true, y_pred, **kwargs))


def compute_metrics(
    task: Task,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    scores: np.ndarray | None = None,
    classes: Sequence[Any] | None = None,
) -> dict[str, float]:
    """All metrics of a task; score-based ones are omitted when there are no scores."""
    result: dict[str, float] = {}
    for name in metric_names(task):
        if get_metric(name).needs_scores and scores is None:
            continue
        result[name] = compute_metric(name, y_true, y_pred, scores, classes)
    return result
