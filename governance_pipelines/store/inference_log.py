"""The inference log: one row per prediction request, in a plain SQL table.

Serving systems write this schema directly (it is the contract between them and the
monitors); the demo's traffic simulator writes the same rows. Reads are chunked so
monitoring memory stays bounded as the log grows.

Ground truth is its own append-only record (`inference_labels`), never an update of a
logged request: a label that arrives with the request is stored there too. Readers see
the label joined back onto its request. Both tables are sealed per model and day (see
`seal_day`): the digest of the rows that had arrived goes into the audit chain, and the
nightly audit re-computes every seal.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from governance_pipelines.canonical import canonical_json
from governance_pipelines.store import audit
from governance_pipelines.store._time import _utc
from governance_pipelines.store.schema import arrival_time, inference_labels, inference_log

# The contract's columns, in order (`logged_at` is set by the database, not by writers).
COLUMNS = tuple(column.name for column in inference_log.columns if column.name != "logged_at")
_LOG_ONLY = tuple(c for c in COLUMNS if c not in ("label", "label_at"))
_REQUIRED = ("request_id", "model_name", "model_version", "requested_at", "consumer_team", "status")
_WRITE_BATCH = 5_000
SEALED_ACTION = "inference_log.sealed"


class InferenceLogError(Exception):
    """Rows that cannot go into the inference log; nothing of the batch was written."""


def write_inference_log(engine: Engine, frame: pd.DataFrame) -> int:
    """Append requests in one transaction: either every row lands or none does.

    Labels present in the batch (`label`, `label_at`) are written as label records.
    """
    missing = [column for column in COLUMNS if column not in frame.columns]
    if missing:
        raise InferenceLogError(
            f"inference log rows lack column(s) {', '.join(missing)}; expected exactly {', '.join(COLUMNS)}"
        )
    nulls = [column for column in _REQUIRED if frame[column].isna().any()]
    if nulls:
        raise InferenceLogError(f"inference log column(s) {', '.join(nulls)} must not be null")
    records = _records(frame[list(COLUMNS)])
    labels = [
        {
            "request_id": r["request_id"],
            "model_name": r["model_name"],
            "label": float(r["label"]),
            "labeled_at": r["label_at"] or r["requested_at"],
        }
        for r in records
        if r["label"] is not None
    ]
    rows = [{column: r[column] for column in _LOG_ONLY} for r in records]
    try:
        with engine.begin() as connection:
            for start in range(0, len(rows), _WRITE_BATCH):
                connection.execute(inference_log.insert(), rows[start : start + _WRITE_BATCH])
            for start in range(0, len(labels), _WRITE_BATCH):
                connection.execute(inference_labels.insert(), labels[start : start + _WRITE_BATCH])
    except sa.exc.IntegrityError as error:
        raise InferenceLogError(
            "some request_id values are already in the inference log; request ids must be unique "
            f"(nothing of this batch was written): {str(error.orig).splitlines()[0]}"
        ) from None
    return len(records)


def record_labels(engine: Engine, frame: pd.DataFrame) -> int:
    """Append late ground truth (`request_id`, `label`, optional `labeled_at`); atomic.

    A request's label is recorded once: the same label again is skipped (re-sending a file
    is harmless), a different one is refused — a correction would rewrite history that
    monitoring already reported on. Returns the number of labels added.
    """
    for column in ("request_id", "label"):
        if column not in frame.columns:
            raise InferenceLogError(f"label rows lack column {column!r}")
    if frame["request_id"].isna().any() or frame["label"].isna().any():
        raise InferenceLogError("label rows must have a request_id and a label")
    if frame["request_id"].duplicated().any():
        dupes = ", ".join(map(str, frame.loc[frame["request_id"].duplicated(), "request_id"][:5]))
        raise InferenceLogError(f"request ids appear twice in the labels: {dupes}")
    now = datetime.now(UTC)
    wanted = [str(r) for r in frame["request_id"]]
    values = dict(zip(wanted, frame["label"].astype(float), strict=True))
    labeled = pd.to_datetime(frame["labeled_at"], utc=True) if "labeled_at" in frame else None
    with engine.begin() as connection:
        known: dict[str, str] = {}
        recorded: dict[str, float] = {}
        for start in range(0, len(wanted), _WRITE_BATCH):
            chunk = wanted[start : start + _WRITE_BATCH]
            known.update(
                connection.execute(
                    sa.select(inference_log.c.request_id, inference_log.c.model_name).where(
                        inference_log.c.request_id.in_(chunk)
                    )
                )
                .tuples()  # typing only: (request_id, model_name) pairs
                .all()
            )
            recorded.update(
                connection.execute(
                    sa.select(inference_labels.c.request_id, inference_labels.c.label).where(
                        inference_labels.c.request_id.in_(chunk)
                    )
                )
                .tuples()  # typing only: (request_id, label) pairs
                .all()
            )
        unknown = [r for r in wanted if r not in known]
        if unknown:
            raise InferenceLogError(
                f"{len(unknown)} label(s) name requests that are not in the inference log "
                f"(e.g. {', '.join(unknown[:3])}); log the requests first (nothing was written)"
            )
        conflicting = [r for r in wanted if r in recorded and recorded[r] != values[r]]
        if conflicting:
            raise InferenceLogError(
                f"{len(conflicting)} request(s) already have a different label (e.g. "
                f"{', '.join(conflicting[:3])}); labels are append-only (nothing was written)"
            )
        rows = [
            {
                "request_id": request_id,
                "model_name": known[request_id],
                "label": values[request_id],
                "labeled_at": (
                    labeled.iloc[position].to_pydatetime()
                    if labeled is not None and not pd.isna(labeled.iloc[position])
                    else now
                ),
            }
            for position, request_id in enumerate(wanted)
            if request_id not in recorded
        ]
        for start in range(0, len(rows), _WRITE_BATCH):
            connection.execute(inference_labels.insert(), rows[start : start + _WRITE_BATCH])
    return len(rows)


def iter_inference_log(
    engine: Engine,
    model_name: str,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    chunk_rows: int = 50_000,
) -> Iterator[pd.DataFrame]:
    """Requests of one model in [start, end), in time order, `chunk_rows` at a time."""
    joined = inference_log.outerjoin(
        inference_labels, inference_labels.c.request_id == inference_log.c.request_id
    )
    columns = [
        sa.func.coalesce(inference_labels.c.label, inference_log.c.label).label(name)
        if name == "label"
        else sa.func.coalesce(inference_labels.c.labeled_at, inference_log.c.label_at).label(name)
        if name == "label_at"
        else inference_log.c[name]
        for name in COLUMNS
    ]
    query = sa.select(*columns).select_from(joined).where(inference_log.c.model_name == model_name)
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


# --- seals ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seal:
    """The digest of one model-day's rows and labels that arrived in (after, through]."""

    model_name: str
    day: str  # ISO date of the requests (UTC)
    after: str | None  # previous seal's `through`, ISO; None for the day's first seal
    through: str
    rows: int
    labels: int
    sha256: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "day": self.day,
            "after": self.after,
            "through": self.through,
            "rows": self.rows,
            "labels": self.labels,
            "sha256": self.sha256,
        }

    @classmethod
    def from_event(cls, event: audit.AuditEvent) -> Seal:
        p = event.payload
        return cls(
            str(event.model_name),
            p["day"],
            p["after"],
            p["through"],
            int(p["rows"]),
            int(p["labels"]),
            p["sha256"],
        )


