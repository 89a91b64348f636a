"""The breast-cancer frame must flip scikit-learn's label so 1 means malignant."""

from __future__ import annotations

import re

from governance_pipelines.examples.breast_cancer import load_breast_cancer_frame


def test_shape_and_snake_case_columns() -> None:
    frame = load_breast_cancer_frame()
    assert frame.shape == (569, 31)
    assert all(re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)*", column) for column in frame.columns)
    assert "mean_radius" in frame.columns
    assert "worst_concave_points" in frame.columns
    assert frame.columns[-1] == "malignant"


def test_malignant_is_int_with_one_meaning_malignant() -> None:
    frame = load_breast_cancer_frame()
    assert frame["malignant"].dtype == "int64"
    assert set(frame["malignant"].unique()) == {0, 1}
    # The data set has 212 malignant and 357 benign tumours; malignant ones are larger.
    assert frame["malignant"].sum() == 212
    by_class = frame.groupby("malignant")["mean_radius"].mean()
    assert by_class[1] > by_class[0]


def test_features_are_numeric_and_complete() -> None:
    frame = load_breast_cancer_frame()
    features = frame.drop(columns="malignant")
    assert all(dtype.kind == "f" for dtype in features.dtypes)
    assert not frame.isna().any().any()
