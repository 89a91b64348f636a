"""The demo's real-traffic round: a challenger served as a canary by a real gateway process.

After the simulated weeks, the demo trains a challenger of the credit model (another random
seed), creates a production endpoint with a canary of the challenger on half the traffic,
issues a token per consumer team, starts `governance serve` as its own process and sends
real credit applications over HTTP; then it posts their true outcomes as labels through
the gateway, stops it, and judges the A/B test from what the gateway logged — the same
evaluation `governance abtest` runs.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg

from governance_pipelines.catalog.gathering import sample_version
from governance_pipelines.check_names import AB_TEST
from governance_pipelines.config import GovernanceConfig, ModelConfig
from governance_pipelines.development.ab_testing import ABTestError
from governance_pipelines.development.online_ab import OnlineEvaluationError, evaluate_versions
from governance_pipelines.development.snapshot import read_snapshot
from governance_pipelines.orchestration.definitions_builder import (
    DEVELOPMENT_JOB,
    build_definitions,
)
from governance_pipelines.orchestration.resources import GovernanceStoreResource
from governance_pipelines.security.endpoint_management import create_endpoint
from governance_pipelines.security.endpoint_rules import define_endpoint
from governance_pipelines.security.tokens import issue_token
from governance_pipelines.store import GovernanceStore
from governance_pipelines.store.inference_log import read_inference_log

DEMO_MODEL = "credit_default"
ENDPOINT = "credit-default"
CANARY_SHARE = 0.5
REQUESTS = 1_400
_ACTOR = "governance-demo"


@dataclass(frozen=True)
class GatewayRound:
    requests: int
    by_version: dict[int, int]
    logged: int
    labels: int
    ab_summary: str
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None and self.logged == self.requests


def trained_version(result: dg.ExecuteInProcessResult, model_name: str) -> int | None:
    """The version a development run trained or reused for the model (its `model_version`
    materialization), or None when the run did not get that far."""
    key = dg.AssetKey([model_name, "model_version"])
    for event in result.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        if event.asset_key == key and "version" in materialization.metadata:
            return int(materialization.metadata["version"].value)  # type: ignore[arg-type]
    return None


def challenger_config(config: GovernanceConfig) -> GovernanceConfig:
    """The same declaration with another training seed: a genuine second version."""
    raw = config.model_dump(mode="json", by_alias=True, exclude_none=True)
    for model in raw["models"]:
        if model["name"] == DEMO_MODEL:
            model["training"]["seed"] = model["training"].get("seed", 0) + 1
            params = model["training"]["estimator"].setdefault("params", {})
            if "random_state" in params:
                params["random_state"] = params["random_state"] + 1
    return GovernanceConfig.model_validate(raw)


def gateway_round(
    store: GovernanceStore,
    config: GovernanceConfig,
    config_path: Path,
    resource: GovernanceStoreResource,
    instance: dg.DagsterInstance,
    run_config: dict[str, Any],
    tags: dict[str, str],
) -> GatewayRound | None:
    """The round, for a config that declares the demo's credit model (else None)."""
    if DEMO_MODEL not in {m.name for m in config.models}:
        return None
    job = build_definitions(challenger_config(config), governance_store=resource).resolve_job_def(
        DEVELOPMENT_JOB
    )
    return serve_challenger(store, config, config_path, job, instance, run_config, tags)


