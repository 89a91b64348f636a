from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from governance_pipelines.development.fairness import (
    MISSING_GROUP,
    FairnessError,
    FairnessSpec,
    SensitiveAttribute,
    assess_fairness,
    assess_model_fairness,
)
from governance_pipelines.development.training import train_model
from governance_pipelines.development.training_spec import TrainingSpec


def make_frame(biased: bool, n: int = 1600, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "income": rng.normal(size=n),
            "gender": rng.choice(["f", "m"], size=n),
            "age": rng.integers(18, 80, size=n),
        }
    )
    logit = 1.5 * frame["income"] + (2.5 * (frame["gender"] == "m") - 1.25 if biased else 0.0)
    frame["approved"] = (logit + rng.normal(scale=0.5, size=n) > 0).astype(int)
    return frame


def train(frame: pd.DataFrame):
    spec = TrainingSpec(
        task="classification",
        target="approved",
        features=("income", "gender"),
        categorical_features=("gender",),
        estimator="sklearn.linear_model.LogisticRegression",
    )
    return train_model(frame, spec)


def limits(column: str, limit: float) -> SensitiveAttribute:
    return SensitiveAttribute(
        column, max_demographic_parity_difference=limit, max_equalized_odds_difference=limit
    )


SPEC = FairnessSpec(
    attributes=(
        SensitiveAttribute("gender"),
        SensitiveAttribute(
            "age",
            bins=(18, 40, 60, 80),
            max_demographic_parity_difference=0.15,
            max_equalized_odds_difference=0.15,
        ),
    )
)


def test_model_whose_label_depends_on_gender_fails() -> None:
    frame = make_frame(biased=True)
    result = assess_model_fairness(frame, train(frame), SPEC)
    assert not result.passed
    gender = result.attributes[0]
    assert gender.attribute == "gender"
    assert not gender.passed
    assert gender.demographic_parity_difference > 0.3
    assert any("'gender': selection rates differ" in f for f in result.findings)
    rates = {row["group"]: row["selection_rate"] for row in gender.groups}
    assert rates["m"] > rates["f"]


def test_unbiased_model_passes_with_a_card_table() -> None:
    frame = make_frame(biased=False)
    result = assess_model_fairness(frame, train(frame), SPEC)
    assert result.passed, result.findings
    groups = [(row["attribute"], row["group"]) for row in result.table]
    assert ("gender", "f") in groups
    assert ("age", "[18, 40)") in groups
    assert {"count", "selection_rate", "tpr", "fpr", "auc", "included"} <= set(result.table[0])
    assert [g for a, g in groups if a == "age"] == ["[18, 40)", "[40, 60)", "[60, 80)"]
    assert sum(row["count"] for row in result.table if row["attribute"] == "gender") == 400
    assert all(0.5 < row["auc"] <= 1 for row in result.table)


def test_hand_computed_group_metrics_and_small_groups() -> None:
    y_true = np.array([1, 1, 0, 0, 1, 1, 0, 0, 1, 0])
    y_pred = np.array([1, 0, 1, 0, 1, 1, 0, 0, 1, 1])
    sensitive = pd.DataFrame({"g": ["a"] * 4 + ["b"] * 4 + [None, "c"]})
    spec = FairnessSpec(attributes=(limits("g", 0.6),), min_group_size=4)
    result = assess_fairness(y_true, y_pred, sensitive, spec)
    rows = {row["group"]: row for row in result.table}
    assert rows["a"]["selection_rate"] == 0.5
    assert rows["b"]["selection_rate"] == 0.5
    assert rows["a"]["tpr"] == 0.5
    assert rows["b"]["tpr"] == 1.0
    assert rows["a"]["fpr"] == 0.5
    assert rows["b"]["fpr"] == 0.0
    assert not rows[MISSING_GROUP]["included"]
    assert not rows["c"]["included"]
    attribute = result.attributes[0]
    assert attribute.demographic_parity_difference == 0.0
    assert attribute.equalized_odds_difference == 0.5
    assert result.passed
    strict = FairnessSpec(attributes=(limits("g", 0.1),), min_group_size=4)
    failed = assess_fairness(y_true, y_pred, sensitive, strict)
    assert not failed.passed
    assert "equalized-odds" in failed.findings[0]


def test_too_few_large_groups_cannot_pass() -> None:
    sensitive = pd.DataFrame({"g": ["a"] * 50 + ["b"] * 5})
    y = np.array([0, 1] * 27 + [0])
    result = assess_fairness(y, y, sensitive, FairnessSpec((SensitiveAttribute("g"),)))
    assert not result.passed
    assert "fewer than two groups" in result.findings[0]


def test_errors() -> None:
    sensitive = pd.DataFrame({"g": ["a", "b", "a"]})
    spec = FairnessSpec((SensitiveAttribute("g"),))
    with pytest.raises(FairnessError, match="binary"):
        assess_fairness(np.array([0, 1, 2]), np.array([0, 1, 2]), sensitive, spec)
    with pytest.raises(FairnessError, match="'h'"):
        assess_fairness(
            np.array([0, 1, 1]),
            np.array([0, 1, 0]),
            sensitive,
            FairnessSpec((SensitiveAttribute("h"),)),
        )
    with pytest.raises(FairnessError, match="increasing"):
        SensitiveAttribute("age", bins=(40, 18))
    one_vs_rest = FairnessSpec((limits("g", 1.0),), positive_label=2, min_group_size=1)
    assert assess_fairness(np.array([0, 1, 2]), np.array([0, 2, 2]), sensitive, one_vs_rest).passed
