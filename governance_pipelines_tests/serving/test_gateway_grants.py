"""A predict request never waits for the store: grants are cached, re-checked off the path."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from governance_pipelines.security.endpoint_management import create_endpoint, update_endpoint
from governance_pipelines.security.endpoint_rules import define_endpoint
from governance_pipelines.security.tokens import issue_token, revoke_token
from governance_pipelines.serving.app import create_app
from governance_pipelines.serving.gateway_state import GatewayState
from governance_pipelines_tests.serving.gateway_fixtures import Served, open_store

RECORD = {"income": 0.3, "debt": -0.2, "region": "north"}


@pytest.fixture
def quiet_gateway(served: Served) -> Iterator[tuple[TestClient, GatewayState]]:
    """A gateway whose background refresh never fires: the test calls `refresh()` itself."""
    store = open_store(served.home)
    state = GatewayState(
        served.config, store, served.home / "gateway" / "journal-grants", refresh_seconds=3600
    ).start()
    with TestClient(create_app(state)) as client:
        yield client, state
    store.dispose()


def _predict(client: TestClient, token: str, endpoint: str = "scorer") -> Any:
    return client.post(
        f"/v1/endpoints/{endpoint}/predict",
        json={"records": [RECORD]},
        headers={"Authorization": f"Bearer {token}"},
    )


class _Statements:
    """The SQL statements an engine runs while this is active (table names matched)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.seen: list[str] = []

    def _record(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.seen.append(statement)

    def __enter__(self) -> _Statements:
        sa.event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *_: object) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._record)

    def touching(self, table: str) -> list[str]:
        return [s for s in self.seen if table in s]


def test_a_known_token_costs_no_store_lookup(quiet_gateway: Any, served: Served) -> None:
    client, state = quiet_gateway
    assert _predict(client, served.lending_token).status_code == 200  # looked up once
    with _Statements(state.store.engine) as statements:
        answers = [_predict(client, served.lending_token).status_code for _ in range(20)]
    assert answers == [200] * 20
    assert statements.touching("api_tokens") == []
    assert statements.touching("endpoints") == []


def test_refresh_rechecks_cached_grants_revocation_and_team_removal(
    quiet_gateway: Any, served: Served
) -> None:
    client, state = quiet_gateway
    store, config = state.store, served.config
    create_endpoint(
        store,
        config,
        define_endpoint("grants", model="applicants", teams="risk,lending", rate_limit=6000),
        "frank",
    )
    risk, lending = (
        issue_token(store, config, team=team, endpoints="grants", expires="1d", user="frank")
        for team in ("risk", "lending")
    )
    state.refresh()
    assert _predict(client, risk.secret, "grants").status_code == 200
    assert _predict(client, lending.secret, "grants").status_code == 200
    revoke_token(store, config, risk.record.token_id, "frank")
    update_endpoint(store, config, "grants", user="frank", teams="risk")
    assert _predict(client, risk.secret, "grants").status_code == 200  # until the refresh
    state.refresh()
    revoked = _predict(client, risk.secret, "grants")
    assert revoked.status_code == 401
    assert "revoked" in revoked.json()["error"]
    removed = _predict(client, lending.secret, "grants")
    assert removed.status_code == 403
    assert "not allowed" in removed.json()["error"]


def test_an_unchanged_store_is_not_reread_until_the_full_refresh(
    quiet_gateway: Any, served: Served
) -> None:
    _, state = quiet_gateway
    with _Statements(state.store.engine) as statements:
        state.refresh()
    assert statements.touching("endpoints") == []  # only the audit head was asked
    assert len(statements.touching("audit_log")) == 1
    state.full_refresh_seconds = 0  # e.g. a row edited around the governance API
    with _Statements(state.store.engine) as statements:
        state.refresh()
    assert statements.touching("endpoints")


def test_refusals_are_bounded_and_forgotten_at_refresh(quiet_gateway: Any) -> None:
    client, state = quiet_gateway
    for i in range(5):
        assert _predict(client, f"gov_random-{i}").status_code == 401
    assert len(state._refused) == 5
    state.full_refresh_seconds = 0
    state.refresh()
    assert state._refused == {}


def test_a_store_outage_at_lookup_is_503_and_not_remembered(served: Served, tmp_path: Path) -> None:
    """A token first seen while the database is gone: 503 with Retry-After, not a 500, and
    the next request (database back) is looked up again."""
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(served.home / "governance.db", home / "governance.db")
    store = open_store(home)
    state = GatewayState(served.config, store, home / "journal", refresh_seconds=3600).start()
    try:
        with TestClient(create_app(state)) as client:
            database = home / "governance.db"
            database.rename(home / "away.db")
            store.engine.dispose()  # new connections find an empty file: no tables
            refused = _predict(client, served.lending_token)
            assert refused.status_code == 503
            assert refused.headers["Retry-After"] == "5"
            assert "token store is unavailable" in refused.json()["error"]
            assert state._refused == {}
            database.unlink()
            (home / "away.db").rename(database)
            store.engine.dispose()
            assert _predict(client, served.lending_token).status_code == 200
    finally:
        store.dispose()
