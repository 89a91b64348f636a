"""A production-traffic simulator: the inference log a deployed model would produce.

Drift monitoring, SLA checks, cost attribution and delayed-label performance tracking all
read an inference log. The demo has no production system, so this module fabricates one
that has the properties those monitors must cope with:

- a diurnal request pattern (peak ~14:00 UTC, trough ~02:00 UTC) and skewed usage across
  consumer teams (Zipf-like: the first team in `consumer_teams` sends the most traffic);
- log-normal latency (median ~35 ms, a little slower at peak load) with incident days
  (`latency_spike_days`) where latency and error rate jump;
- failed requests (`status == "error"`) that carry no prediction;
- labels that arrive late (`label_delay_days` after the request), so the most recent
  requests are still unlabelled;
- injected drift from `drift_from_day` onward, described by a small mapping (see
  `apply_drift`), so that feature drift shows — and, because `label_fn` is evaluated on
  the drifted features, so does the resulting shift in outcomes (e.g. the default rate).

Everything is vectorised and deterministic for a given seed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType

import numpy as np
import pandas as pd

from governance_pipelines.examples.credit import sample_defaults
from governance_pipelines.examples.log_encoding import as_scores, features_json, uuid_like
from governance_pipelines.store.inference_log import COLUMNS

INFERENCE_LOG_COLUMNS: tuple[str, ...] = COLUMNS  # the inference_log table's columns, in order

# A plausible deterioration of the applicant pool for the credit demo: a downturn cuts
# incomes by 20%, debt ratios rise by 35%, rates rise 1.5 points, and a new broker deal
# switches 25% of drifted applications to the southeast region. With
# `credit_default_label_fn` the default rate rises from ~10% to ~17% (faster than
# linearly, through the debt-ratio hinge in `CreditRiskModel`). P(default | features) is
# unchanged: a well-specified model keeps its ranking and roughly its calibration, while
# the outcome-rate and feature-drift monitors fire.
CREDIT_DEMO_DRIFT: Mapping[str, float] = MappingProxyType(
    {
        "annual_income": 0.8,
        "debt_to_income": 1.35,
        "interest_rate+": 1.5,
        "region=southeast": 0.25,
    }
)

MEDIAN_LATENCY_MS = 35.0
LATENCY_SIGMA = 0.35
SPIKE_DAY_ERROR_MULTIPLIER = 5.0

_NO_DRIFT: Mapping[str, float] = MappingProxyType({})
# Relative request volume per UTC hour: 1 + 0.8·cos(2π(h − 14)/24), peak at 14:00.
_HOURLY_WEIGHTS = 1.0 + 0.8 * np.cos(2.0 * np.pi * (np.arange(24) - 14) / 24.0)
_HOURLY_SHARES = _HOURLY_WEIGHTS / _HOURLY_WEIGHTS.sum()
_SECONDS_PER_DAY = 86_400


def credit_default_label_fn(frame: pd.DataFrame, *, seed: int = 0) -> np.ndarray:
    """Default outcomes (0/1) for credit requests, from the same model as the training data.

    Uses `governance_pipelines.examples.credit.CREDIT_RISK_MODEL`, so drifted features
    (lower income, higher debt ratio) raise the true default rate after the drift day.
    Deterministic for a given frame and seed.
    """
    return sample_defaults(frame, np.random.default_rng(seed))


def apply_drift(frame: pd.DataFrame, drift: Mapping[str, float], *, seed: int = 0) -> pd.DataFrame:
    """Return a copy of `frame` with the drift described by `drift` applied to every row.

    Keys of `drift` say what to shift and how:

    - `"col"` (or `"col*"`): multiply a numeric column by the value — `0.8` means 20% lower;
    - `"col+"`: add the value to a numeric column — `"interest_rate+": 1.5`;
    - `"col=category"`: switch each row to `category` with probability value (0–1), so the
      category's share becomes `share + value · (1 − share)`.

    Integer columns stay integers (rounded). Unknown columns raise `ValueError`.
    """
    return _apply_drift(frame, drift, np.random.default_rng(seed), np.ones(len(frame), dtype=bool))


def _apply_drift(
    frame: pd.DataFrame,
    drift: Mapping[str, float],
    rng: np.random.Generator,
    rows: np.ndarray,
) -> pd.DataFrame:
    """`apply_drift` restricted to the rows where `rows` is true (dtypes are preserved)."""
    drifted = frame.copy()
    for key, amount in drift.items():
        if "=" in key:
            column, category = key.split("=", 1)
            _require_column(drifted, column, key)
            if not 0.0 <= amount <= 1.0:
                raise ValueError(f"drift {key!r}: a category share shift must be in [0, 1]")
            switch = rows & (rng.random(len(drifted)) < amount)
            values = drifted[column]
            if isinstance(values.dtype, pd.CategoricalDtype) and (
                category not in values.cat.categories
            ):
                values = values.cat.add_categories([category])
            drifted[column] = values.mask(switch, category)
            continue
        additive = key.endswith("+")
        column = key.rstrip("+*")
        _require_column(drifted, column, key)
        values = drifted[column]
        if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            raise ValueError(
                f"drift {key!r}: column {column!r} is not numeric; use '{column}=<category>'"
            )
        original = values.to_numpy(dtype=float)
        shifted = np.where(rows, original + amount if additive else original * amount, original)
        if pd.api.types.is_integer_dtype(values):
            drifted[column] = np.round(shifted).astype(values.dtype)
        else:
            drifted[column] = shifted
    return drifted


def _require_column(frame: pd.DataFrame, column: str, key: str) -> None:
    if column not in frame.columns:
        raise ValueError(
            f"drift {key!r} names column {column!r}, which is not in the feature pool "
            f"(columns: {', '.join(map(str, frame.columns))})"
        )


def simulate_inference_log(
    model_name: str,
    version: int,
    features: pd.DataFrame,
    predict: Callable[[pd.DataFrame], np.ndarray],
    *,
    start: date,
    days: int,
    requests_per_day: int,
    consumer_teams: Sequence[str],
    drift_from_day: int | None = None,
    drift: Mapping[str, float] = _NO_DRIFT,
    label_fn: Callable[[pd.DataFrame], np.ndarray] | None = None,
    label_delay_days: int = 3,
    error_rate: float = 0.005,
    latency_spike_days: Sequence[int] = (),
    seed: int = 0,
) -> pd.DataFrame:
    """Simulate `days` × `requests_per_day` inference requests to one model version.

    Each request samples a row (with replacement) from `features` — pass feature columns
    only, not the label — applies `drift` (see `apply_drift`) when the request falls on day
    `drift_from_day` (0-based, counted from `start`) or later, and is scored by `predict`
    (a probability/score per row; a two-column `predict_proba` output is accepted). Errors
    occur with probability `error_rate` (× 5 on spike days) and have a NaN prediction.
    Day indices in `latency_spike_days` are incident days: every request is ~1.6× slower
    and a third of them ~6× slower, which multiplies the day's p95 several times over.

    When `label_fn` is given it is called once on the (drifted) request features and its
    outcome becomes known `label_delay_days` after each request; outcomes not yet known at
    the end of the simulated window (midnight UTC after the last day) are NaN with a NaT
    `label_at`. Failed requests still get their label: the outcome happens regardless.

    Returns one row per request, sorted by `requested_at`, with exactly the columns in
    `INFERENCE_LOG_COLUMNS`.
    """
    _check_arguments(features, days, requests_per_day, consumer_teams, error_rate, label_delay_days)
    # One independent stream per concern, so that e.g. switching drift on leaves arrival
    # times, teams and latencies unchanged. Each stream's draws must keep their order.
    (rng_time, rng_rows, rng_team, rng_latency, rng_error, rng_drift, rng_id) = (
        np.random.default_rng(seed).spawn(7)
    )
    arrivals = _arrivals(rng_time, rng_team, start, days, requests_per_day, consumer_teams)
    sampled = _request_features(features, arrivals.day, drift_from_day, drift, rng_rows, rng_drift)
    spike = np.isin(arrivals.day, np.asarray(list(latency_spike_days), dtype=int))
    responses = _responses(
        predict, sampled, arrivals.hour, spike, error_rate, rng_latency, rng_error
    )
    labels = _delayed_labels(label_fn, sampled, arrivals, label_delay_days)
    return _log_frame(model_name, version, rng_id, arrivals, sampled, responses, labels)


def _check_arguments(
    features: pd.DataFrame,
    days: int,
    requests_per_day: int,
    consumer_teams: Sequence[str],
    error_rate: float,
    label_delay_days: int,
) -> None:
    """Fail fast with a clear message, before any random draw or model call is made."""
    if days < 1 or requests_per_day < 1:
        raise ValueError("days and requests_per_day must both be at least 1")
    if len(features) == 0:
        raise ValueError("the feature pool is empty; pass at least one feature row")
    if not consumer_teams:
        raise ValueError("consumer_teams must name at least one team")
    if not 0.0 <= error_rate <= 1.0:
        raise ValueError(f"error_rate must be in [0, 1], got {error_rate}")
    if label_delay_days < 0:
        raise ValueError(f"label_delay_days must be >= 0, got {label_delay_days}")


@dataclass(frozen=True)
class _Arrivals:
    """When each request arrived and from whom, in time order (every column follows it)."""

    day: np.ndarray  # 0-based day of the window
    hour: np.ndarray  # UTC hour, which sets the load and so the latency
    requested_at: pd.DatetimeIndex  # UTC, millisecond precision
    consumer_team: np.ndarray
    window_end: pd.Timestamp  # midnight UTC after the last day: the "now" for labels


def _arrivals(
    rng_time: np.random.Generator,
    rng_team: np.random.Generator,
    start: date,
    days: int,
    requests_per_day: int,
    consumer_teams: Sequence[str],
) -> _Arrivals:
    """A fixed number of requests per day, hour by diurnal share, uniform within the hour.

    Fixing the daily count (rather than drawing it) keeps per-day metrics comparable, while
    the hour-of-day mix still gives the monitors a realistic peak and trough.
    """
    n = days * requests_per_day
    day = np.repeat(np.arange(days), requests_per_day)
    hour = rng_time.choice(24, size=n, p=_HOURLY_SHARES)
    seconds = day * _SECONDS_PER_DAY + hour * 3600 + rng_time.uniform(0.0, 3600.0, n)
    order = np.argsort(seconds, kind="stable")
    day, hour, seconds = day[order], hour[order], seconds[order]
    window_start = pd.Timestamp(start)
    window_start = (
        window_start.tz_localize("UTC")
        if window_start.tzinfo is None
        else window_start.tz_convert("UTC")
    )
    return _Arrivals(
        day=day,
        hour=hour,
        requested_at=window_start + pd.to_timedelta(np.round(seconds * 1e3), unit="ms"),
        consumer_team=_consumer_teams(rng_team, consumer_teams, n),
        window_end=window_start + pd.Timedelta(days=days),
    )


def _request_features(
    features: pd.DataFrame,
    day: np.ndarray,
    drift_from_day: int | None,
    drift: Mapping[str, float],
    rng_rows: np.random.Generator,
    rng_drift: np.random.Generator,
) -> pd.DataFrame:
    """Resample the pool per request, then drift only the requests on or after the drift day.

    Drifting the sampled rows (not the pool) lets one request stream straddle the change,
    which is what a drift monitor comparing windows has to detect.
    """
    sampled = features.iloc[rng_rows.integers(0, len(features), len(day))].reset_index(drop=True)
    if drift_from_day is not None and drift:
        sampled = _apply_drift(sampled, drift, rng_drift, day >= drift_from_day)
    return sampled


def _consumer_teams(rng: np.random.Generator, teams: Sequence[str], n: int) -> np.ndarray:
    """Zipf-like usage (weight 1/rank^1.2): real traffic is dominated by a few consumers."""
    team_weights = 1.0 / np.arange(1, len(teams) + 1) ** 1.2
    return np.asarray(list(teams), dtype=object)[
        rng.choice(len(teams), size=n, p=team_weights / team_weights.sum())
    ]


@dataclass(frozen=True)
class _Responses:
    """What the service answered: how fast, whether it failed, and the score if it did not."""

    latency_ms: np.ndarray
    failed: np.ndarray
    prediction: np.ndarray  # NaN where `failed`


def _responses(
    predict: Callable[[pd.DataFrame], np.ndarray],
    sampled: pd.DataFrame,
    hour: np.ndarray,
    spike: np.ndarray,
    error_rate: float,
    rng_latency: np.random.Generator,
    rng_error: np.random.Generator,
) -> _Responses:
    """Latency, failures and scores, with incident days (`spike`) slower and flakier.

    Latency is log-normal and a little slower at peak load; on spike days every request is
    ~1.6× slower and a third of them ~6× slower, so the day's p95 jumps the way it does in
    a real incident. Failed requests keep their latency but carry no prediction.
    """
    n = len(sampled)
    load = _HOURLY_WEIGHTS[hour] / _HOURLY_WEIGHTS.max()
    latency_ms = MEDIAN_LATENCY_MS * np.exp(rng_latency.normal(0.0, LATENCY_SIGMA, n))
    latency_ms *= 0.9 + 0.25 * load
    tail = rng_latency.random(n) < 1.0 / 3.0
    spike_factor = np.where(tail, np.exp(rng_latency.normal(np.log(6.0), 0.5, n)), 1.6)
    latency_ms = np.where(spike, latency_ms * spike_factor, latency_ms).round(2)

    error_probability = np.where(
        spike, min(1.0, error_rate * SPIKE_DAY_ERROR_MULTIPLIER), error_rate
    )
    failed = rng_error.random(n) < error_probability
    prediction = as_scores(predict(sampled), n, "predict")
    return _Responses(
        latency_ms=latency_ms, failed=failed, prediction=np.where(failed, np.nan, prediction)
    )


@dataclass(frozen=True)
class _Labels:
    """Outcomes as known at the end of the window: NaN / NaT until they have arrived."""

    label: np.ndarray
    label_at: pd.DatetimeIndex


def _delayed_labels(
    label_fn: Callable[[pd.DataFrame], np.ndarray] | None,
    sampled: pd.DataFrame,
    arrivals: _Arrivals,
    label_delay_days: int,
) -> _Labels:
    """Labels that arrive `label_delay_days` late, so the newest requests are unlabelled.

    Performance monitors must cope with that gap; `label_fn` sees the drifted features, so
    the outcomes shift along with the inputs.
    """
    n = len(sampled)
    label_at = arrivals.requested_at + pd.Timedelta(days=label_delay_days)
    if label_fn is None:
        label = np.full(n, np.nan)
        label_known = np.zeros(n, dtype=bool)
    else:
        label = as_scores(label_fn(sampled), n, "label_fn")
        label_known = np.asarray(label_at <= arrivals.window_end)
        label = np.where(label_known, label, np.nan)
    return _Labels(label=label, label_at=label_at.where(label_known, pd.NaT))


def _log_frame(
    model_name: str,
    version: int,
    rng_id: np.random.Generator,
    arrivals: _Arrivals,
    sampled: pd.DataFrame,
    responses: _Responses,
    labels: _Labels,
) -> pd.DataFrame:
    """Lay the simulated requests out with the exact columns and dtypes of the log table."""
    n = len(sampled)
    return pd.DataFrame(
        {
            "request_id": uuid_like(rng_id, n),
            "model_name": np.full(n, model_name, dtype=object),
            "model_version": np.full(n, int(version), dtype=np.int64),
            "requested_at": arrivals.requested_at,
            "consumer_team": arrivals.consumer_team,
            "latency_ms": responses.latency_ms.astype(float),
            "status": np.where(responses.failed, "error", "ok").astype(object),
            "features": features_json(sampled),
            "prediction": responses.prediction.astype(float),
            "label": labels.label.astype(float),
            "label_at": labels.label_at,
        },
        columns=list(INFERENCE_LOG_COLUMNS),
    )


def decode_features(log: pd.DataFrame) -> pd.DataFrame:
    """Parse the `features` JSON column of an inference log back into a frame.

    Drift monitors need the request features as columns; JSON keeps the log schema fixed
    whatever the model's inputs are.
    """
    return pd.DataFrame([json.loads(text) for text in log["features"]], index=log.index)
