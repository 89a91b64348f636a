"""`governance serve` as a real process over real HTTP: killed with SIGKILL under load, no
acknowledged request is missing from the inference log once a gateway starts again."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from governance_pipelines.serving.server import open_gateway
from governance_pipelines.store.inference_log import read_inference_log
from governance_pipelines_tests.serving.gateway_fixtures import Served

BODY = json.dumps({"records": [{"income": 0.1, "debt": 0.2, "region": "south"}]}).encode()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start(served: Served, port: int) -> subprocess.Popen[bytes]:
    governance = Path(sys.executable).parent / "governance"
    process = subprocess.Popen(
        [
            str(governance),
            "serve",
            "--port",
            str(port),
            "--refresh-seconds",
            "1",
            "--home",
            str(served.home),
            "--config",
            str(served.home / "governance.yaml"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as ready:
                if ready.status == 200:
                    return process
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    process.kill()
    raise AssertionError(f"the gateway did not become ready: {process.stderr.read()!r}")  # type: ignore[union-attr]


def _load(port: int, token: str, acknowledged: list[str], stop: threading.Event) -> None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/endpoints/scorer/predict",
        data=BODY,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    while not stop.is_set():
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                acknowledged.append(json.loads(response.read())["request_id"])
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            return  # the gateway is gone


def test_no_acknowledged_request_is_lost_on_sigkill(served: Served) -> None:
    port = _free_port()
    process = _start(served, port)
    acknowledged: list[str] = []
    stop = threading.Event()
    workers = [
        threading.Thread(target=_load, args=(port, served.lending_token, acknowledged, stop))
        for _ in range(8)
    ]
    for worker in workers:
        worker.start()
    deadline = time.monotonic() + 30
    while len(acknowledged) < 300 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)  # mid-load: no shutdown hook runs
    process.wait()
    stop.set()
    for worker in workers:
        worker.join()
    assert len(acknowledged) >= 300
    # The next gateway to start replays what the killed one journaled.
    state = open_gateway(str(served.home / "governance.yaml"), home=str(served.home))
    try:
        log = read_inference_log(state.store.engine, "applicants")
        logged = set(log["request_id"])
        missing = [rid for rid in acknowledged if rid not in logged]
        assert missing == [], f"{len(missing)} of {len(acknowledged)} acknowledged requests lost"
    finally:
        state.close()
        state.store.dispose()
