"""Live model performance from delayed labels: is the deployed model still as good as
when it was validated?

Why: drift monitors say the inputs moved; only ground truth says the model got worse
(concept drift). Labels arrive late (a default is known months after the loan), so each
day's metric is computed from the requests of that day whose label has arrived, and the
report says how much ground truth backed it (`label_coverage`): a metric on 3% of a day's
traffic is a hint, not a verdict.

Choices:

- a row is **scored** when it has a label and a prediction; failed requests (no
  prediction) still count in `requests` and, if labelled, in `labelled`;
- days are UTC days of ``requested_at`` — the day the model made the prediction, so a
  degradation is attributed to the inputs the model saw, not to when labels landed;
- classification predictions are scores/probabilities of the positive class; labels
  must be 0/1. ``roc_auc`` uses the scores (ties get half credit, as in scikit-learn);
  ``accuracy``/``f1``/``precision``/``recall`` threshold the score at 0.5;
  ``log_loss`` clips scores to [1e-15, 1 − 1e-15];
- regression: ``rmse``, ``mae``, ``r2``;
- an **undefined** metric (ROC AUC on a day with one class, r2 on constant labels, f1
  with no positives at all) is reported as ``value=None`` with a `note`, never as a
  made-up 0.5 or 0 that would trip or mask an alert; such a day is not `degraded`;
- ``degraded``: worse than the validation value by *more than* ``tolerance`` (absolute,
  in the metric's units), in the metric's direction.

Pure numpy (the AUC is the Mann–Whitney statistic on average ranks, identical to
scikit-learn's ``roc_auc_score``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any, Literal

import numpy as np
import pandas as pd

from governance_pipelines.operations.evidence_fields import RecordFields
from governance_pipelines.operations.sla import utc_days

__all__ = [
    "CLASSIFICATION_METRICS",
    "REGRESSION_METRICS",
    "PerformanceDay",
    "PerformanceInputError",
    "daily_performance",
]

Task = Literal["classification", "regression"]
THRESHOLD = 0.5
_REQUIRED = ("requested_at", "model_version", "prediction", "label")


class PerformanceInputError(ValueError):
    """The request cannot be evaluated (unknown metric for the task, missing columns)."""


class _Undefined(Exception):
    """The metric has no value on this data; the message says why."""


@dataclass(frozen=True)
class PerformanceDay:
    """The metric for one model version on one UTC day, with its ground-truth backing."""

    day: date
    version: int
    metric: str
    value: float | None
    validation_value: float
    tolerance: float
    higher_is_better: bool
    degraded: bool
    requests: int
    labelled: int
    scored: int
    label_coverage: float
    positives: int | None
    note: str | None

    @property
    def delta(self) -> float | None:
        """value − validation value (negative is worse when higher is better)."""
        return None if self.value is None else self.value - self.validation_value

    def to_dict(self) -> dict[str, object]:
        record = asdict(self)
        record["day"] = self.day.isoformat()
        record["delta"] = self.delta
        return record

    @classmethod
    def from_dict(cls, record: Mapping[str, Any]) -> PerformanceDay:
        """The day `to_dict` gave, from stored evidence; other keys (``delta``, the check's
        ``versions``) are ignored, ``delta`` because it is derived from the rest.

        The metrics exporter and the nightly summary read the performance check's evidence
        back through this, so a row that is not such a record fails here with the key named
        (`ValueError`), not as a KeyError inside whichever reader met it first.
        """
        fields = RecordFields(record, "performance day")
        return cls(
            day=fields.day("day"),
            version=fields.integer("version"),
            metric=fields.text("metric"),
            value=fields.optional_number("value"),
            validation_value=fields.number("validation_value"),
            tolerance=fields.number("tolerance"),
            higher_is_better=fields.flag("higher_is_better"),
            degraded=fields.flag("degraded"),
            requests=fields.integer("requests"),
            labelled=fields.integer("labelled"),
            scored=fields.integer("scored"),
            label_coverage=fields.number("label_coverage"),
            positives=fields.optional_integer("positives"),
            note=fields.optional_text("note"),
        )


def _auc(y: np.ndarray, score: np.ndarray) -> float:
    positives = int(y.sum())
    negatives = y.size - positives
    if positives == 0 or negatives == 0:
        raise _Undefined(
            f"ROC AUC undefined: only one class among labels ({positives} positive, "
            f"{negatives} negative)"
        )
    ranks = pd.Series(score).rank(method="average").to_numpy()
    return float((ranks[y == 1].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def _confusion(y: np.ndarray, score: np.ndarray) -> tuple[int, int, int, int]:
    predicted = score >= THRESHOLD
    actual = y == 1
    tp = int(np.sum(predicted & actual))
    fp = int(np.sum(predicted & ~actual))
    fn = int(np.sum(~predicted & actual))
    tn = int(np.sum(~predicted & ~actual))
    return tp, fp, fn, tn


def _ratio(numerator: int, denominator: int, why: str) -> float:
    if denominator == 0:
        raise _Undefined(why)
    return numerator / denominator


def _accuracy(y: np.ndarray, score: np.ndarray) -> float:
    return float(np.mean((score >= THRESHOLD) == (y == 1)))


def _f1(y: np.ndarray, score: np.ndarray) -> float:
    tp, fp, fn, _ = _confusion(y, score)
    why = "f1 undefined: no positive labels and no positive predictions"
    return _ratio(2 * tp, 2 * tp + fp + fn, why)


def _precision(y: np.ndarray, score: np.ndarray) -> float:
    tp, fp, _, _ = _confusion(y, score)
    return _ratio(tp, tp + fp, f"precision undefined: no score reached {THRESHOLD}")


def _recall(y: np.ndarray, score: np.ndarray) -> float:
    tp, _, fn, _ = _confusion(y, score)
    return _ratio(tp, tp + fn, "recall undefined: no positive labels")


def _log_loss(y: np.ndarray, score: np.ndarray) -> float:
    p = np.clip(score, 1e-15, 1 - 1e-15)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def _rmse(y: np.ndarray, prediction: np.ndarray) -> float:
    return float(np.sqrt(np.mean((y - prediction) ** 2)))


def _mae(y: np.ndarray, prediction: np.ndarray) -> float:
    return float(np.mean(np.abs(y - prediction)))


def _r2(y: np.ndarray, prediction: np.ndarray) -> float:
    total = float(np.sum((y - y.mean()) ** 2))
    if total == 0.0:
        raise _Undefined("r2 undefined: all labels are equal")
    return 1.0 - float(np.sum((y - prediction) ** 2)) / total


Metric = Callable[[np.ndarray, np.ndarray], float]
CLASSIFICATION_METRICS: dict[str, Metric] = {
    "roc_auc": _auc,
    "accuracy": _accuracy,
    "f1": _f1,
    "precision": _precision,
    "recall": _recall,
    "log_loss": _log_loss,
}
REGRESSION_METRICS: dict[str, Metric] = {"rmse": _rmse, "mae": _mae, "r2": _r2}


def daily_performance(
    frame: pd.DataFrame,
    *,
    task: Task,
    metric: str,
    validation_value: float,
    tolerance: float,
    higher_is_better: bool,
) -> list[PerformanceDay]:
    """The metric per UTC day and model version, from the labelled requests of `frame`.

    `frame` is one model's inference log (e.g. the `valid` rows of
    `validate_inference_batch`); `validation_value` is the metric at release and
    `tolerance` the absolute slack before a day counts as degraded
    (`MonitoringConfig.performance_tolerance`). Returns days sorted by (day, version);
    every day/version with requests appears, labelled or not.
    """
    compute = _metric_function(task, metric)
    if tolerance < 0 or not np.isfinite(tolerance):
        raise PerformanceInputError(f"tolerance must be a finite number >= 0, got {tolerance}")
    if not np.isfinite(validation_value):
        raise PerformanceInputError(f"validation_value must be finite, got {validation_value}")
    missing = [column for column in _REQUIRED if column not in frame.columns]
    if missing:
        raise PerformanceInputError(
            f"performance monitoring needs inference-log column(s) {', '.join(missing)}"
        )
    if frame.empty:
        return []
    days = utc_days(frame["requested_at"])
    if days.isna().any():
        raise PerformanceInputError(
            f"{int(days.isna().sum())} row(s) have a null or unparsable requested_at; "
            "validate the batch with operations.ingestion.validate_inference_batch first"
        )
    label = pd.to_numeric(frame["label"], errors="coerce").to_numpy(dtype=float)
    prediction = pd.to_numeric(frame["prediction"], errors="coerce").to_numpy(dtype=float)
    keys = pd.DataFrame({"day": days, "version": frame["model_version"].to_numpy()})
    results = []
    for (day, version), rows in keys.groupby(["day", "version"], sort=True).indices.items():
        y, score = label[rows], prediction[rows]
        labelled = ~np.isnan(y)
        scored = labelled & ~np.isnan(score)
        value, note, positives = _evaluate(task, metric, compute, y[scored], score[scored])
        worse = None if value is None else value - validation_value
        if worse is not None and higher_is_better:
            worse = -worse
        results.append(
            PerformanceDay(
                day=day,
                version=int(version),
                metric=metric,
                value=value,
                validation_value=float(validation_value),
                tolerance=float(tolerance),
                higher_is_better=higher_is_better,
                degraded=worse is not None and worse > tolerance,
                requests=int(rows.size),
                labelled=int(labelled.sum()),
                scored=int(scored.sum()),
                label_coverage=float(labelled.sum() / rows.size),
                positives=positives,
                note=note,
            )
        )
    return sorted(results, key=lambda r: (r.day, r.version))


def _metric_function(task: str, metric: str) -> Metric:
    table = {"classification": CLASSIFICATION_METRICS, "regression": REGRESSION_METRICS}.get(task)
    if table is None:
        raise PerformanceInputError(f"task must be 'classification' or 'regression', got {task!r}")
    if metric not in table:
        raise PerformanceInputError(
            f"metric {metric!r} is not available for {task}; choose one of {', '.join(table)}"
        )
    return table[metric]


def _evaluate(
    task: str, metric: str, compute: Metric, y: np.ndarray, score: np.ndarray
) -> tuple[float | None, str | None, int | None]:
    """(value, note, positives) for the scored rows of one day/version."""
    if y.size == 0:
        return None, "no labelled requests with a prediction yet", None
    positives = None
    if task == "classification":
        if not np.isin(y, (0.0, 1.0)).all():
            odd = sorted({float(v) for v in y[~np.isin(y, (0.0, 1.0))]})[:5]
            return None, f"labels must be 0/1 for {metric}; found {odd}", None
        positives = int(y.sum())
    try:
        return float(compute(y, score)), None, positives
    except _Undefined as undefined:
        return None, str(undefined), positives
