"""A governance file, a registered version and request/label rows for the ingestion tests.

`credit` is a classifier with a categorical input (`region`, as its version's run record
says), `housing` a regressor, `remote` keeps its log outside the store. People cover the
export permission: `vera` is a viewer, `cody` a contractor whose role lacks `model.view`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from governance_pipelines.check_names import REQUIRED_VERSION_CHECKS
from governance_pipelines.config import GovernanceConfig, parse_config
from governance_pipelines.store import GovernanceStore

FEATURES = ["income", "age", "region"]
CONFIG_YAML = """
teams: [{name: risk}, {name: lending}, {name: collections}]
roles:
  viewer: [model.view]
  data_scientist: [model.view, model.call, model.register, logs.read]
  approver: [model.view, model.approve, logs.read, audit.read]
  admin: [model.view, model.call, model.register, model.approve, model.promote,
          endpoint.manage, logs.read, audit.read, config.manage]
  contractor: [model.call]
people:
  - {name: alice, team: risk, roles: [data_scientist]}
  - {name: bob, team: risk, roles: [approver]}
  - {name: frank, team: risk, roles: [admin]}
  - {name: vera, team: risk, roles: [viewer]}
  - {name: cody, team: lending, roles: [contractor]}
models:
  - name: credit
    owner: alice
    team: risk
    description: Default risk.
    data: {source: {kind: file, path: x.csv}, target: y, features: [income, age, region]}
    training: {estimator: {class: sklearn.linear_model.LogisticRegression}, min_metric: 0.5}
  - name: housing
    owner: alice
    team: risk
    description: House prices.
    data: {source: {kind: file, path: x.csv}, target: price, features: [income, age, region]}
    training:
      task: regression
      metric: rmse
      min_metric: 1000000
      estimator: {class: sklearn.linear_model.LinearRegression}
  - name: remote
    owner: alice
    team: risk
    description: Logged elsewhere.
    data: {source: {kind: file, path: x.csv}, target: y, features: [income]}
    training: {estimator: {class: sklearn.linear_model.LogisticRegression}, min_metric: 0.5}
    monitoring: {inference_log_url: "sqlite:///elsewhere.db"}
"""
START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def config() -> GovernanceConfig:
    return parse_config(CONFIG_YAML)


def run_record(model: str, sha256: str) -> dict[str, Any]:
    """The parts of a training run record the ingestion reads (its categorical inputs)."""
    return {
        "algorithm": {
            "type": "classifier",
            "estimator": "LogisticRegression",
            "class": "sklearn.linear_model.LogisticRegression",
            "params": {},
        },
        "features": {"all": FEATURES, "numeric": ["income", "age"], "categorical": ["region"]},
        "evaluation": {"primary_metric": "roc_auc", "direction": "maximize"},
        "metrics": {"roc_auc": 0.8},
        "data": {"snapshot_id": model[0] * 64},
        "artifact": {"sha256": sha256},
    }


def register_version(store: GovernanceStore, model: str = "credit", *, gates: bool = True) -> int:
    """The model, a snapshot and its next version with a real artifact file (read-only, as
    registration leaves it); with `gates`, every required validation gate passed."""
    store.register_model(
        name=model, team="risk", owner="alice", description="d", config={}, actor="alice"
    )
    store.register_snapshot(
        snapshot_id=model[0] * 64,
        model_name=model,
        path="/s.parquet",
        row_count=1,
        column_count=1,
        byte_size=1,
        columns={"income": "float64"},
        source={},
        actor="alice",
    )
    number = len(store.list_model_versions(model)) + 1
    artifact = store.home / "artifacts" / f"{model}-{number}.joblib"
    artifact.parent.mkdir(parents=True, exist_ok=True)
    artifact.write_bytes(f"{model} model bytes {number}".encode())
    artifact.chmod(0o444)
    digest = hashlib.sha256(artifact.read_bytes()).hexdigest()
    version, _ = store.register_model_version(
        model_name=model,
        fingerprint=f"{model}-{number}",
        snapshot_id=model[0] * 64,
        artifact_sha256=digest,
        artifact_path=str(artifact),
        record=run_record(model, digest),
        actor="alice",
    )
    if gates:
        for name in REQUIRED_VERSION_CHECKS:
            store.record_check_result(
                model_name=model,
                check_name=name,
                passed=True,
                severity="ERROR",
                summary="ok",
                evidence={},
                actor="dagster:run",
                version=version.version,
            )
    return version.version


def request(i: int, **overrides: Any) -> dict[str, Any]:
    """One well-formed request of `credit` v1, minutes apart, as a serving team logs it."""
    row: dict[str, Any] = {
        "request_id": f"req-{i:05d}",
        "model_name": "credit",
        "model_version": 1,
        "requested_at": (START + timedelta(minutes=i)).isoformat(),
        "consumer_team": "lending" if i % 2 else "collections",
        "latency_ms": 10.0 + i,
        "status": "ok",
        "features": json.dumps({"income": 1000.0 + i, "age": 30 + i % 40, "region": "north"}),
        "prediction": round(0.01 * (i % 100), 2),
    }
    row.update(overrides)
    return row


def requests(n: int, start: int = 0) -> pd.DataFrame:
    return pd.DataFrame([request(i) for i in range(start, start + n)])


def write(frame: pd.DataFrame, path: Path) -> Path:
    """`frame` in the format of `path`'s suffix (parquet, csv or jsonl)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    elif path.suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        path.write_text(
            "".join(json.dumps(_plain(r)) + "\n" for r in frame.to_dict("records")),
            encoding="utf-8",
        )
    return path


def _plain(record: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (None if isinstance(v, float) and v != v else v) for k, v in record.items()}


def events(store: GovernanceStore, action: str) -> list[Any]:
    return store.recent_events(action=action, limit=100)
