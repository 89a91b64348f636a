"""Group fairness of a binary classifier over declared sensitive attributes.

Per group: count, selection rate (share predicted positive), true-positive rate,
false-positive rate and AUC. Per attribute:

    demographic parity difference = max - min selection rate over groups
    equalized-odds difference     = max(max - min TPR, max - min FPR) over groups

Groups smaller than ``min_group_size`` are reported but left out of the differences,
because a rate over a handful of rows is noise and would fail (or pass) a model by
chance; the table says which groups were excluded. A missing attribute value is its
own group (``"<missing>"``) rather than dropped: missingness is often itself a proxy.
Continuous attributes such as age are bucketed by declared bin edges.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from governance_pipelines.development.training import TrainedModel

MISSING_GROUP = "<missing>"


class FairnessError(ValueError):
    """Fairness cannot be assessed as declared (non-binary task, missing column)."""


@dataclass(frozen=True)
class SensitiveAttribute:
    """Fields:
    column: the attribute's column (need not be a model feature; usually it is not).
    bins: edges for continuous attributes, e.g. ``(18, 30, 45, 65, 120)``; ``None`` for
        categorical ones. Values outside the edges become ``"<missing>"``.
    max_demographic_parity_difference, max_equalized_odds_difference: the limits.
    """

    column: str
    bins: tuple[float, ...] | None = None
    max_demographic_parity_difference: float = 0.1
    max_equalized_odds_difference: float = 0.1

    def __post_init__(self) -> None:
        if self.bins is not None:
            object.__setattr__(self, "bins", tuple(self.bins))
            if len(self.bins) < 2 or list(self.bins) != sorted(set(self.bins)):
                raise FairnessError(f"bins for {self.column!r} must be 2+ increasing edges.")


@dataclass(frozen=True)
class FairnessSpec:
    """``positive_label``: the favourable outcome; ``None`` = the second sorted class."""

    attributes: tuple[SensitiveAttribute, ...]
    positive_label: Any = None
    min_group_size: int = 30

    def __post_init__(self) -> None:
        object.__setattr__(self, "attributes", tuple(self.attributes))


@dataclass(frozen=True)
class AttributeFairness:
    attribute: str
    demographic_parity_difference: float
    equalized_odds_difference: float
    max_demographic_parity_difference: float
    max_equalized_odds_difference: float
    passed: bool
    groups: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class FairnessResult:
    """``table`` has one row per (attribute, group), ready for a model card."""

    passed: bool
    attributes: tuple[AttributeFairness, ...]
    findings: tuple[str, ...]
    table: list[dict[str, Any]] = field(default_factory=list)


def _groups(values: pd.Series, attribute: SensitiveAttribute) -> tuple[np.ndarray, list[str]]:
    """Group label per row, and the groups in display order (bins in numeric order)."""
    if attribute.bins is not None:
        numeric = pd.to_numeric(values, errors="coerce")
        binned = pd.cut(numeric, bins=list(attribute.bins), right=False)
        labels = binned.astype(str).where(binned.notna(), MISSING_GROUP).to_numpy()
        order = [str(c) for c in binned.cat.categories] + [MISSING_GROUP]
        return labels, [group for group in order if group in set(labels)]
    labels = values.astype("object").where(values.notna(), MISSING_GROUP).astype(str).to_numpy()
    return labels, sorted(set(labels))


def _rate(mask: np.ndarray, of: np.ndarray) -> float:
    return float(mask[of].mean()) if of.any() else math.nan


def _spread(values: Sequence[float]) -> float:
    finite = [v for v in values if not math.isnan(v)]
    return max(finite) - min(finite) if len(finite) >= 2 else 0.0


def assess_fairness(
    y_true: Sequence[Any] | np.ndarray,
    y_pred: Sequence[Any] | np.ndarray,
    sensitive: pd.DataFrame,
    spec: FairnessSpec,
    y_score: np.ndarray | None = None,
) -> FairnessResult:
    """Group metrics and parity checks; ``y_score`` (probability of the positive label)
    adds per-group AUC. ``sensitive`` must be row-aligned with the labels."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if not len(y_true) == len(y_pred) == len(sensitive):
        raise FairnessError("y_true, y_pred and sensitive must have the same number of rows.")
    positive = _positive_label(y_true, y_pred, spec.positive_label)
    missing = [a.column for a in spec.attributes if a.column not in sensitive.columns]
    if missing:
        raise FairnessError(f"Sensitive columns {missing} missing; have {list(sensitive.columns)}.")
    actual, predicted = y_true == positive, y_pred == positive
    findings: list[str] = []
    results: list[AttributeFairness] = []
    for attribute in spec.attributes:
        values = sensitive[attribute.column].reset_index(drop=True)
        rows = _group_rows(attribute, values, actual, predicted, y_score, spec.min_group_size)
        result, notes = _judge_attribute(attribute, rows, spec.min_group_size)
        results.append(result)
        findings.extend(notes)
    return FairnessResult(
        passed=all(r.passed for r in results),
        attributes=tuple(results),
        findings=tuple(findings),
        table=[row for result in results for row in result.groups],
    )


