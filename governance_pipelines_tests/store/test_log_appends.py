"""The store's atomic, audited appends to the inference log (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from governance_pipelines.store import GovernanceStore
from governance_pipelines.store import log_appends as appends
from governance_pipelines.store.log_appends import LogAppend, LogAppendError, LoggedRequest
from governance_pipelines.store.schema import inference_labels, inference_log

AT = datetime(2026, 3, 1, tzinfo=UTC)


def request(i: int, **overrides: Any) -> dict[str, Any]:
    row = {
        "request_id": f"r{i}",
        "model_name": "credit",
        "model_version": 1,
        "requested_at": AT + timedelta(minutes=i),
        "consumer_team": "lending",
        "latency_ms": 5.0,
        "status": "ok",
        "features": '{"a": 1}',
        "prediction": 0.5,
    }
    row.update(overrides)
    return row


def label(request_id: str, value: float) -> dict[str, Any]:
    return {"request_id": request_id, "model_name": "credit", "label": value, "labeled_at": AT}


def counts(store: GovernanceStore) -> tuple[int, int]:
    with store.engine.connect() as connection:
        return tuple(  # type: ignore[return-value]
            connection.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
            for t in (inference_log, inference_labels)
        )


def append(
    store: GovernanceStore,
    requests: list[dict[str, Any]],
    labels: list[dict[str, Any]] = (),  # type: ignore[assignment]
) -> dict[str, LoggedRequest]:
    """Append what is new; return what the store said was already there."""

    def decide(found: Mapping[str, LoggedRequest]) -> tuple[LogAppend, dict[str, LoggedRequest]]:
        new = [r for r in requests if r["request_id"] not in found]
        return (
            LogAppend(new, list(labels), "credit", {"appended": len(new)}),
            dict(found),
        )

    found, event = store.append_to_inference_log(
        [r["request_id"] for r in requests] + [x["request_id"] for x in labels],
        decide,
        actor="tester",
        action="inference.ingested",
    )
    assert event.payload["appended"] == len([r for r in requests if r["request_id"] not in found])
    return found


def test_appends_commit_with_their_event_and_lookups_see_labels(store: GovernanceStore) -> None:
    before = store.audit_event_count()
    assert append(store, [request(i) for i in range(5)], [label("r1", 1.0)]) == {}
    assert counts(store) == (5, 1)
    assert store.audit_event_count() == before + 1
    (event,) = store.recent_events(action="inference.ingested")
    assert (event.actor, event.model_name, event.payload) == ("tester", "credit", {"appended": 5})
    found = append(store, [request(i) for i in range(3, 7)])
    assert found == {
        "r3": LoggedRequest("credit", 1, None),
        "r4": LoggedRequest("credit", 1, None),
    }
    assert counts(store) == (7, 1)
    with store.engine.connect() as connection:
        seen = appends.logged_requests(connection, ["r1", "r2", "nope", "r1"])
    assert seen == {"r1": LoggedRequest("credit", 1, 1.0), "r2": LoggedRequest("credit", 1, None)}
    assert store.verify_audit_chain().ok


def test_lookups_are_chunked(store: GovernanceStore, monkeypatch: pytest.MonkeyPatch) -> None:
    append(store, [request(i) for i in range(23)])
    monkeypatch.setattr(appends, "LOOKUP_CHUNK", 4)
    with store.engine.connect() as connection:
        seen = appends.logged_requests(connection, [f"r{i}" for i in range(0, 40, 2)])
    assert sorted(seen) == sorted(f"r{i}" for i in range(0, 23, 2))


def test_a_constraint_failure_midway_writes_nothing(store: GovernanceStore) -> None:
    """The requests go in, then a label repeats a request id: nothing stays, no event."""
    before = store.audit_event_count()
    with pytest.raises(LogAppendError, match="nothing of it was written"):
        append(store, [request(i) for i in range(5)], [label("r1", 1.0), label("r1", 0.0)])
    assert counts(store) == (0, 0)
    assert store.audit_event_count() == before
    with pytest.raises(LogAppendError, match="run the ingestion again"):
        append(store, [request(1), request(2), request(1)])
    assert counts(store) == (0, 0)
    assert store.audit_event_count() == before


def test_values_past_the_columns_are_refused_where_the_database_checks(
    store: GovernanceStore,
) -> None:
    """PostgreSQL enforces VARCHAR(64): the batch is refused whole. (SQLite does not check
    lengths, which is why the ingestion rejects such rows itself: `value_too_long`.)"""
    if store.engine.dialect.name != "postgresql":
        pytest.skip("SQLite does not enforce column lengths")
    with pytest.raises(LogAppendError, match="nothing of it was written"):
        append(store, [request(1), request(2, request_id="x" * 65)])
    assert counts(store) == (0, 0)
