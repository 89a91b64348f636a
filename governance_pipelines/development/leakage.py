"""No-data-leakage checks: train/test overlap, target leakage, time leakage.

A leaky model looks excellent offline and fails in production, so these checks run
before the metric gate is trusted. Each check produces a human sentence (for the model
card and the Slack alert) and numbers (for metadata and audits).

Definitions:
    * overlap — a test row whose features *and* target are identical to a training row
      (rows hashed with ``pandas.util.hash_pandas_object``). Its score is memorised, not
      predicted. The allowed share defaults to zero; raise it for data with few, discrete
      features where exact repeats are natural.
    * target leakage — one feature alone separates the target implausibly well.
      Classification: single-feature AUC, taken as ``max(auc, 1 - auc)`` so an inverted
      relation counts too (one-vs-rest, worst class, for more than two classes).
      Regression: ``max(|Pearson|, |Spearman|)``. Numeric features are scored on the
      training rows directly (a rank statistic cannot overfit); categorical features are
      target-mean encoded on the training rows and scored on the test rows, so an ID-like
      column does not look predictive merely by memorising the training set.
    * time leakage — with a time column, any test row earlier than the latest training
      row means the model was trained on the future of some of its test cases.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict, Unpack

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from governance_pipelines.development.training import TrainedModel
from governance_pipelines.development.training_spec import TrainingSpec
from governance_pipelines.reporting import clauses


class LeakageCheckError(ValueError):
    """The leakage check cannot run as declared (missing columns, bad positions)."""


class LeakageLimits(TypedDict, total=False):
    """The thresholds of ``LeakageSpec`` a caller may override (the rest come from training)."""

    max_single_feature_auc: float
    max_single_feature_correlation: float
    max_overlap_share: float


@dataclass(frozen=True)
class LeakageSpec:
    """What to check and how strict to be.

    Fields:
        task, target, features, categorical_features, time_column: as in ``TrainingSpec``.
        max_single_feature_auc: classification limit for a single feature's AUC.
        max_single_feature_correlation: regression limit for ``|correlation|``.
        max_overlap_share: allowed share of test rows duplicated in training (0 = none).
        unchecked_time_column: a declared time column the split does not follow (a random
            split): time leakage is then reported as *not checked*, never as passed.
    """

    task: Literal["classification", "regression"]
    target: str
    features: tuple[str, ...]
    categorical_features: tuple[str, ...] = ()
    time_column: str | None = None
    max_single_feature_auc: float = 0.95
    max_single_feature_correlation: float = 0.95
    max_overlap_share: float = 0.0
    unchecked_time_column: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "features", tuple(self.features))
        object.__setattr__(self, "categorical_features", tuple(self.categorical_features))

    @classmethod
    def from_training_spec(cls, spec: TrainingSpec, **limits: Unpack[LeakageLimits]) -> LeakageSpec:
        """The spec for a training run; ``limits`` override the default thresholds."""
        return cls(
            task=spec.task,
            target=spec.target,
            features=spec.features,
            categorical_features=spec.categorical_features,
            time_column=spec.time_column,
            **limits,
        )


@dataclass(frozen=True)
class LeakageResult:
    """``passed`` is False when any finding exists; ``evidence`` holds the numbers per check."""

    passed: bool
    findings: tuple[str, ...]
    evidence: dict[str, Any] = field(default_factory=dict)
    checked: tuple[str, ...] = ()
    not_checked: dict[str, str] = field(default_factory=dict)  # check -> why not

    @property
    def summary(self) -> str:
        """What passed and, just as plainly, what was not checked."""
        if not self.passed:
            return clauses(self.findings)
        done = {
            "overlap": "no train/test overlap",
            "target_leakage": "no implausibly predictive feature",
            "time_leakage": "no time leakage",
        }
        text = ", ".join(done[name] for name in self.checked if name in done)
        for name, why in self.not_checked.items():
            text += f"; {name.replace('_', ' ')} NOT checked: {why}"
        return text


def _row_hashes(frame: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    return pd.util.hash_pandas_object(frame[list(columns)], index=False).to_numpy()


def check_overlap(
    frame: pd.DataFrame, train: np.ndarray, test: np.ndarray, spec: LeakageSpec
) -> tuple[list[str], dict[str, Any]]:
    """Test rows identical (features + target) to some training row."""
    hashes = _row_hashes(frame, [*spec.features, spec.target])
    duplicated = np.isin(hashes[test], hashes[train])
    count = int(duplicated.sum())
    share = count / len(test) if len(test) else 0.0
    evidence = {
        "overlapping_test_rows": count,
        "overlap_share": share,
        "allowed_share": spec.max_overlap_share,
        "example_test_positions": [int(p) for p in np.asarray(test)[duplicated][:5]],
    }
    findings = []
    if share > spec.max_overlap_share:
        findings.append(
            f"{count} of {len(test)} test rows ({share:.1%}) also appear in the training rows "
            f"(identical features and target; allowed {spec.max_overlap_share:.1%}). "
            "Deduplicate before splitting, or split by entity."
        )
    return findings, evidence


def _auc_strength(labels: np.ndarray, score: np.ndarray) -> float:
    mask = ~pd.isna(score)
    labels, score = labels[mask], score[mask].astype(float)
    if len(np.unique(labels)) < 2 or np.all(score == score[0]):
        return 0.5
    auc = float(roc_auc_score(labels, score))
    return max(auc, 1.0 - auc)


def _correlation_strength(x: np.ndarray, y: np.ndarray) -> float:
    mask = ~(pd.isna(x) | pd.isna(y))
    xs, ys = pd.Series(x[mask], dtype=float), pd.Series(y[mask], dtype=float)
    if len(xs) < 3 or xs.nunique() < 2 or ys.nunique() < 2:
        return 0.0
    pearson, spearman = xs.corr(ys), xs.corr(ys, method="spearman")
    return float(np.nanmax([abs(pearson), abs(spearman), 0.0]))


def _target_encode(train_x: pd.Series, train_y: np.ndarray, apply_x: pd.Series) -> np.ndarray:
    keys_train = train_x.astype("object").where(train_x.notna(), "<missing>")
    keys_apply = apply_x.astype("object").where(apply_x.notna(), "<missing>")
    means = pd.Series(train_y, index=keys_train.index).groupby(keys_train.to_numpy()).mean()
    return keys_apply.map(means).fillna(float(np.mean(train_y))).to_numpy(dtype=float)


def single_feature_strength(
    frame: pd.DataFrame, train: np.ndarray, test: np.ndarray, spec: LeakageSpec
) -> dict[str, float]:
    """How well each feature alone predicts the target (AUC or |correlation|)."""
    train_rows, test_rows = frame.iloc[train], frame.iloc[test]
    y_train = train_rows[spec.target].to_numpy()
    y_test = test_rows[spec.target].to_numpy()
    strengths: dict[str, float] = {}
    for feature in spec.features:
        column = frame[feature]
        categorical = feature in spec.categorical_features or not (
            pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column)
        )
        if spec.task == "regression":
            if categorical:
                encoded = _target_encode(
                    train_rows[feature], y_train.astype(float), test_rows[feature]
                )
                strengths[feature] = _correlation_strength(encoded, y_test)
            else:
                strengths[feature] = _correlation_strength(train_rows[feature].to_numpy(), y_train)
            continue
        classes = np.unique(y_train)
        per_class = classes[1:] if len(classes) == 2 else classes
        best = 0.5
        for cls in per_class:
            if categorical:
                encoded = _target_encode(
                    train_rows[feature], (y_train == cls).astype(float), test_rows[feature]
                )
                best = max(best, _auc_strength(y_test == cls, encoded))
            else:
                values = train_rows[feature].to_numpy(dtype=float, na_value=np.nan)
                best = max(best, _auc_strength(y_train == cls, values))
        strengths[feature] = best
    return strengths


def check_target_leakage(
    frame: pd.DataFrame, train: np.ndarray, test: np.ndarray, spec: LeakageSpec
) -> tuple[list[str], dict[str, Any]]:
    """Features that alone predict the target better than the declared limit."""
    strengths = single_feature_strength(frame, train, test, spec)
    if spec.task == "classification":
        limit, measure = spec.max_single_feature_auc, "single-feature AUC"
    else:
        limit, measure = spec.max_single_feature_correlation, "|correlation| with the target"
    suspects = {f: s for f, s in strengths.items() if s > limit}
    findings = [
        f"Feature {feature!r} alone reaches {measure} {strength:.3f} (limit {limit:.2f}): "
        "it is probably derived from the target or only known after it; remove it or "
        "justify it in the model card."
        for feature, strength in sorted(suspects.items(), key=lambda item: -item[1])
    ]
    evidence = {
        "measure": measure,
        "limit": limit,
        "strength_by_feature": dict(sorted(strengths.items(), key=lambda item: -item[1])),
        "suspect_features": sorted(suspects),
    }
    return findings, evidence


def check_time_leakage(
    frame: pd.DataFrame, train: np.ndarray, test: np.ndarray, spec: LeakageSpec
) -> tuple[list[str], dict[str, Any]]:
    """Test rows earlier than the latest training row."""
    time = frame[spec.time_column]
    latest_train = time.iloc[train].max()
    earlier = time.iloc[test] < latest_train
    count = int(earlier.sum())
    evidence = {
        "time_column": spec.time_column,
        "latest_train_time": str(latest_train),
        "earliest_test_time": str(time.iloc[test].min()),
        "test_rows_before_latest_train": count,
    }
    findings = []
    if count:
        findings.append(
            f"{count} of {len(test)} test rows are dated before the latest training row "
            f"({spec.time_column} {latest_train}): the model saw the future of its test cases. "
            "Split by time (split_rule 'time')."
        )
    return findings, evidence


def check_leakage(
    frame: pd.DataFrame,
    train_positions: Sequence[int] | np.ndarray,
    test_positions: Sequence[int] | np.ndarray,
    spec: LeakageSpec,
) -> LeakageResult:
    """All leakage checks over one train/test split (positions are ``iloc`` rows)."""
    needed = [*spec.features, spec.target, *([spec.time_column] if spec.time_column else [])]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise LeakageCheckError(f"Columns {missing} missing; frame has {list(frame.columns)}.")
    train = np.asarray(train_positions, dtype=int)
    test = np.asarray(test_positions, dtype=int)
    if len(train) == 0 or len(test) == 0:
        raise LeakageCheckError("Both the training and the test positions must be non-empty.")
    if max(train.max(), test.max()) >= len(frame) or min(train.min(), test.min()) < 0:
        raise LeakageCheckError(f"Positions out of range for a frame of {len(frame)} rows.")
    findings: list[str] = []
    evidence: dict[str, Any] = {}
    if spec.target in spec.features:
        findings.append(f"The target {spec.target!r} is itself listed as a feature.")
    checks = [("overlap", check_overlap), ("target_leakage", check_target_leakage)]
    not_checked: dict[str, str] = {}
    if spec.time_column:
        checks.append(("time_leakage", check_time_leakage))
    elif spec.unchecked_time_column:
        not_checked["time_leakage"] = (
            f"the split is random although {spec.unchecked_time_column!r} is declared as the "
            "time column, so test rows precede training rows by design; set "
            "`training.split: time` if the model will predict later cases"
        )
        evidence["time_leakage"] = {"checked": False, "reason": not_checked["time_leakage"]}
    for name, check in checks:
        check_findings, evidence[name] = check(frame, train, test, spec)
        findings.extend(check_findings)
    return LeakageResult(
        passed=not findings,
        findings=tuple(findings),
        evidence=evidence,
        checked=tuple(name for name, _ in checks),
        not_checked=not_checked,
    )


def check_model_leakage(
    frame: pd.DataFrame, model: TrainedModel, **limits: Unpack[LeakageLimits]
) -> LeakageResult:
    """Leakage checks for a trained model's own split."""
    spec = LeakageSpec.from_training_spec(model.spec, **limits)
    return check_leakage(frame, model.train_positions, model.test_positions, spec)