def _positive_label(y_true: np.ndarray, y_pred: np.ndarray, declared: Any) -> Any:
    """Parity is about one favourable outcome; guessing it is only safe for two labels."""
    # Sorted before the declared label is honoured, so unorderable labels fail either way.
    labels = np.unique(np.concatenate([y_true, y_pred])).tolist()
    if declared is not None:
        return declared
    if len(labels) != 2:
        raise FairnessError(
            f"Fairness needs a binary outcome; found labels {labels}. Declare positive_label "
            "to assess one outcome against the rest."
        )
    return labels[1]


def _group_rows(
    attribute: SensitiveAttribute,
    values: pd.Series,
    actual: np.ndarray,
    predicted: np.ndarray,
    y_score: np.ndarray | None,
    min_group_size: int,
) -> list[dict[str, Any]]:
    """One table row per group. Small groups are kept but marked, so the card shows them.

    AUC stays NaN where a group holds a single true class, because it is undefined there.
    """
    groups, order = _groups(values, attribute)
    rows: list[dict[str, Any]] = []
    for group in order:
        member = groups == group
        auc = math.nan
        if y_score is not None and len(np.unique(actual[member])) == 2:
            auc = float(roc_auc_score(actual[member], np.asarray(y_score)[member]))
        rows.append(
            {
                "attribute": attribute.column,
                "group": group,
                "count": int(member.sum()),
                "selection_rate": _rate(predicted, member),
                "tpr": _rate(predicted, member & actual),
                "fpr": _rate(predicted, member & ~actual),
                "auc": auc,
                "included": bool(member.sum() >= min_group_size),
            }
        )
    return rows


def _judge_attribute(
    attribute: SensitiveAttribute, rows: list[dict[str, Any]], min_group_size: int
) -> tuple[AttributeFairness, list[str]]:
    """Differences over the included groups only, plus findings that say what to change.

    Too few included groups fails the attribute: an unassessable parity is not a pass.
    """
    included = [row for row in rows if row["included"]]
    dpd = _spread([row["selection_rate"] for row in included])
    eod = max(_spread([r["tpr"] for r in included]), _spread([r["fpr"] for r in included]))
    passed = (
        dpd <= attribute.max_demographic_parity_difference
        and eod <= attribute.max_equalized_odds_difference
    )
    findings: list[str] = []
    if len(included) < 2:
        findings.append(
            f"{attribute.column!r}: fewer than two groups have {min_group_size}+ rows; "
            "parity cannot be assessed — collect more data or merge groups (bins)."
        )
        passed = False
    if dpd > attribute.max_demographic_parity_difference:
        findings.append(
            f"{attribute.column!r}: selection rates differ by {dpd:.3f} across groups "
            f"(demographic parity limit {attribute.max_demographic_parity_difference:.3f})."
        )
    if eod > attribute.max_equalized_odds_difference:
        findings.append(
            f"{attribute.column!r}: error rates differ by {eod:.3f} across groups "
            f"(equalized-odds limit {attribute.max_equalized_odds_difference:.3f})."
        )
    result = AttributeFairness(
        attribute=attribute.column,
        demographic_parity_difference=dpd,
        equalized_odds_difference=eod,
        max_demographic_parity_difference=attribute.max_demographic_parity_difference,
        max_equalized_odds_difference=attribute.max_equalized_odds_difference,
        passed=passed,
        groups=tuple(rows),
    )
    return result, findings


def assess_model_fairness(
    frame: pd.DataFrame, model: TrainedModel, spec: FairnessSpec
) -> FairnessResult:
    """Fairness of a trained classifier on its held-out rows of ``frame``."""
    if model.spec.task != "classification":
        raise FairnessError("Group fairness here is defined for classifiers only.")
    rows = frame.iloc[model.test_positions]
    score = None
    if model.scores is not None and model.classes is not None:
        positive = spec.positive_label
        if positive is None and len(model.classes) == 2:
            positive = model.classes[1]
        if positive in model.classes:
            score = model.scores[:, list(model.classes).index(positive)]
    return assess_fairness(
        rows[model.spec.target].to_numpy(),
        model.predictions,
        rows,
        spec,
        y_score=score,
    )