def _slice(column: sa.Column[Any], after: datetime | None, through: datetime) -> Any:
    return sa.and_(column > after, column <= through) if after else column <= through


def _day_bounds(day: str) -> tuple[datetime, datetime]:
    start = datetime.fromisoformat(day).replace(tzinfo=UTC)
    return start, start + pd.Timedelta(days=1).to_pytimedelta()


def _value(value: Any) -> Any:
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).isoformat(timespec="microseconds")
    return value


def slice_digest(
    connection: sa.Connection,
    model_name: str,
    day: str,
    after: datetime | None,
    through: datetime,
) -> tuple[int, int, str]:
    """(rows, labels, sha256) of a model-day's rows and labels that arrived in (after, through].

    Rows in request-id order, then labels in request-id order; streamed, so memory stays
    flat however large the day.
    """
    start, end = _day_bounds(day)
    digest = hashlib.sha256()
    of_day = sa.and_(
        inference_log.c.model_name == model_name,
        inference_log.c.requested_at >= start,
        inference_log.c.requested_at < end,
    )
    counts = []
    for query in (
        sa.select(*[inference_log.c[c] for c in _LOG_ONLY])
        .where(of_day, _slice(inference_log.c.logged_at, after, through))
        .order_by(inference_log.c.request_id),
        sa.select(
            inference_labels.c.request_id, inference_labels.c.label, inference_labels.c.labeled_at
        )
        .select_from(
            inference_labels.join(
                inference_log, inference_log.c.request_id == inference_labels.c.request_id
            )
        )
        .where(of_day, _slice(inference_labels.c.logged_at, after, through))
        .order_by(inference_labels.c.request_id),
    ):
        count = 0
        # Options on the statement, not the connection: the seal's event is appended on
        # this same connection, and must not run through a server-side cursor.
        result = connection.execute(
            query, execution_options={"stream_results": True, "yield_per": _WRITE_BATCH}
        )
        for row in result:
            digest.update(canonical_json([_value(v) for v in row]).encode("utf-8"))
            digest.update(b"\n")
            count += 1
        digest.update(b"--\n")
        counts.append(count)
    return counts[0], counts[1], digest.hexdigest()


