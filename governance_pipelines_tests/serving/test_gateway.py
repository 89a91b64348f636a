"""The gateway over its ASGI test client: auth, schema, rate limit, logging, hot swap."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from governance_pipelines.alerting.outbox import list_alerts
from governance_pipelines.security.approvals import promote
from governance_pipelines.security.tokens import revoke_token
from governance_pipelines.serving.app import create_app
from governance_pipelines.serving.gateway_state import GatewayState
from governance_pipelines.store.inference_log import read_inference_log
from governance_pipelines_tests.serving.gateway_fixtures import Served, open_store

RECORD = {"income": 0.3, "debt": -0.2, "region": "north"}


@pytest.fixture
def gateway(served: Served) -> Iterator[tuple[TestClient, GatewayState]]:
    store = open_store(served.home)
    state = GatewayState(
        served.config,
        store,
        served.home / "gateway" / "journal",
        refresh_seconds=0.1,
    ).start()
    with TestClient(create_app(state)) as client:
        yield client, state
    store.dispose()


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _predict(client: TestClient, token: str, endpoint: str = "scorer", **body: Any) -> Any:
    return client.post(
        f"/v1/endpoints/{endpoint}/predict",
        json=body or {"records": [RECORD]},
        headers=_auth(token),
    )


def _wait_for(condition: Any, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_prediction_is_answered_and_logged_as_the_tokens_team(
    gateway: Any, served: Served
) -> None:
    client, state = gateway
    response = _predict(client, served.lending_token, records=[RECORD, {**RECORD, "income": -1.0}])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model_version"] == 1
    assert response.headers["X-Model-Version"] == "1"
    assert len(body["predictions"]) == 2
    assert all(0 <= p <= 1 for p in body["predictions"])
    state.journal.flush()
    log = read_inference_log(state.store.engine, "applicants")
    rows = log[log["request_id"].isin(body["request_ids"])]
    assert len(rows) == 2
    assert set(rows["consumer_team"]) == {"lending"}  # from the token, never the caller
    assert set(rows["status"]) == {"ok"}
    assert rows["prediction"].tolist() == pytest.approx(body["predictions"])


def test_authentication_and_scope(gateway: Any, served: Served) -> None:
    client, _ = gateway
    assert (
        client.post("/v1/endpoints/scorer/predict", json={"records": [RECORD]}).status_code == 401
    )
    assert _predict(client, "gov_not-a-real-token").status_code == 401
    narrow = _predict(client, served.narrow_token, endpoint="scorer-canary")
    assert narrow.status_code == 403
    assert "not scoped" in narrow.json()["error"]
    assert _predict(client, served.lending_token, endpoint="nope").status_code == 404


def test_bad_records_get_422_naming_field_and_rule(gateway: Any, served: Served) -> None:
    client, state = gateway
    before = state.journal.counts.appended
    response = _predict(
        client, served.lending_token, records=[{**RECORD, "region": "west", "income": 99}]
    )
    assert response.status_code == 422
    errors = {(e["field"], e["rule"]) for e in response.json()["errors"]}
    assert errors == {("region", "isin"), ("income", "le")}
    assert _predict(client, served.lending_token, records="nope").status_code == 422
    bad_json = client.post(
        "/v1/endpoints/scorer/predict", content=b"{", headers=_auth(served.lending_token)
    )
    assert bad_json.status_code == 400
    assert state.journal.counts.appended == before  # nothing was answered, nothing logged


def test_over_the_rate_limit_is_429_with_retry_after(gateway: Any, served: Served) -> None:
    client, _ = gateway
    statuses = [
        _predict(client, served.marketing_token, endpoint="marketing-api") for _ in range(3)
    ]
    assert [r.status_code for r in statuses] == [200, 200, 429]
    assert int(statuses[-1].headers["Retry-After"]) >= 1


def test_canary_serves_the_candidate_on_its_share(gateway: Any, served: Served) -> None:
    client, _ = gateway
    versions = {
        _predict(client, served.lending_token, endpoint="scorer-canary").json()["model_version"]
        for _ in range(40)
    }
    assert versions == {1, 2}


def test_listing_describes_inputs_outputs_and_a_sample(gateway: Any, served: Served) -> None:
    client, _ = gateway
    listed = client.get("/v1/endpoints", headers=_auth(served.narrow_token)).json()
    assert [e["name"] for e in listed["endpoints"]] == ["scorer"]
    described = client.get("/v1/endpoints/scorer", headers=_auth(served.lending_token)).json()
    assert described["model_version"] == 1
    assert [f["name"] for f in described["inputs"]["fields"]] == ["income", "debt", "region"]
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").json()["ready"] is True
    metrics = client.get("/metrics").text
    assert "gateway_responses_total" in metrics
    assert "gateway_requests_pending" in metrics


def test_labels_close_the_loop_for_the_teams_own_requests(gateway: Any, served: Served) -> None:
    client, _state = gateway
    request_id = _predict(client, served.lending_token).json()["request_id"]
    posted = client.post(
        "/v1/endpoints/scorer/labels",
        json={"labels": [{"request_id": request_id, "label": 1}]},
        headers=_auth(served.lending_token),
    )
    assert posted.status_code == 200, posted.text
    assert posted.json()["recorded"] == 1
    unknown = client.post(
        "/v1/endpoints/scorer/labels",
        json={"labels": [{"request_id": "nope", "label": 0}]},
        headers=_auth(served.lending_token),
    )
    assert unknown.status_code == 404


def test_promotion_and_rollback_swap_the_served_version(gateway: Any, served: Served) -> None:
    client, state = gateway
    promote(state.store, served.config, "applicants", 2, "production", "frank", reason="v2 wins")
    _wait_for(lambda: _predict(client, served.lending_token).headers["X-Model-Version"] == "2")
    promote(state.store, served.config, "applicants", 1, "production", "frank", reason="rollback")
    _wait_for(lambda: _predict(client, served.lending_token).headers["X-Model-Version"] == "1")


def test_a_revoked_token_stops_working(gateway: Any, served: Served) -> None:
    client, state = gateway
    store = state.store
    with store.engine.connect() as connection:
        token_id = connection.execute(
            sa.text("SELECT token_id FROM api_tokens WHERE team = 'marketing'")
        ).scalar_one()
    assert _predict(client, served.marketing_token, endpoint="marketing-api").status_code == 200
    revoke_token(store, served.config, token_id, "frank")  # its grant is cached by now
    _wait_for(
        lambda: (
            _predict(client, served.marketing_token, endpoint="marketing-api").status_code == 401
        )
    )


def test_a_tampered_artifact_is_refused_and_alerted(served: Served) -> None:
    """Replaced after its promotion, before a gateway loads it: never unpickled."""
    store = open_store(served.home)
    artifact = Path(store.get_model_version("applicants", 2).artifact_path)
    original = artifact.read_bytes()
    promote(store, served.config, "applicants", 2, "production", "frank", reason="v2")
    try:
        artifact.write_bytes(original + b"tampered")
        state = GatewayState(
            served.config, store, served.home / "gateway" / "journal-tamper", refresh_seconds=3600
        ).start()
        with TestClient(create_app(state)) as client:
            assert "applicants v2" in state.slots.problems["scorer"]
            assert client.get("/readyz").status_code == 503
            refused = _predict(client, served.lending_token)
            assert refused.status_code == 503
            assert "artifact" in refused.json()["error"]
        alerts = list_alerts(store, model="applicants", status=None, limit=20)
        assert any("serve refused" in a.message for a in alerts)
    finally:
        artifact.write_bytes(original)
        promote(store, served.config, "applicants", 1, "production", "frank", reason="back")
        store.dispose()


def test_oversized_and_non_json_bodies_are_refused_before_parsing(
    gateway: Any, served: Served
) -> None:
    client, _ = gateway
    huge = b'{"records": [' + b'{"income": 1.0},' * 300_000 + b"{}]}"
    response = client.post(
        "/v1/endpoints/scorer/predict", content=huge, headers=_auth(served.lending_token)
    )
    assert response.status_code == 413
    nan = b'{"records": [{"income": NaN, "debt": 0.1, "region": "north"}]}'
    response = client.post(
        "/v1/endpoints/scorer/predict", content=nan, headers=_auth(served.lending_token)
    )
    assert response.status_code == 400  # NaN is not JSON: never a silent NaN feature
    infinite_label = b'{"labels": [{"request_id": "x", "label": Infinity}]}'
    response = client.post(
        "/v1/endpoints/scorer/labels", content=infinite_label, headers=_auth(served.lending_token)
    )
    assert response.status_code == 400
    non_finite = client.post(
        "/v1/endpoints/scorer/labels",
        json={"labels": [{"request_id": "x", "label": True}]},
        headers=_auth(served.lending_token),
    )
    assert non_finite.status_code == 422
