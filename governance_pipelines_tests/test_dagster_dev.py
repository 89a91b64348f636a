"""`dagster dev -w workspace.yaml` really serves the demo's assets, grouped by model.

The in-process tests in `orchestration/test_definitions.py` build the Definitions object
directly; they cannot see what a person gets from the README's "Open the Dagster UI"
command: the workspace file, the code server subprocess and the GraphQL API the UI reads.
This test starts the real `dagster dev` on a free port (as PITFALLS.md prescribes: its own
process group and default INT/TERM dispositions, so it can be stopped), asks its GraphQL
endpoint for the asset graph, and always stops the whole process group afterwards.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
DAGSTER = Path(sys.executable).parent / "dagster"
STARTUP_TIMEOUT_S = 90.0
SHUTDOWN_TIMEOUT_S = 20.0

ASSET_GRAPH_QUERY = """
query GovernanceAssetGraph {
  workspaceOrError {
    __typename
    ... on Workspace {
      locationEntries {
        name
        loadStatus
        locationOrLoadError {
          __typename
          ... on PythonError { message causes { message } }
        }
      }
    }
    ... on PythonError { message }
  }
  assetNodes {
    assetKey { path }
    groupName
    assetChecksOrError {
      __typename
      ... on AssetChecks { checks { name blocking } }
    }
  }
}
"""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _log_tail(log_path: Path, lines: int = 40) -> str:
    if not log_path.exists():
        return "(no output)"
    return "\n".join(log_path.read_text(errors="replace").splitlines()[-lines:])


def _graphql(port: int, query: str) -> dict[str, Any]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        body: dict[str, Any] = json.load(response)
    assert "errors" not in body, f"GraphQL errors: {body['errors']}"
    return body["data"]


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Signal the whole process group (webserver, daemon, code servers), then reap it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=SHUTDOWN_TIMEOUT_S)
    # Anything still in the group (a hung child, or the leader itself) is killed outright.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=SHUTDOWN_TIMEOUT_S)


@contextlib.contextmanager
def _dagster_dev(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    dagster_home = tmp_path / "dagster_home"
    dagster_home.mkdir()
    (dagster_home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {
        **os.environ,
        "DAGSTER_HOME": str(dagster_home),
        "GOVERNANCE_HOME": str(tmp_path / "governance_home"),
    }
    # As in a fresh clone: no governance.yaml in the repo root and no GOVERNANCE_CONFIG, so
    # the code location falls back to the packaged demo models.
    assert not (REPO_ROOT / "governance.yaml").exists()
    for name in ("GOVERNANCE_CONFIG", "GOVERNANCE_DATABASE_URL", "SLACK_BOT_TOKEN"):
        env.pop(name, None)
    port = _free_port()
    log_path = tmp_path / "dagster_dev.log"
    with log_path.open("wb") as log:
        # start_new_session=True is setsid(2): the server leads its own process group, so
        # killpg(pid) reaches every child. `env --default-signal` undoes an inherited
        # "ignore SIGINT/SIGTERM" (e.g. when pytest itself runs in the background).
        process = subprocess.Popen(
            [
                "env",
                "--default-signal=INT,TERM",
                str(DAGSTER),
                "dev",
                "-w",
                "workspace.yaml",
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
            ],
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield port, log_path
    finally:
        _stop(process)
        if process.returncode is None:  # pragma: no cover - _stop always reaps
            pytest.fail("dagster dev did not stop")


def _wait_for_loaded_asset_graph(port: int, log_path: Path) -> list[dict[str, Any]]:
    """Poll until the webserver answers and the code location has loaded; its asset nodes."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    last_problem = "no answer yet"
    while time.monotonic() < deadline:
        try:
            data = _graphql(port, ASSET_GRAPH_QUERY)
        except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
            last_problem = repr(error)
            time.sleep(0.25)
            continue
        workspace = data["workspaceOrError"]
        assert workspace["__typename"] == "Workspace", workspace
        entries = {entry["name"]: entry for entry in workspace["locationEntries"]}
        entry = entries.get("governance_pipelines")
        assert entry is not None, f"no governance_pipelines location in {sorted(entries)}"
        location = entry["locationOrLoadError"]
        if location and location["__typename"] == "PythonError":
            messages = [location["message"], *(cause["message"] for cause in location["causes"])]
            pytest.fail("code location failed to load:\n" + "\n".join(messages))
        if entry["loadStatus"] == "LOADED" and location is not None:
            return data["assetNodes"]
        last_problem = f"location status {entry['loadStatus']}"
        time.sleep(0.25)
    pytest.fail(
        f"dagster dev did not serve a loaded workspace within {STARTUP_TIMEOUT_S:.0f} s "
        f"({last_problem}); its output:\n{_log_tail(log_path)}"
    )


def test_dagster_dev_lists_the_demo_assets_grouped_by_model(tmp_path: Path) -> None:
    if not DAGSTER.exists():
        pytest.skip(f"no dagster executable next to {sys.executable}")

    with _dagster_dev(tmp_path) as (port, log_path):
        nodes = _wait_for_loaded_asset_graph(port, log_path)

    groups = {"/".join(node["assetKey"]["path"]): node["groupName"] for node in nodes}
    checks: dict[str, dict[str, bool]] = {}
    for node in nodes:
        result = node["assetChecksOrError"]
        assert result["__typename"] == "AssetChecks", result
        checks["/".join(node["assetKey"]["path"])] = {
            check["name"]: check["blocking"] for check in result["checks"]
        }

    assert groups.get("credit_default/training_snapshot") == "credit_default", groups
    assert groups.get("breast_cancer/training_snapshot") == "breast_cancer", groups
    assert groups.get("governance/audit_log") == "governance", groups
    for model in ("credit_default", "breast_cancer"):
        model_assets = {key: group for key, group in groups.items() if key.startswith(f"{model}/")}
        assert {f"{model}/training_data", f"{model}/training_data_profile"} <= set(model_assets)
        assert set(model_assets.values()) == {model}, model_assets
        snapshot_checks = checks[f"{model}/training_snapshot"]
        assert snapshot_checks.get("training_snapshot_schema_valid") is True, snapshot_checks
        assert snapshot_checks.get("training_snapshot_integrity") is True, snapshot_checks
    assert "audit_log_chain_intact" in checks["governance/audit_log"], checks
