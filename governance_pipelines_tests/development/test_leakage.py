from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from governance_pipelines.development.leakage import (
    LeakageCheckError,
    LeakageSpec,
    check_leakage,
    check_model_leakage,
)
from governance_pipelines.development.training import train_model
from governance_pipelines.development.training_spec import TrainingSpec


def make_frame(n: int = 800, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "a": rng.normal(size=n),
            "b": rng.normal(size=n),
            "segment": rng.choice(["p", "q", "r"], size=n),
            "customer_id": [f"c{i}" for i in range(n)],
            "ts": pd.date_range("2024-01-01", periods=n, freq="h"),
        }
    )
    frame["y"] = ((frame["a"] + rng.normal(scale=1.0, size=n)) > 0).astype(int)
    return frame


def halves(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    return order[: n * 3 // 4], order[n * 3 // 4 :]


SPEC = LeakageSpec(
    task="classification",
    target="y",
    features=("a", "b", "segment", "customer_id"),
    categorical_features=("segment", "customer_id"),
)


def test_clean_split_passes() -> None:
    frame = make_frame()
    train, test = halves(len(frame))
    result = check_leakage(frame, train, test, SPEC)
    assert result.passed, result.findings
    assert result.evidence["overlap"]["overlapping_test_rows"] == 0
    strengths = result.evidence["target_leakage"]["strength_by_feature"]
    assert 0.6 < strengths["a"] < 0.95
    assert strengths["customer_id"] < 0.6  # unique IDs do not look predictive out of sample


def test_leaky_feature_copy_of_target_plus_noise_fails() -> None:
    frame = make_frame()
    frame["outcome_code"] = frame["y"] + np.random.default_rng(3).normal(scale=0.1, size=len(frame))
    spec = LeakageSpec(task="classification", target="y", features=("a", "b", "outcome_code"))
    train, test = halves(len(frame))
    result = check_leakage(frame, train, test, spec)
    assert not result.passed
    assert result.evidence["target_leakage"]["suspect_features"] == ["outcome_code"]
    assert "'outcome_code'" in result.findings[0]
    assert "AUC" in result.findings[0]


def test_inverted_leaky_feature_and_categorical_leak_are_caught() -> None:
    frame = make_frame()
    frame["minus_y"] = -frame["y"] * 5.0
    frame["status"] = np.where(frame["y"] == 1, "closed-won", "closed-lost")
    spec = LeakageSpec(
        task="classification",
        target="y",
        features=("a", "minus_y", "status"),
        categorical_features=("status",),
    )
    train, test = halves(len(frame))
    result = check_leakage(frame, train, test, spec)
    assert result.evidence["target_leakage"]["suspect_features"] == ["minus_y", "status"]


def test_regression_leak_by_correlation() -> None:
    frame = make_frame()
    rng = np.random.default_rng(5)
    frame["revenue"] = 10 * frame["a"] + rng.normal(size=len(frame))
    frame["revenue_rounded"] = frame["revenue"].round(0)
    spec = LeakageSpec(task="regression", target="revenue", features=("a", "b", "revenue_rounded"))
    train, test = halves(len(frame))
    result = check_leakage(frame, train, test, spec)
    assert "revenue_rounded" in result.evidence["target_leakage"]["suspect_features"]
    relaxed = LeakageSpec(
        task="regression",
        target="revenue",
        features=("b",),
        max_single_feature_correlation=0.5,
    )
    assert check_leakage(frame, train, test, relaxed).passed


def test_duplicated_rows_across_the_split_fail() -> None:
    frame = make_frame(600)
    train, test = halves(len(frame))
    # Duplicate 20 training rows and put the copies into the test set.
    copies = frame.iloc[train[:20]]
    leaky = pd.concat([frame, copies], ignore_index=True)
    test = np.concatenate([test, np.arange(len(frame), len(leaky))])
    result = check_leakage(leaky, train, test, SPEC)
    assert not result.passed
    assert result.evidence["overlap"]["overlapping_test_rows"] == 20
    assert "20 of 170 test rows" in result.findings[0]
    lenient = LeakageSpec(**{**SPEC.__dict__, "max_overlap_share": 0.2})
    assert check_leakage(leaky, train, test, lenient).passed


def test_time_leakage_random_split_fails_time_split_passes() -> None:
    frame = make_frame()
    spec = TrainingSpec(
        task="classification",
        target="y",
        features=("a", "b"),
        estimator="sklearn.linear_model.LogisticRegression",
        time_column="ts",
    )
    random_model = train_model(frame, spec)
    result = check_model_leakage(frame, random_model)
    assert not result.passed
    assert result.evidence["time_leakage"]["test_rows_before_latest_train"] > 100
    assert any("before the latest training row" in f for f in result.findings)
    time_spec = TrainingSpec(**{**spec.__dict__, "split_rule": "time"})
    assert check_model_leakage(frame, train_model(frame, time_spec)).passed


def test_multiclass_and_errors() -> None:
    frame = make_frame()
    frame["y"] = pd.cut(
        frame["a"], [-np.inf, -0.5, 0.5, np.inf], labels=["lo", "mid", "hi"]
    ).astype(str)
    spec = LeakageSpec(task="classification", target="y", features=("a", "b"))
    train, test = halves(len(frame))
    result = check_leakage(frame, train, test, spec)
    assert result.evidence["target_leakage"]["suspect_features"] == ["a"]  # a defines y
    with pytest.raises(LeakageCheckError, match="'zz'"):
        check_leakage(frame, train, test, LeakageSpec("classification", "y", ("zz",)))
    with pytest.raises(LeakageCheckError, match="out of range"):
        check_leakage(frame, train, np.array([10_000]), spec)


def test_a_declared_time_column_under_a_random_split_is_reported_as_not_checked() -> None:
    """It used to pass silently while the gate and the card said 'no time leakage'."""
    from governance_pipelines.config import PACKAGED_DEMO_CONFIG, load_config
    from governance_pipelines.development.specs import leakage_spec

    model = load_config(PACKAGED_DEMO_CONFIG).model("credit_default")
    declared = model.model_copy(
        update={
            "data": model.data.model_copy(update={"time_column": "ts"}),
            "training": model.training.model_copy(update={"split": "random"}),
        }
    )
    training = TrainingSpec(task="classification", target="y", features=("a", "b"), estimator="x.Y")
    spec = leakage_spec(declared, training)
    assert (spec.time_column, spec.unchecked_time_column) == (None, "ts")
    frame = make_frame()
    train, test = halves(len(frame))
    result = check_leakage(frame, train, test, spec)
    assert result.passed
    assert result.checked == ("overlap", "target_leakage")
    assert "time_leakage" in result.not_checked
    assert "no time leakage" not in result.summary
    assert "time leakage NOT checked: the split is random" in result.summary
    assert result.evidence["time_leakage"]["checked"] is False
