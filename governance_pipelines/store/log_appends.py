"""Appending a file's worth of requests or labels to the inference log: one transaction each.

Teams that serve their own models hand the log over in files (`governance log ingest`,
`governance labels ingest`). Such a file is re-sent after a timeout, or overlaps the previous
day's export, so an append must be idempotent on `request_id`, and it must be atomic: a
half-written file would be sealed and monitored as if it were the whole day.

So the store offers one operation: look up which of a batch's request ids are already logged
(and which already have a label), let the caller decide what to append from that answer,
then insert the rows and the audit event that records the ingestion, all in one
transaction. The lookup and the inserts share the transaction (serialised with every other
writer of the store, see `GovernanceStore.transaction`), so two runs of the same file cannot
both append it. What to append is domain logic (validation rules, a model's task) and stays
with the caller (`operations/log_ingestion.py`); touching the tables stays here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from governance_pipelines.store import audit
from governance_pipelines.store.errors import StoreError
from governance_pipelines.store.schema import inference_labels, inference_log

# Ids per `IN (...)` lookup: a million-row file becomes 200 indexed lookups, never one
# statement with a million parameters (SQLite allows 32,766; psycopg2 builds the text).
LOOKUP_CHUNK = 5_000
_INSERT_BATCH = 5_000
_ACTOR_LIMIT = 64  # audit_log.actor
T = TypeVar("T")

REQUEST_COLUMNS: tuple[str, ...] = tuple(
    c.name for c in inference_log.columns if c.name not in ("label", "label_at", "logged_at")
)
LABEL_COLUMNS: tuple[str, ...] = ("request_id", "model_name", "label", "labeled_at")


class LogAppendError(StoreError):
    """The database refused the batch (a constraint); nothing of it was written."""


@dataclass(frozen=True)
class LoggedRequest:
    """What the log already holds for one request id."""

    model_name: str
    model_version: int
    label: float | None  # its recorded ground truth, if any


@dataclass(frozen=True)
class LogAppend:
    """The rows one ingestion appends, and the payload of the audit event recording it.

    `requests` are rows with `REQUEST_COLUMNS`; `labels` rows with `LABEL_COLUMNS`.
    """

    requests: Sequence[Mapping[str, Any]] = ()
    labels: Sequence[Mapping[str, Any]] = ()
    model_name: str | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)


def logged_requests(
    connection: sa.Connection, request_ids: Iterable[str]
) -> dict[str, LoggedRequest]:
    """The requests among `request_ids` that are in the log, with their label if any.

    Looked up `LOOKUP_CHUNK` ids at a time through the primary keys. A label may be its own
    record (`inference_labels`) or, for rows written before that table existed, a column of
    the request; the record wins, as it does for every reader of the log.
    """
    ids = list(dict.fromkeys(request_ids))
    joined = inference_log.outerjoin(
        inference_labels, inference_labels.c.request_id == inference_log.c.request_id
    )
    found: dict[str, LoggedRequest] = {}
    for start in range(0, len(ids), LOOKUP_CHUNK):
        chunk = ids[start : start + LOOKUP_CHUNK]
        rows = connection.execute(
            sa.select(
                inference_log.c.request_id,
                inference_log.c.model_name,
                inference_log.c.model_version,
                sa.func.coalesce(inference_labels.c.label, inference_log.c.label).label("label"),
            )
            .select_from(joined)
            .where(inference_log.c.request_id.in_(chunk))
        )
        for row in rows:
            label = None if row.label is None else float(row.label)
            found[row.request_id] = LoggedRequest(row.model_name, int(row.model_version), label)
    return found


class LogAppendsMixin:
    """Idempotent, atomic, audited appends of requests and labels."""

    # Provided by GovernanceStore (repository.py), which this class is mixed into.
    engine: Engine
    unit_of_work: Callable[[Callable[[sa.Connection], Any]], Any]

    def append_to_inference_log(
        self,
        request_ids: Sequence[str],
        decide: Callable[[Mapping[str, LoggedRequest]], tuple[LogAppend, T]],
        *,
        actor: str,
        action: str,
    ) -> tuple[T, audit.AuditEvent]:
        """Look up `request_ids`, append what `decide` returns and its audit event, atomically.

        `decide` gets the requests already logged (see `logged_requests`) and returns the
        rows to append plus whatever its caller wants back. It runs inside the transaction
        and may run again when the database is briefly locked, so it must be pure.
        Either every row and the event commit, or nothing does (`LogAppendError`).
        """

        def work(connection: sa.Connection) -> tuple[T, audit.AuditEvent]:
            append, outcome = decide(logged_requests(connection, request_ids))
            _insert(connection, inference_log, append.requests, REQUEST_COLUMNS)
            _insert(connection, inference_labels, append.labels, LABEL_COLUMNS)
            event = audit.append_event(
                connection,
                actor=actor[:_ACTOR_LIMIT] or "<empty>",
                action=action,
                model_name=append.model_name,
                payload=append.payload,
            )
            return outcome, event

        try:
            result: tuple[T, audit.AuditEvent] = self.unit_of_work(work)
        except (sa.exc.IntegrityError, sa.exc.DataError) as error:
            first = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
            raise LogAppendError(
                f"the store refused the batch ({first}); nothing of it was written. If another "
                "writer logged some of these request ids meanwhile, run the ingestion again: "
                "it skips what is already there"
            ) from None
        return result


def _insert(
    connection: sa.Connection,
    table: sa.Table,
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
) -> None:
    """Insert in batches (one statement per batch keeps drivers' parameter lists bounded)."""
    for start in range(0, len(rows), _INSERT_BATCH):
        batch = [{c: row[c] for c in columns} for row in rows[start : start + _INSERT_BATCH]]
        connection.execute(table.insert(), batch)
