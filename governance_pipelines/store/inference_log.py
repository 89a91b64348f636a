"""The inference log: one row per prediction request, in a plain SQL table.

Serving systems write this schema directly (it is the contract between them and the
monitors); the demo's traffic simulator writes the same rows. Reads are chunked so
monitoring memory stays bounded as the log grows.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from governance_pipelines.store.schema import inference_log

COLUMNS = tuple(column.name for column in inference_log.columns)
_REQUIRED = ("request_id", "model_name", "model_version", "requested_at", "consumer_team", "status")
_WRITE_BATCH = 5_000


class InferenceLogError(Exception):
    """Rows that cannot go into the inference log; nothing of the batch was written."""


def write_inference_log(engine: Engine, frame: pd.DataFrame) -> int:
    """Append requests in one transaction: either every row lands or none does."""
    missing = [column for column in COLUMNS if column not in frame.columns]
    if missing:
        raise InferenceLogError(
            f"inference log rows lack column(s) {', '.join(missing)}; expected exactly {', '.join(COLUMNS)}"
        )
    nulls = [column for column in _REQUIRED if frame[column].isna().any()]
    if nulls:
        raise InferenceLogError(f"inference log column(s) {', '.join(nulls)} must not be null")
    records = _records(frame[list(COLUMNS)])
    try:
        with engine.begin() as connection:
            for start in range(0, len(records), _WRITE_BATCH):
                connection.execute(inference_log.insert(), records[start : start + _WRITE_BATCH])
    except sa.exc.IntegrityError as error:
        raise InferenceLogError(
            "some request_id values are already in the inference log; request ids must be unique "
            f"(nothing of this batch was written): {str(error.orig).splitlines()[0]}"
        ) from None
    return len(records)


def iter_inference_log(
    engine: Engine,
    model_name: str,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    chunk_rows: int = 50_000,
) -> Iterator[pd.DataFrame]:
    """Requests of one model in [start, end), in time order, `chunk_rows` at a time."""
    query = sa.select(inference_log).where(inference_log.c.model_name == model_name)
    if start is not None:
        query = query.where(inference_log.c.requested_at >= start)
    if end is not None:
        query = query.where(inference_log.c.requested_at < end)
    query = query.order_by(inference_log.c.requested_at, inference_log.c.request_id)
    with engine.connect() as connection:
        result = connection.execution_options(stream_results=True, yield_per=chunk_rows).execute(
            query
        )
        for partition in result.partitions(chunk_rows):
            frame = pd.DataFrame(partition, columns=list(COLUMNS))
            for column in ("requested_at", "label_at"):
                frame[column] = pd.to_datetime(frame[column], utc=True)
            yield frame


def read_inference_log(
    engine: Engine, model_name: str, *, start: datetime | None = None, end: datetime | None = None
) -> pd.DataFrame:
    chunks = list(iter_inference_log(engine, model_name, start=start, end=end))
    return pd.concat(chunks, ignore_index=True) if chunks else pd.DataFrame(columns=list(COLUMNS))


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    converted = frame.astype(object).where(frame.notna(), None)
    records = converted.to_dict("records")
    for record in records:
        for column in ("requested_at", "label_at"):
            value = record[column]
            if isinstance(value, pd.Timestamp):
                record[column] = value.to_pydatetime()
        record["model_version"] = int(record["model_version"])
    return records
