"""A shadow endpoint answers with production; its candidate's scores are kept for comparison."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from starlette.testclient import TestClient

from governance_pipelines.cli.shadow import shadow
from governance_pipelines.security.endpoint_management import create_endpoint
from governance_pipelines.security.endpoint_rules import define_endpoint
from governance_pipelines.security.tokens import issue_token
from governance_pipelines.serving.app import create_app
from governance_pipelines.serving.gateway_state import GatewayState
from governance_pipelines.store.immutability import IMMUTABLE_MESSAGE
from governance_pipelines.store.inference_log import read_inference_log
from governance_pipelines.store.shadow_log import append_shadow_scores, read_shadow_pairs
from governance_pipelines_tests.serving.gateway_fixtures import Served, open_store

RECORDS = [
    {"income": 0.1 * i - 1.0, "debt": 0.05 * i - 0.5, "region": ("north", "south")[i % 2]}
    for i in range(20)
]


@pytest.fixture(scope="module")
def shadowed(served: Served) -> Iterator[tuple[TestClient, GatewayState, str]]:
    """`scorer-shadow`: production (v1) answers, v2 scores every request alongside."""
    store = open_store(served.home)
    create_endpoint(
        store,
        served.config,
        define_endpoint(
            "scorer-shadow",
            model="applicants",
            teams="lending",
            rate_limit=6000,
            mode="shadow",
            version=2,
        ),
        "frank",
    )
    token = issue_token(
        store, served.config, team="lending", endpoints="scorer-shadow", expires="1d", user="frank"
    ).secret
    state = GatewayState(
        served.config, store, served.home / "gateway" / "journal-shadow-test", refresh_seconds=3600
    ).start()
    with TestClient(create_app(state)) as client:
        yield client, state, token
    store.dispose()


def _predict(client: TestClient, token: str, records: list[dict[str, Any]]) -> Any:
    return client.post(
        "/v1/endpoints/scorer-shadow/predict",
        json={"records": records},
        headers={"Authorization": f"Bearer {token}"},
    )


def _settle(state: GatewayState) -> None:
    """Wait for the shadow tasks the answers left behind, then flush both journals."""
    for _ in range(200):
        if state.shadow_journal.counts.appended >= state.journal.counts.appended:
            break
        time.sleep(0.01)
    state.journal.flush()
    state.shadow_journal.flush()


def test_production_answers_and_the_shadow_scores_the_same_requests(shadowed: Any) -> None:
    client, state, token = shadowed
    answers = [_predict(client, token, [record]) for record in RECORDS[:10]]
    answers.append(_predict(client, token, RECORDS[10:]))  # one request, ten records
    assert {a.status_code for a in answers} == {200}
    assert {a.headers["X-Model-Version"] for a in answers} == {"1"}
    ids = [rid for a in answers for rid in a.json()["request_ids"]]
    _settle(state)
    pairs = read_shadow_pairs(state.store.engine, "applicants", endpoint="scorer-shadow")
    assert set(ids) <= set(pairs["request_id"])
    mine = pairs[pairs["request_id"].isin(ids)]
    assert set(mine["model_version"]) == {2}
    assert set(mine["production_version"]) == {1}
    assert set(mine["status"]) == {"ok"}
    assert mine["shadow_prediction"].between(0, 1).all()
    assert (mine["shadow_prediction"] != mine["production_prediction"]).any()  # v2 differs
    log = read_inference_log(state.store.engine, "applicants")
    assert set(log.loc[log["request_id"].isin(ids), "model_version"]) == {1}  # usage: production
    assert b'gateway_shadow_scores_total{endpoint="scorer-shadow",outcome="journaled"}' in (
        client.get("/metrics").content
    )


def test_shadow_scores_are_kept_once_and_never_changed(shadowed: Any) -> None:
    _, state, _ = shadowed
    engine = state.store.engine
    row = {
        "request_id": "shadow-once",
        "endpoint": "scorer-shadow",
        "model_name": "applicants",
        "model_version": 2,
        "scored_at": "2026-12-01T10:00:00+00:00",
        "latency_ms": 1.0,
        "status": "ok",
        "prediction": 0.25,
    }
    assert append_shadow_scores(engine, [row, row]) == 1
    assert append_shadow_scores(engine, [row]) == 0  # a replayed journal adds nothing
    refused = pytest.raises(sa.exc.DBAPIError, match=re.escape(IMMUTABLE_MESSAGE))
    with refused, engine.begin() as connection:
        connection.execute(sa.text("UPDATE shadow_predictions SET prediction = 0.9"))


def test_labels_turn_into_a_paired_comparison_on_the_cli(shadowed: Any, served: Served) -> None:
    client, state, token = shadowed
    answers = [_predict(client, token, [record]) for record in RECORDS]
    _settle(state)
    labels = [
        {"request_id": a.json()["request_id"], "label": float(r["income"] > 0)}
        for a, r in zip(answers, RECORDS, strict=True)
    ]
    posted = client.post(
        "/v1/endpoints/scorer-shadow/labels",
        json={"labels": labels},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert posted.status_code == 200, posted.text
    args = ["scorer-shadow", "--home", str(served.home), "--config", str(served.home / "governance.yaml")]  # fmt: skip
    shown = CliRunner().invoke(shadow, args)
    assert shown.exit_code == 0, shown.output
    assert "shadow endpoint scorer-shadow: applicants v2 beside production v1" in shown.output
    assert "on 20 labelled requests, mean brier" in shown.output
    assert "verdict: not enough labelled requests yet (20 of 30)" in shown.output


def test_the_cli_names_what_is_missing(served: Served) -> None:
    base = ["--home", str(served.home), "--config", str(served.home / "governance.yaml")]
    unknown = CliRunner().invoke(shadow, ["no-such-endpoint", *base])
    assert unknown.exit_code == 1
    assert "no endpoint 'no-such-endpoint'" in unknown.output
    live = CliRunner().invoke(shadow, ["scorer", *base])
    assert live.exit_code == 1
    assert "it is not a shadow endpoint" in live.output
