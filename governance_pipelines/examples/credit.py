"""A synthetic credit-default data set that behaves like a real loan book.

The governance demo needs a tabular data set with a protected attribute, skewed
categoricals, heavy-tailed money columns, a rare positive class and a label that genuinely
depends on the features — so that validation, fairness, drift and performance monitoring all
have something real to find. Public data sets with those properties carry licences and
personal data; this generator carries neither and is deterministic for a given seed.

The label model (`CreditRiskModel`) is a module-level constant so the production-traffic
simulator (`governance_pipelines.examples.traffic`) samples labels from exactly the same
logistic model instead of a drifting copy of its coefficients.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import pandas as pd

GENDERS: tuple[str, ...] = ("female", "male", "nonbinary")
GENDER_SHARES: tuple[float, ...] = (0.49, 0.49, 0.02)

REGIONS: tuple[str, ...] = ("northeast", "southeast", "midwest", "southwest", "mountain", "pacific")
REGION_SHARES: tuple[float, ...] = (0.18, 0.25, 0.20, 0.14, 0.08, 0.15)
# Regional wage levels (multiplier on income); none of them enters the label directly.
_REGION_INCOME_FACTOR: tuple[float, ...] = (1.12, 0.92, 0.96, 0.94, 0.98, 1.15)

EMPLOYMENT_TYPES: tuple[str, ...] = (
    "salaried",
    "self_employed",
    "part_time",
    "contract",
    "retired",
    "unemployed",
)
_EMPLOYMENT_SHARES_UNDER_62: tuple[float, ...] = (0.66, 0.12, 0.10, 0.08, 0.0, 0.04)
_EMPLOYMENT_INCOME_FACTOR: tuple[float, ...] = (1.0, 1.05, 0.5, 0.9, 0.65, 0.3)

LOAN_TERMS_MONTHS: tuple[int, ...] = (12, 24, 36, 48, 60)

APPLICATION_WINDOW_START = pd.Timestamp("2023-01-01")
APPLICATION_WINDOW_DAYS = 547  # ~18 months

# Debt-to-income above 43% is the US "qualified mortgage" ceiling; lenders see risk
# accelerate past it, which the label model reproduces with a hinge term.
DTI_STRESS_THRESHOLD = 0.43


@dataclass(frozen=True)
class CreditRiskModel:
    """The ground-truth logistic model that turns applicant features into default risk.

    logit(p) = intercept
             + debt_to_income · dti
             + dti_above_threshold · max(dti − 0.43, 0)
             + delinquencies · min(num_delinquencies, 5)
             + log_income · ln(annual_income / 50 000)
             + history_years · (credit_history_months / 12)
             + interest_rate · (interest_rate − 12)
             + loan_to_income · (loan_amount / annual_income)
             + term_years · (loan_term_months − 36) / 12
             + employment[employment_type]

    Gender, age and region are deliberately absent: a model trained on this data can be fair.
    The hinge term makes risk accelerate with the debt ratio, so the default rate reacts
    more than proportionally when debt ratios drift upward.
    """

    intercept: float = -2.75
    debt_to_income: float = 1.6
    dti_above_threshold: float = 2.5
    delinquencies: float = 0.55
    log_income: float = -0.45
    history_years: float = -0.045
    interest_rate: float = 0.07
    loan_to_income: float = 0.9
    term_years: float = 0.08
    employment: Mapping[str, float] = field(
        default_factory=lambda: MappingProxyType(
            {
                "salaried": 0.0,
                "self_employed": 0.25,
                "part_time": 0.3,
                "contract": 0.35,
                "retired": -0.1,
                "unemployed": 0.9,
            }
        )
    )

    def logit(self, frame: pd.DataFrame) -> np.ndarray:
        """Log-odds of default for each row of `frame` (needs the columns named above)."""
        dti = frame["debt_to_income"].to_numpy(dtype=float)
        income = np.maximum(frame["annual_income"].to_numpy(dtype=float), 1.0)
        employment = (
            frame["employment_type"].astype(str).map(dict(self.employment)).fillna(0.0)
        ).to_numpy(dtype=float)
        return (
            self.intercept
            + self.debt_to_income * dti
            + self.dti_above_threshold * np.maximum(dti - DTI_STRESS_THRESHOLD, 0.0)
            + self.delinquencies * np.minimum(frame["num_delinquencies"].to_numpy(float), 5.0)
            + self.log_income * np.log(income / 50_000.0)
            + self.history_years * frame["credit_history_months"].to_numpy(float) / 12.0
            + self.interest_rate * (frame["interest_rate"].to_numpy(float) - 12.0)
            + self.loan_to_income * frame["loan_amount"].to_numpy(float) / income
            + self.term_years * (frame["loan_term_months"].to_numpy(float) - 36.0) / 12.0
            + employment
        )

    def probability(self, frame: pd.DataFrame) -> np.ndarray:
        """Probability of default for each row of `frame`."""
        return 1.0 / (1.0 + np.exp(-self.logit(frame)))


CREDIT_RISK_MODEL = CreditRiskModel()


def default_probability(frame: pd.DataFrame) -> np.ndarray:
    """True default probability under `CREDIT_RISK_MODEL` (handy as an oracle `predict`)."""
    return CREDIT_RISK_MODEL.probability(frame)


def sample_defaults(frame: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """Draw 0/1 default outcomes (int64) from `CREDIT_RISK_MODEL` for each row of `frame`."""
    return (rng.random(len(frame)) < default_probability(frame)).astype(np.int64)


def load_credit_applications(n_rows: int = 20_000, seed: int = 7) -> pd.DataFrame:
    """Synthetic loan applications with a `default` label (deterministic for a given seed).

    How the label is generated: each applicant's probability of default comes from a fixed
    logistic model of their debt-to-income ratio (with risk accelerating above 43%),
    number of past delinquencies, log annual income, length of credit history, interest
    rate, loan-to-income ratio, loan term and employment type; `default` is a Bernoulli
    draw from that probability, giving a default rate of about 10%. Gender is drawn
    independently of every other column and is never used to generate the label, and
    neither are age or region — so a fair model is achievable and any disparity a model
    shows is learned, not baked in. Features are correlated the way a loan book is: income
    depends on age, region and employment; delinquencies and debt ratios share a latent
    financial-stress factor; interest rates are risk-priced and drift up ~1.5 points over
    the 18-month application window.
    """
    if n_rows <= 0:
        raise ValueError(f"n_rows must be positive, got {n_rows}")
    # One generator feeds every step, so the steps must run in exactly this order: the
    # same seed has to keep producing the same loan book for the demo and its tests.
    rng = np.random.default_rng(seed)
    day_offsets = np.sort(rng.integers(0, APPLICATION_WINDOW_DAYS, n_rows))
    applicants = _draw_applicants(rng, n_rows)
    annual_income = _draw_annual_income(rng, applicants)
    history = _draw_credit_history(rng, applicants.age)
    loan = _draw_loan(rng, annual_income)
    frame = _applications_frame(day_offsets, applicants, annual_income, history, loan)
    frame["interest_rate"] = _price_interest_rate(rng, frame, day_offsets / APPLICATION_WINDOW_DAYS)
    frame["default"] = sample_defaults(frame, rng)
    return frame


@dataclass(frozen=True)
class _Applicants:
    """Who applied; income, credit history and the frame's categoricals all derive from it.

    `gender`, `region` and `employment` are codes into `GENDERS`, `REGIONS` and
    `EMPLOYMENT_TYPES`: the income factors are looked up by code before they become labels.
    """

    age: np.ndarray
    gender: np.ndarray
    region: np.ndarray
    employment: np.ndarray


def _draw_applicants(rng: np.random.Generator, n: int) -> _Applicants:
    """Demographics come first: income, employment and credit history are conditioned on them.

    Gender is drawn independently and conditions nothing, so a fair model is achievable.
    """
    age = np.clip(np.round(rng.normal(42.0, 13.0, n)), 18, 80).astype(np.int64)
    gender = rng.choice(len(GENDERS), size=n, p=GENDER_SHARES)
    region = rng.choice(len(REGIONS), size=n, p=REGION_SHARES)

    employment = rng.choice(len(EMPLOYMENT_TYPES), size=n, p=_EMPLOYMENT_SHARES_UNDER_62)
    # Retirement becomes likely from the early sixties, so employment depends on age.
    retired = (age >= 62) & (rng.random(n) < np.clip((age - 58) / 12.0, 0.0, 0.9))
    employment = np.where(retired, EMPLOYMENT_TYPES.index("retired"), employment)
    return _Applicants(age=age, gender=gender, region=region, employment=employment)


def _draw_annual_income(rng: np.random.Generator, applicants: _Applicants) -> np.ndarray:
    """Heavy-tailed income that tracks age, region and employment, as a real book's does.

    Log-normal around ~$55k, peaking in the early fifties; clipped so that no applicant has
    an implausible (or zero) income that would blow up the income ratios downstream.
    """
    age_curve = np.exp(-(((applicants.age - 52.0) / 30.0) ** 2)) * 0.45 + 0.55
    income = (
        np.exp(rng.normal(np.log(62_000.0), 0.5, len(applicants.age)))
        * age_curve
        * np.asarray(_REGION_INCOME_FACTOR)[applicants.region]
        * np.asarray(_EMPLOYMENT_INCOME_FACTOR)[applicants.employment]
    )
    return np.round(np.clip(income, 8_000.0, 1_500_000.0), 0)


def _draw_credit_history(rng: np.random.Generator, age: np.ndarray) -> dict[str, np.ndarray]:
    """Bureau-style columns, linked by a latent financial-stress factor.

    The shared factor makes debt ratios and delinquencies correlated, as they are in real
    loan books, without either one being a function of the other. Keys are frame columns.
    """
    n = len(age)
    stress = rng.normal(0.0, 1.0, n)
    debt_to_income = np.round(
        np.clip(np.exp(rng.normal(np.log(0.28) + 0.22 * stress, 0.42)), 0.0, 1.5), 4
    )
    max_history = np.maximum((age - 18) * 12, 0)
    credit_history_months = np.round(max_history * rng.beta(4.0, 2.0, n)).astype(np.int64)
    num_open_accounts = np.minimum(
        rng.poisson(1.5 + credit_history_months / 60.0 + 0.4 * np.maximum(stress, 0.0)), 40
    ).astype(np.int64)
    num_delinquencies = rng.poisson(0.12 * np.exp(0.8 * stress)).astype(np.int64)
    return {
        "debt_to_income": debt_to_income,
        "credit_history_months": credit_history_months,
        "num_open_accounts": num_open_accounts,
        "num_delinquencies": num_delinquencies,
    }


def _draw_loan(rng: np.random.Generator, annual_income: np.ndarray) -> dict[str, np.ndarray]:
    """Loan size scales with income, and bigger loans are taken over longer terms.

    Both term draws happen for every row (long first, then short) and the loan size picks
    one, which keeps the number of random draws independent of the data. Keys are columns.
    """
    n = len(annual_income)
    loan_amount = (
        np.round(
            np.clip(annual_income * np.exp(rng.normal(np.log(0.22), 0.5, n)), 1_000, 60_000) / 50.0
        )
        * 50.0
    )
    long_term = loan_amount > 20_000
    term_probs_short = np.array([0.14, 0.24, 0.38, 0.12, 0.12])
    term_probs_long = np.array([0.02, 0.08, 0.30, 0.25, 0.35])
    term_index = np.where(
        long_term,
        rng.choice(len(LOAN_TERMS_MONTHS), size=n, p=term_probs_long),
        rng.choice(len(LOAN_TERMS_MONTHS), size=n, p=term_probs_short),
    )
    loan_term_months = np.asarray(LOAN_TERMS_MONTHS, dtype=np.int64)[term_index]
    return {"loan_amount": loan_amount, "loan_term_months": loan_term_months}


def _applications_frame(
    day_offsets: np.ndarray,
    applicants: _Applicants,
    annual_income: np.ndarray,
    history: Mapping[str, np.ndarray],
    loan: Mapping[str, np.ndarray],
) -> pd.DataFrame:
    """The application as the lender records it: ids, dates and labelled categoricals.

    Column order is part of the data set's contract (the pricing and label columns are
    appended after it), so the columns are laid out here in one place.
    """
    application_date = APPLICATION_WINDOW_START + pd.to_timedelta(day_offsets, unit="D")
    return pd.DataFrame(
        {
            "application_id": pd.Series(np.arange(1, len(day_offsets) + 1)).map(
                "APP-{:07d}".format
            ),
            "application_date": application_date.to_numpy(dtype="datetime64[ns]"),
            "age": applicants.age,
            "gender": pd.Categorical.from_codes(applicants.gender, categories=list(GENDERS)),
            "region": pd.Categorical.from_codes(applicants.region, categories=list(REGIONS)),
            "employment_type": pd.Categorical.from_codes(
                applicants.employment, categories=list(EMPLOYMENT_TYPES)
            ),
            "annual_income": annual_income,
            **history,
            **loan,
        }
    )


def _price_interest_rate(
    rng: np.random.Generator, applications: pd.DataFrame, period_fraction: np.ndarray
) -> np.ndarray:
    """Risk-based pricing on what the lender observes, plus a rising-rate macro trend.

    Pricing from the other columns makes the rate carry risk information, as a real book's
    does, and the trend gives the monitors a slow, genuine drift over the window.
    """
    debt_to_income = applications["debt_to_income"].to_numpy()
    num_delinquencies = applications["num_delinquencies"].to_numpy()
    annual_income = applications["annual_income"].to_numpy()
    credit_history_months = applications["credit_history_months"].to_numpy()
    loan_term_months = applications["loan_term_months"].to_numpy()
    return np.round(
        np.clip(
            9.0
            + 1.5 * period_fraction
            + 9.0 * debt_to_income
            + 2.0 * np.minimum(num_delinquencies, 4)
            - 1.2 * np.log(annual_income / 50_000.0)
            - 0.01 * credit_history_months
            + 0.03 * (loan_term_months - 36)
            + rng.normal(0.0, 1.5, len(applications)),
            3.99,
            29.99,
        ),
        2,
    )
