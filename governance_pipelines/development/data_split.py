"""Checking a frame against a spec, and the deterministic train/test split.

The split is returned as row positions (``iloc``) rather than frames so it can be hashed
into the run record and recomputed later (reproducibility, model versions) without
carrying the data itself.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from governance_pipelines.development.training_spec import TrainingError, TrainingSpec


class MissingColumnError(TrainingError):
    """A declared column is not in the frame."""


class TargetError(TrainingError):
    """The target cannot be learned as declared (missing values, a single class)."""


def check_columns(frame: pd.DataFrame, spec: TrainingSpec) -> None:
    """Fail before splitting, with a message naming the column, rather than deep in sklearn."""
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