def seal_day(connection: sa.Connection, model_name: str, day: str, *, actor: str) -> Seal | None:
    """Seal what arrived for a model-day since its last seal; None when nothing new came.

    Runs inside the store's write transaction (which holds the audit chain), so the seal and
    its event commit together. The database's clock (the one `logged_at` is set by) bounds
    the slice: rows that arrive later go into the next seal rather than breaking this one.
    """
    now = _utc(connection.execute(sa.select(arrival_time())).scalar_one())
    previous = latest_seal(connection, model_name, day)
    after = datetime.fromisoformat(previous.through) if previous else None
    rows, labels, sha256 = slice_digest(connection, model_name, day, after, now)
    if rows == 0 and labels == 0:
        return None
    seal = Seal(
        model_name, day, _value(after) if after else None, _value(now), rows, labels, sha256
    )
    audit.append_event(
        connection,
        actor=actor,
        action=SEALED_ACTION,
        model_name=model_name,
        payload=seal.to_dict(),
    )
    return seal


def latest_seal(connection: sa.Connection, model_name: str, day: str) -> Seal | None:
    found = None
    for event in audit.events_with_action(connection, SEALED_ACTION):
        if event.model_name == model_name and event.payload.get("day") == day:
            found = Seal.from_event(event)
    return found


def verify_seals(connection: sa.Connection) -> tuple[int, list[str]]:
    """(seals checked, problems): every sealed slice recomputed from the rows there now."""
    checked = 0
    problems: list[str] = []
    for event in audit.events_with_action(connection, SEALED_ACTION):
        seal = Seal.from_event(event)
        after = datetime.fromisoformat(seal.after) if seal.after else None
        rows, labels, sha256 = slice_digest(
            connection, seal.model_name, seal.day, after, datetime.fromisoformat(seal.through)
        )
        checked += 1
        if sha256 == seal.sha256:
            continue
        counts = (
            f"{seal.rows} requests and {seal.labels} labels were sealed, "
            f"{rows} and {labels} are there now"
        )
        if (rows, labels) == (seal.rows, seal.labels):
            counts = (
                f"the same {rows} requests and {labels} labels are there but their content changed"
            )
        problems.append(
            f"tampered: the inference log of {seal.model_name} on {seal.day} (arrived up to "
            f"{seal.through[:19]}) no longer matches its seal, audit event #{event.seq}: {counts}"
        )
    return checked, problems
