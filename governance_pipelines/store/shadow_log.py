"""A shadow endpoint's candidate scores, and the side-by-side rows they are compared on.

The gateway's shadow journal may hand the same score over twice (a flush replayed after a
kill), so appends skip request ids already stored. Each score is keyed by the answered
request's id: the production prediction, the shadow prediction and the label that arrives
later for that request meet on it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from governance_pipelines.store.log_appends import LOOKUP_CHUNK
from governance_pipelines.store.schema import inference_labels, inference_log, shadow_predictions

__all__ = ["SHADOW_COLUMNS", "append_shadow_scores", "read_shadow_pairs"]

SHADOW_COLUMNS = tuple(c.name for c in shadow_predictions.columns)
PAIR_COLUMNS = (
    "request_id",
    "endpoint",
    "model_version",
    "production_version",
    "scored_at",
    "status",
    "shadow_prediction",
    "production_prediction",
    "label",
)


def append_shadow_scores(engine: Engine, rows: Sequence[Mapping[str, Any]]) -> int:
    """Insert the scores whose request id is not stored yet, in one transaction; returns
    how many were new."""
    unique = {str(row["request_id"]): row for row in rows}
    if not unique:
        return 0
    with engine.begin() as connection:
        ids = list(unique)
        existing: set[str] = set()
        for start in range(0, len(ids), LOOKUP_CHUNK):
            existing.update(
                connection.execute(
                    sa.select(shadow_predictions.c.request_id).where(
                        shadow_predictions.c.request_id.in_(ids[start : start + LOOKUP_CHUNK])
                    )
                ).scalars()
            )
        new = [
            {**{c: row.get(c) for c in SHADOW_COLUMNS}, "scored_at": _when(row["scored_at"])}
            for request_id, row in unique.items()
            if request_id not in existing
        ]
        if new:
            connection.execute(shadow_predictions.insert(), new)
    return len(new)


def read_shadow_pairs(
    engine: Engine, model_name: str, version: int | None = None, endpoint: str | None = None
) -> pd.DataFrame:
    """One row per shadow score of `model_name` (one version, one endpoint, or all): the
    shadow's and production's predictions of the same request and its label, if known."""
    joined = shadow_predictions.join(
        inference_log, inference_log.c.request_id == shadow_predictions.c.request_id
    ).outerjoin(inference_labels, inference_labels.c.request_id == inference_log.c.request_id)
    query = sa.select(
        shadow_predictions.c.request_id,
        shadow_predictions.c.endpoint,
        shadow_predictions.c.model_version,
        inference_log.c.model_version.label("production_version"),
        shadow_predictions.c.scored_at,
        shadow_predictions.c.status,
        shadow_predictions.c.prediction.label("shadow_prediction"),
        inference_log.c.prediction.label("production_prediction"),
        sa.func.coalesce(inference_labels.c.label, inference_log.c.label).label("label"),
    ).select_from(joined)
    query = query.where(shadow_predictions.c.model_name == model_name)
    if version is not None:
        query = query.where(shadow_predictions.c.model_version == version)
    if endpoint is not None:
        query = query.where(shadow_predictions.c.endpoint == endpoint)
    with engine.connect() as connection:
        rows = connection.execute(query.order_by(shadow_predictions.c.request_id)).all()
    return pd.DataFrame(rows, columns=list(PAIR_COLUMNS))


def _when(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
