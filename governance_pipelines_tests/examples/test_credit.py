"""The synthetic credit book must be deterministic, realistic and fair by construction."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from governance_pipelines.examples.credit import (
    CREDIT_RISK_MODEL,
    GENDERS,
    LOAN_TERMS_MONTHS,
    default_probability,
    load_credit_applications,
    sample_defaults,
)

NUMERIC = [
    "age",
    "annual_income",
    "debt_to_income",
    "credit_history_months",
    "num_open_accounts",
    "num_delinquencies",
    "loan_amount",
    "loan_term_months",
    "interest_rate",
]


@pytest.fixture(scope="module")
def book() -> pd.DataFrame:
    return load_credit_applications(n_rows=8_000, seed=7)


def test_same_seed_same_frame_and_different_seed_differs() -> None:
    first = load_credit_applications(n_rows=500, seed=3)
    pd.testing.assert_frame_equal(first, load_credit_applications(n_rows=500, seed=3))
    other = load_credit_applications(n_rows=500, seed=4)
    assert not first["annual_income"].equals(other["annual_income"])


def test_columns_and_types(book: pd.DataFrame) -> None:
    assert list(book.columns) == [
        "application_id",
        "application_date",
        "age",
        "gender",
        "region",
        "employment_type",
        "annual_income",
        "debt_to_income",
        "credit_history_months",
        "num_open_accounts",
        "num_delinquencies",
        "loan_amount",
        "loan_term_months",
        "interest_rate",
        "default",
    ]
    assert book["application_id"].map(type).eq(str).all()
    assert book["application_id"].is_unique
    assert book["application_date"].dtype == "datetime64[ns]"
    assert book["application_date"].is_monotonic_increasing
    span = book["application_date"].max() - book["application_date"].min()
    assert pd.Timedelta(days=500) < span < pd.Timedelta(days=600)
    for column in ("gender", "region", "employment_type"):
        assert isinstance(book[column].dtype, pd.CategoricalDtype)
    assert list(book["gender"].cat.categories) == list(GENDERS)
    assert book["region"].nunique() == 6
    for column in ("age", "credit_history_months", "num_open_accounts", "num_delinquencies"):
        assert pd.api.types.is_integer_dtype(book[column])
    assert book["age"].between(18, 80).all()
    assert set(book["loan_term_months"].unique()) <= set(LOAN_TERMS_MONTHS)
    assert book["debt_to_income"].between(0.0, 1.5).all()
    assert (book["num_delinquencies"] == 0).mean() > 0.75
    assert 35_000 < book["annual_income"].median() < 80_000
    assert book["annual_income"].mean() > book["annual_income"].median()  # right-skewed
    assert set(book["default"].unique()) == {0, 1}
    assert book["default"].dtype == np.int64


def test_gender_shares_are_realistic(book: pd.DataFrame) -> None:
    shares = book["gender"].value_counts(normalize=True)
    assert 0.45 < shares["female"] < 0.53
    assert 0.45 < shares["male"] < 0.53
    assert 0.005 < shares["nonbinary"] < 0.04


@pytest.mark.parametrize("seed", [7, 11])
def test_default_rate_in_realistic_range(seed: int) -> None:
    rate = load_credit_applications(n_rows=5_000, seed=seed)["default"].mean()
    assert 0.08 <= rate <= 0.12


def test_label_is_learnable_from_features_but_not_from_gender(book: pd.DataFrame) -> None:
    train, test = train_test_split(book, test_size=0.4, random_state=0)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1_000))
    model.fit(train[NUMERIC], train["default"])
    assert roc_auc_score(test["default"], model.predict_proba(test[NUMERIC])[:, 1]) > 0.7

    gender_rate = train.groupby("gender", observed=False)["default"].mean()
    gender_score = test["gender"].map(gender_rate).astype(float)
    assert abs(roc_auc_score(test["default"], gender_score) - 0.5) < 0.05


def test_gender_is_not_an_input_of_the_label_model(book: pd.DataFrame) -> None:
    flipped = book.assign(gender=book["gender"].map({"female": "male"}).fillna("female"))
    np.testing.assert_array_equal(default_probability(book), default_probability(flipped))


def test_label_model_is_monotone_in_the_risk_drivers(book: pd.DataFrame) -> None:
    base = default_probability(book)
    assert (
        default_probability(book.assign(debt_to_income=book["debt_to_income"] + 0.2)) > base
    ).all()
    assert (
        default_probability(book.assign(num_delinquencies=book["num_delinquencies"] + 1)) > base
    ).all()
    assert (default_probability(book.assign(annual_income=book["annual_income"] * 2)) < base).all()


def test_sample_defaults_follows_the_model_probability(book: pd.DataFrame) -> None:
    draws = sample_defaults(book, np.random.default_rng(0))
    assert abs(draws.mean() - CREDIT_RISK_MODEL.probability(book).mean()) < 0.015


def test_docstring_explains_label_generation_for_the_model_card() -> None:
    doc = load_credit_applications.__doc__ or ""
    assert "logistic" in doc
    assert "Gender" in doc
