"""Usage per model, version, consumer team and UTC day: the rows of `usage_records`.

Why: the framework asks for usage reports per model, per consumer and per team, and
adoption over time; cost showback/chargeback splits serving cost by the same counts.
Rolling the log up to one row per (model, version, team, day) keeps those reports cheap
and keeps the table's unique key (`uq_usage_records_key`) the natural upsert key.

An error is any status other than ``'ok'``, the same definition the SLA report uses, so
the two never disagree about a day's failures.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from governance_pipelines.operations.sla import utc_days

__all__ = ["USAGE_COLUMNS", "UsageInputError", "usage_by_consumer"]

USAGE_COLUMNS: tuple[str, ...] = (
    "model_name",
    "version",
    "consumer_team",
    "day",
    "requests",
    "errors",
    "latency_ms_sum",
    "latency_ms_p95",
)
_REQUIRED = ("model_name", "model_version", "consumer_team", "requested_at", "status")


class UsageInputError(ValueError):
    """The frame cannot be rolled up (missing columns or rows without a key)."""


def usage_by_consumer(frame: pd.DataFrame) -> pd.DataFrame:
    """Requests and errors per (model_name, version, consumer_team, day).

    Returns a frame with exactly `USAGE_COLUMNS` (``day`` as `datetime.date`, counts as
    int64), sorted by the key, ready to insert into `usage_records` (add ``created_at``).
    Rows with a null key would be silently lost by a group-by, so they raise instead:
    validate the batch with `operations.ingestion.validate_inference_batch` first.
    """
    missing = [column for column in _REQUIRED if column not in frame.columns]
    if missing:
        raise UsageInputError(
            f"usage roll-up needs inference-log column(s) {', '.join(missing)}; "
            f"got {', '.join(map(str, frame.columns)) or 'no columns'}"
        )
    if frame.empty:
        return pd.DataFrame(
            {
                "model_name": pd.Series(dtype=object),
                "version": pd.Series(dtype="int64"),
                "consumer_team": pd.Series(dtype=object),
                "day": pd.Series(dtype=object),
                "requests": pd.Series(dtype="int64"),
                "errors": pd.Series(dtype="int64"),
                "latency_ms_sum": pd.Series(dtype="float64"),
                "latency_ms_p95": pd.Series(dtype="float64"),
            }
        )
    keys = pd.DataFrame(
        {
            "model_name": frame["model_name"].to_numpy(dtype=object),
            "version": pd.to_numeric(frame["model_version"], errors="coerce").to_numpy(),
            "consumer_team": frame["consumer_team"].to_numpy(dtype=object),
            "day": utc_days(frame["requested_at"]).to_numpy(dtype=object),
        }
    )
    null_keys = keys.isna().any(axis=1)
    if null_keys.any():
        columns = [c for c in keys.columns if keys[c].isna().any()]
        raise UsageInputError(
            f"{int(null_keys.sum())} row(s) have a null or unparsable {', '.join(columns)}; "
            "validate the batch with operations.ingestion.validate_inference_batch first"
        )
    keys["requests"] = np.ones(len(keys), dtype=np.int64)
    keys["errors"] = (frame["status"].to_numpy(dtype=object) != "ok").astype(np.int64)
    latency = (
        pd.to_numeric(frame["latency_ms"], errors="coerce").to_numpy(dtype=float)
        if "latency_ms" in frame.columns
        else np.full(len(keys), np.nan)
    )
    keys["latency_ms_sum"] = latency
    keys["latency_ms_p95"] = latency
    grouped = keys.groupby(["model_name", "version", "consumer_team", "day"], sort=True)
    usage = grouped[["requests", "errors"]].sum()
    # min_count=1: a group without any measured latency is unknown, not 0 ms.
    usage["latency_ms_sum"] = grouped["latency_ms_sum"].sum(min_count=1)
    usage["latency_ms_p95"] = grouped["latency_ms_p95"].quantile(0.95)
    usage = usage.reset_index()
    usage["version"] = usage["version"].astype("int64")
    return usage[list(USAGE_COLUMNS)].reset_index(drop=True)
