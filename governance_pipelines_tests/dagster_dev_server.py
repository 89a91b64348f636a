"""A real `dagster dev` (webserver + daemon) on a free port, for tests that need the UI.

Started as PITFALLS.md prescribes: its own process group (setsid) and default INT/TERM
dispositions, so it can be stopped; stopping signals the whole group and reaps it, so no
webserver, daemon or code server outlives the test.
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
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
DAGSTER = Path(sys.executable).parent / "dagster"
LOCATION = "governance_pipelines"
STARTUP_TIMEOUT_S = 120.0
SHUTDOWN_TIMEOUT_S = 20.0

LOCATION_STATUS_QUERY = """
query LocationStatus {
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
}
"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def log_tail(log_path: Path, lines: int = 40) -> str:
    if not log_path.exists():
        return "(no output)"
    return "\n".join(log_path.read_text(errors="replace").splitlines()[-lines:])


def graphql(port: int, query: str, variables: Mapping[str, Any] | None = None) -> dict[str, Any]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query, "variables": dict(variables or {})}).encode(),
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


def group_is_gone(pgid: int, *, wait_s: float = 10.0) -> bool:
    """No live process is left in the group (zombies awaiting a reaper do not count)."""
    deadline = time.monotonic() + wait_s
    while True:
        if not _live_members(pgid):
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)


def _live_members(pgid: int) -> list[int]:
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited while we looked
        state, group = fields[0], int(fields[2])
        if group == pgid and state != "Z":
            members.append(int(stat.parent.name))
    return members


@contextlib.contextmanager
def dagster_dev(
    tmp_path: Path, env: Mapping[str, str], *, dagster_home: Path | None = None
) -> Iterator[tuple[int, Path, int]]:
    """`dagster dev -w workspace.yaml` from the repository root; (port, log, process group)."""
    if not DAGSTER.exists():
        pytest.skip(f"no dagster executable next to {sys.executable}")
    home = dagster_home or tmp_path / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    port = free_port()
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
            env={**env, "DAGSTER_HOME": str(home)},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield port, log_path, process.pid
    finally:
        _stop(process)
        if process.returncode is None:  # pragma: no cover - _stop always reaps
            pytest.fail("dagster dev did not stop")


def wait_until_loaded(port: int, log_path: Path) -> None:
    """Poll until the webserver answers and the code location has loaded."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    last_problem = "no answer yet"
    while time.monotonic() < deadline:
        try:
            data = graphql(port, LOCATION_STATUS_QUERY)
        except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
            last_problem = repr(error)
            time.sleep(0.25)
            continue
        workspace = data["workspaceOrError"]
        assert workspace["__typename"] == "Workspace", workspace
        entries = {entry["name"]: entry for entry in workspace["locationEntries"]}
        entry = entries.get(LOCATION)
        assert entry is not None, f"no {LOCATION} location in {sorted(entries)}"
        location = entry["locationOrLoadError"]
        if location and location["__typename"] == "PythonError":
            messages = [location["message"], *(cause["message"] for cause in location["causes"])]
            pytest.fail("code location failed to load:\n" + "\n".join(messages))
        if entry["loadStatus"] == "LOADED" and location is not None:
            return
        last_problem = f"location status {entry['loadStatus']}"
        time.sleep(0.25)
    pytest.fail(
        f"dagster dev did not serve a loaded workspace within {STARTUP_TIMEOUT_S:.0f} s "
        f"({last_problem}); its output:\n{log_tail(log_path)}"
    )
