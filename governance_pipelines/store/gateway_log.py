"""The gateway's side of the inference log: idempotent batch appends and request owners.

The gateway's journal may hand the same request to the log twice (a flush that committed
just before the process was killed is replayed at the next start), so its appends skip
request ids the log already holds. No audit event per batch: a flush runs several times a
second, and the log is sealed into the chain by day (`seal_inference_day`) like any other
writer's rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from governance_pipelines.store.log_appends import LOOKUP_CHUNK, REQUEST_COLUMNS
from governance_pipelines.store.schema import inference_log

__all__ = ["append_new_requests", "request_owners"]


def _existing(connection: sa.Connection, ids: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(ids), LOOKUP_CHUNK):
        chunk = ids[start : start + LOOKUP_CHUNK]
        found.update(
            connection.execute(
                sa.select(inference_log.c.request_id).where(inference_log.c.request_id.in_(chunk))
            ).scalars()
        )
    return found


def append_new_requests(engine: Engine, rows: Sequence[Mapping[str, Any]]) -> int:
    """Insert the rows whose request id is not logged yet, in one transaction; returns how
    many were new."""
    if not rows:
        return 0
    unique = {str(row["request_id"]): row for row in rows}
    with engine.begin() as connection:
        existing = _existing(connection, list(unique))
        new = [
            {column: row.get(column) for column in REQUEST_COLUMNS}
            for request_id, row in unique.items()
            if request_id not in existing
        ]
        if new:
            connection.execute(inference_log.insert(), new)
    return len(new)


def request_owners(engine: Engine, request_ids: Iterable[str]) -> dict[str, tuple[str, str]]:
    """(model, consumer team) of each logged request among `request_ids`."""
    ids = list(dict.fromkeys(request_ids))
    owners: dict[str, tuple[str, str]] = {}
    with engine.connect() as connection:
        for start in range(0, len(ids), LOOKUP_CHUNK):
            rows = connection.execute(
                sa.select(
                    inference_log.c.request_id,
                    inference_log.c.model_name,
                    inference_log.c.consumer_team,
                ).where(inference_log.c.request_id.in_(ids[start : start + LOOKUP_CHUNK]))
            )
            owners.update({r.request_id: (r.model_name, r.consumer_team) for r in rows})
    return owners