def _admin(config: GovernanceConfig) -> str:
    admins = {r for r, permissions in config.roles.items() if "endpoint.manage" in permissions}
    return next(p.name for p in config.people if admins & set(p.roles))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _post(url: str, token: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return dict(json.loads(response.read()))


def _start_gateway(home: Path, config_path: Path, port: int) -> subprocess.Popen[bytes]:
    governance = Path(sys.executable).parent / "governance"
    process = subprocess.Popen(
        [str(governance), "serve", "--port", str(port), "--home", str(home),
         "--config", str(config_path), "--refresh-seconds", "1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "GOVERNANCE_HOME": str(home)},
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1):
                return process
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            if process.poll() is not None:
                break
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"the gateway did not start: {process.stderr.read()!r}")  # type: ignore[union-attr]


def serve_challenger(
    store: GovernanceStore,
    config: GovernanceConfig,
    config_path: Path,
    job: dg.JobDefinition,
    instance: dg.DagsterInstance,
    run_config: dict[str, Any],
    tags: dict[str, str],
) -> GatewayRound:
    """Train the challenger, serve it as a canary over HTTP, judge the A/B test."""
    model = config.model(DEMO_MODEL)
    run = job.execute_in_process(
        instance=instance, raise_on_error=False, run_config=run_config, tags=tags
    )
    challenger = trained_version(run, DEMO_MODEL)
    control = sample_version(store, DEMO_MODEL)
    if not run.success or challenger is None or control is None or challenger == control:
        return GatewayRound(0, {}, 0, 0, "", "the challenger's development run failed")
    admin = _admin(config)
    teams = [t.name for t in config.teams if t.name in ("underwriting", "collections")]
    teams = teams or [model.team]
    for definition in (
        define_endpoint(ENDPOINT, model=DEMO_MODEL, teams=",".join(teams), rate_limit=100_000),
        define_endpoint(
            f"{ENDPOINT}-canary",
            model=DEMO_MODEL,
            teams=",".join(teams),
            rate_limit=100_000,
            mode="canary",
            version=challenger,
            traffic_share=CANARY_SHARE,
        ),
    ):
        if store.get_endpoint(definition.name, include_deleted=True) is None:  # a re-run reuses
            create_endpoint(store, config, definition, admin)
    tokens = [
        issue_token(
            store,
            config,
            team=team,
            endpoints=f"{ENDPOINT},{ENDPOINT}-canary",
            expires="1d",
            user=admin,
        ).secret
        for team in teams
    ]
    return _send_and_judge(store, model, config_path, challenger, control, tokens)


def _send_and_judge(
    store: GovernanceStore,
    model: ModelConfig,
    config_path: Path,
    challenger: int,
    control: int,
    tokens: list[str],
) -> GatewayRound:
    registered = store.get_model_version(DEMO_MODEL, control)
    snapshot = store.get_snapshot(registered.snapshot_id, DEMO_MODEL)
    frame = read_snapshot(snapshot.path, snapshot.snapshot_id)
    rows = frame.sample(n=REQUESTS, random_state=11, replace=len(frame) < REQUESTS)
    features = list(model.data.features)
    rng = random.Random(5)
    calls = [
        (json.loads(row[features].to_json()), float(row[model.data.target]), rng.choice(tokens))
        for _, row in rows.iterrows()
    ]
    port = _free_port()
    process = _start_gateway(store.home, config_path, port)
    url = f"http://127.0.0.1:{port}/v1/endpoints/{ENDPOINT}-canary"
    try:

        def call(item: tuple[dict[str, Any], float, str]) -> tuple[dict[str, Any], float, str]:
            record, label, token = item
            return _post(f"{url}/predict", token, {"records": [record]}), label, token

        with ThreadPoolExecutor(max_workers=4) as pool:
            answers = list(pool.map(call, calls))
        by_token: dict[str, list[dict[str, Any]]] = {}
        for answer, label, token in answers:
            by_token.setdefault(token, []).append(
                {"request_id": answer["request_id"], "label": label}
            )
        labelled = sum(
            _post(f"{url}/labels", token, {"labels": labels})["recorded"]
            for token, labels in by_token.items()
        )
    finally:
        process.send_signal(signal.SIGTERM)  # a clean stop flushes the journal
        process.wait(timeout=60)
    ids = {answer["request_id"] for answer, _, _ in answers}
    log = read_inference_log(store.engine, DEMO_MODEL)
    logged = int(log["request_id"].isin(ids).sum())
    by_version: dict[int, int] = {}
    for answer, _, _ in answers:
        by_version[answer["model_version"]] = by_version.get(answer["model_version"], 0) + 1
    served = log[log["request_id"].isin(ids)]
    try:
        result = evaluate_versions(served, model, candidate=challenger, control=control)
    except (OnlineEvaluationError, ABTestError) as error:
        return GatewayRound(
            len(answers), by_version, logged, labelled, f"A/B test not judged: {error}"
        )
    store.record_check_result(
        model_name=DEMO_MODEL, check_name=AB_TEST, passed=result.conclusion == "candidate_better",
        severity="WARN", summary=result.message, evidence={"control_version": control, **result.to_dict()},
        actor=_ACTOR, version=challenger,
    )  # fmt: skip
    summary = (
        f"v{challenger} vs v{control}: {result.kpi_name} {result.candidate_mean:.4f} vs "
        f"{result.control_mean:.4f} (n={result.n_candidate}/{result.n_control}), "
        f"p = {result.p_value:.3g}: {result.conclusion}"
    )
    return GatewayRound(len(answers), by_version, logged, labelled, summary)
