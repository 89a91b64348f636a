"""Endpoint and token rows on SQLite and PostgreSQL: changed only through their record family,
each change bound to its audit event, never removed, never trusted when forged."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from governance_pipelines.compliance.integrity import verify_store
from governance_pipelines.store import GovernanceStore, StoreError, UnknownRecordError
from governance_pipelines.store.endpoint_records import EndpointRecord
from governance_pipelines.store.errors import RecordIntegrityError
from governance_pipelines.store.immutability import is_immutability_violation

SETTINGS: dict[str, Any] = {
    "model_name": "credit",
    "stage": "production",
    "candidate_version": None,
    "mode": "live",
    "traffic_share": None,
    "allowed_teams": ["risk", "web"],
    "rate_limit_per_minute": 600,
}
EXPIRES = datetime(2099, 1, 1, tzinfo=UTC)


def issue(store: GovernanceStore, token_id: str = "gpt_0000abcd", secret: str = "s") -> str:
    digest = hashlib.sha256(secret.encode()).hexdigest()
    store.issue_token(
        token_id=token_id,
        token_sha256=digest,
        team="risk",
        endpoint_names=["credit-api"],
        expires_at=EXPIRES,
        actor="frank",
    )
    return digest


def test_an_endpoint_round_trips_and_lists(store: GovernanceStore) -> None:
    created = store.create_endpoint("credit-api", SETTINGS, actor="frank")
    assert created.settings() == SETTINGS
    assert created.allowed_teams == ("risk", "web")
    assert (created.created_by, created.deleted) == ("frank", False)
    assert created.created_at.tzinfo is not None
    assert store.get_endpoint("credit-api") == created
    assert store.get_endpoint("nope") is None
    assert [e.name for e in store.list_endpoints()] == ["credit-api"]
    assert EndpointRecord.from_dict(created.to_dict()) == created


def test_every_change_is_an_event_with_before_and_after(store: GovernanceStore) -> None:
    created = store.create_endpoint("credit-api", SETTINGS, actor="frank")
    updated = store.update_endpoint("credit-api", {"rate_limit_per_minute": 60}, actor="frank")
    assert updated.rate_limit_per_minute == 60
    assert updated.updated_at >= created.updated_at
    events = store.recent_events(model_name="credit")
    assert [e.action for e in events] == ["endpoint.created", "endpoint.updated"]
    creation, change = events[0].payload, events[1].payload
    assert creation["before"] is None
    assert creation["after"]["rate_limit_per_minute"] == 600
    assert change["before"]["rate_limit_per_minute"] == 600
    assert change["after"]["rate_limit_per_minute"] == 60
    assert change["after"]["updated_at"] == updated.to_dict()["updated_at"]
    # The row is rebound to its latest event: the whole store still verifies.
    report = verify_store(store, files=False)
    assert report.passed, report.problems


def test_a_deleted_endpoint_is_kept_marked_deleted(store: GovernanceStore) -> None:
    store.create_endpoint("credit-api", SETTINGS, actor="frank")
    deleted = store.delete_endpoint("credit-api", actor="frank")
    assert deleted.deleted
    assert deleted.deleted_by == "frank"
    assert store.get_endpoint("credit-api") is None
    kept = store.get_endpoint("credit-api", include_deleted=True)
    assert kept is not None
    assert kept.deleted_at == deleted.deleted_at
    assert store.list_endpoints() == []
    assert [e.name for e in store.list_endpoints(include_deleted=True)] == ["credit-api"]
    assert store.recent_events(action="endpoint.deleted")[0].payload["after"]["deleted_by"] == (
        "frank"
    )
    with pytest.raises(StoreError, match="was deleted"):
        store.update_endpoint("credit-api", {"rate_limit_per_minute": 1}, actor="frank")
    with pytest.raises(UnknownRecordError, match="no endpoint 'other'"):
        store.delete_endpoint("other", actor="frank")
    assert verify_store(store, files=False).passed


@pytest.mark.parametrize("table", ["endpoints", "api_tokens"])
def test_the_database_refuses_to_remove_rows(store: GovernanceStore, table: str) -> None:
    store.create_endpoint("credit-api", SETTINGS, actor="frank")
    issue(store)
    with pytest.raises(sa.exc.DBAPIError) as refused, store.engine.begin() as connection:
        connection.exec_driver_sql(f"DELETE FROM {table}")
    assert is_immutability_violation(refused.value)
    if store.engine.dialect.name == "postgresql":
        with pytest.raises(sa.exc.DBAPIError) as truncated, store.engine.begin() as connection:
            connection.exec_driver_sql(f"TRUNCATE {table}")
        assert is_immutability_violation(truncated.value)


def test_tokens_issue_list_revoke(store: GovernanceStore) -> None:
    digest = issue(store)
    [listed] = store.list_tokens()
    assert (listed.token_id, listed.team, listed.endpoints) == (
        "gpt_0000abcd",
        "risk",
        ("credit-api",),
    )
    assert listed.expires_at == EXPIRES
    assert listed.status(datetime(2030, 1, 1, tzinfo=UTC)) == "active"
    assert listed.status(EXPIRES) == "expired"
    assert digest not in repr(listed)
    assert digest not in str(listed.to_dict())
    found = store.token_by_hash(digest)
    assert found is not None
    assert found.token_sha256 == digest
    assert store.token_by_hash("0" * 64) is None

    revoked = store.revoke_token("gpt_0000abcd", actor="frank")
    assert revoked.revoked_by == "frank"
    assert revoked.status(datetime(2030, 1, 1, tzinfo=UTC)) == "revoked"
    with pytest.raises(StoreError, match="already revoked"):
        store.revoke_token("gpt_0000abcd", actor="frank")
    with pytest.raises(UnknownRecordError):
        store.revoke_token("gpt_ffffffff", actor="frank")
    events = store.recent_events(action="token.revoked")
    assert events[0].payload["before"]["revoked_at"] is None
    assert events[0].payload["after"]["revoked_by"] == "frank"
    for event in store.recent_events(limit=100):
        assert digest not in str(event.payload)
    assert verify_store(store, files=False).passed


def test_a_token_row_written_outside_the_api_authenticates_nothing(
    store: GovernanceStore,
) -> None:
    issue(store)  # a genuine one, which still lists
    forged = hashlib.sha256(b"forged").hexdigest()
    later = datetime.now(UTC) + timedelta(days=1)
    with store.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO api_tokens (token_id, token_sha256, team, endpoints, created_by, "
                "created_at, expires_at) VALUES ('gpt_12345678', :h, 'risk', '[\"credit-api\"]', "
                "'mallory', :at, :at)"
            ),
            {"h": forged, "at": later},
        )
    with pytest.raises(RecordIntegrityError, match="token 'gpt_12345678' cannot be trusted"):
        store.token_by_hash(forged)
    assert [t.token_id for t in store.list_tokens()] == ["gpt_0000abcd"]
    report = verify_store(store, files=False)
    assert any(p.startswith("forged: api_tokens row gpt_12345678") for p in report.problems)


def test_an_edited_endpoint_is_not_used(store: GovernanceStore) -> None:
    store.create_endpoint("credit-api", SETTINGS, actor="frank")
    with store.engine.begin() as connection:
        connection.exec_driver_sql(
            'UPDATE endpoints SET allowed_teams = \'["risk","web","mallory"]\''
        )
    with pytest.raises(RecordIntegrityError, match="endpoint 'credit-api' cannot be trusted"):
        store.get_endpoint("credit-api")
    assert store.list_endpoints() == []
    report = verify_store(store, files=False)
    assert any(p.startswith("tampered: endpoints row credit-api") for p in report.problems)
