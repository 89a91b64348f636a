"""Gateway overhead under real HTTP load: `governance serve` vs a bare endpoint, same model.

Issue target: at a steady 200 requests/s against the demo credit model, the governance the
gateway adds — token authentication, schema validation, one journal write per request (the
inference log) — costs under 2 ms at p99 over a bare endpoint calling the same fitted
pipeline, with one worker and with two; and not one acknowledged request is missing from
the inference log.

Set-up, through the CLI in a temporary governance home (or `--home`, reused if it already
holds the demo): `governance demo --days 0` (trains and promotes the demo models),
`governance endpoints create credit --model credit_default --teams underwriting
--rate-limit 1000000` (a limit the load never reaches) and `governance tokens issue`.
The request body is the catalog's recorded sample of the production version (a real row of
the demo's credit applications, the `sample_request` of GET /v1/endpoints/credit).

For each worker count (1, then 2), both servers run side by side and the client alternates
`--block`-second blocks between them (so a drift in machine speed or in other processes' load
hits both alike — a shared 2-core VM drifts a lot; an idle server costs next to nothing).
Each block waits for its last answer; the first `--warmup` seconds of blocks are not
counted:

* governed — `governance serve --port P --workers W`, POST /v1/endpoints/credit/predict
  with the bearer token;
* bare — this file's `bare_app_factory` (Starlette) on uvicorn with the same worker count
  and the same uvicorn settings (uvloop, httptools, no access log), started as
  `python benchmarks/gateway_load.py --bare-server PORT --workers W --home H`: POST
  /predict parses the same JSON body and scores its records through the same
  `MicroBatcher` the gateway uses (requests that queued during a model call scored in one
  call: a serving-engine feature, not governance; `--bare-batching off` scores each request
  alone), building the same DataFrame (the model's features in declared order) for
  `predict_proba` of the same production artifact (loaded from the store, hash-checked) —
  no auth, no validation, no logging.

The load generator is open-loop: request i is due at start + i / rate whatever happened to
the previous ones (a slow answer does not slow the sender down, so queueing shows up in
the figures instead of being hidden: no coordinated omission). It is an asyncio client on
raw keep-alive HTTP/1.1 connections (pre-opened, used in FIFO rotation so that requests
spread across the workers' connections; a new one is opened whenever all are busy), so
the client costs a fraction of what an HTTP library would. Latency is measured from the
due time to the last byte of the answer; service time from the actual send. Server CPU per
request (user + system time of the server's process tree, /proc, over the measured blocks)
does not depend on the client's scheduling; the CPU every other process used meanwhile
(/proc/stat minus server and client) says how quiet the machine was.

Both servers run with OMP_NUM_THREADS=1 (`--omp-threads`): the demo model is a
HistGradientBoostingClassifier, whose OpenMP pool wakes every core for a one-row predict —
3.8 ms of CPU becomes ~7.4 ms (2 cores), and the spinning threads steal the other worker's
core. That is a deployment setting of any row-at-a-time scikit-learn service, the same for
both setups.

Zero loss: after each governed run the benchmark waits for `/metrics` to show
`gateway_requests_pending 0`, counts the acknowledged requests (every 200 answer's
`request_id`, warm-up included) found in the inference log, then stops the gateway with
SIGTERM (it flushes its journal) and counts again. Exit status 1 if any acknowledged
request is missing after the stop.

Saturation (`--max-rate`): after the steady run, each server is driven at rate + k ×
`--step-rate` for `--step-seconds` each (2 s warm-up) until it falls behind.

    python benchmarks/gateway_load.py [--rate 200] [--seconds 30] [--warmup 5]
        [--workers 1,2] [--block 3] [--max-rate R --step-rate 50] [--home DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import itertools
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MODEL = "credit_default"
ENDPOINT = "credit"
TEAM = "underwriting"
ADMIN = "frank"
TARGET_P99_MS = 2.0
BARE_HOME_ENV = "GATEWAY_LOAD_BARE_HOME"
BARE_VERSION_ENV = "GATEWAY_LOAD_BARE_VERSION"
BARE_BATCHING_ENV = "GATEWAY_LOAD_BARE_BATCHING"
HERE = Path(__file__).resolve().parent
# the CLI as installed next to this interpreter (`governance_pipelines.cli:main`)
GOVERNANCE = [sys.executable, "-c", "from governance_pipelines.cli import main; main()"]


# --- the bare endpoint ----------------------------------------------------------------------


def bare_app_factory() -> Any:
    """The same model behind no governance at all (uvicorn imports this in each worker)."""
    import pandas as pd
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    from governance_pipelines.config import load_config
    from governance_pipelines.development.model_artifact import load_artifact
    from governance_pipelines.development.model_versions import read_artifact
    from governance_pipelines.serving.micro_batching import MicroBatcher
    from governance_pipelines.store import GovernanceStore

    home = Path(os.environ[BARE_HOME_ENV])
    store = GovernanceStore.open_existing(None, home)
    try:
        registered = store.get_model_version(MODEL, int(os.environ[BARE_VERSION_ENV]))
    finally:
        store.dispose()
    pipeline = load_artifact(read_artifact(registered.artifact_path), registered.artifact_sha256)
    names = list(load_config(home / "governance.yaml").model(MODEL).data.features)

    def score(records: Any) -> list[float]:
        frame = pd.DataFrame([{n: r.get(n) for n in names} for r in records])
        return [float(p) for p in pipeline.predict_proba(frame)[:, -1]]

    batcher = MicroBatcher(score)
    batching = os.environ.get(BARE_BATCHING_ENV) != "off"

    async def predict(request: Request) -> Response:
        records = json.loads(await request.body())["records"]
        scores = await batcher.score(records) if batching else score(records)
        return JSONResponse({"predictions": scores})

    async def readyz(_request: Request) -> Response:
        return JSONResponse({"ready": True})

    return Starlette(
        routes=[
            Route("/predict", predict, methods=["POST"]),
            Route("/readyz", readyz, methods=["GET"]),
        ]
    )


def run_bare_server(port: int, workers: int, home: str, version: int) -> None:
    import uvicorn

    os.environ[BARE_HOME_ENV] = home
    os.environ[BARE_VERSION_ENV] = str(version)
    uvicorn.run(  # the settings `governance serve` uses
        f"{Path(__file__).stem}:bare_app_factory",
        factory=True,
        app_dir=str(HERE),
        host="127.0.0.1",
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
    )


# --- set-up through the CLI -------------------------------------------------------------------


def governance_env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("GOVERNANCE_DATABASE_URL", None)
    env["GOVERNANCE_HOME"] = str(home)
    env["GOVERNANCE_CONFIG"] = str(home / "governance.yaml")
    return env


def governance(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [*GOVERNANCE, *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"governance {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def set_up(home: Path, env: dict[str, str]) -> str:
    """Demo models, the endpoint and a token (the secret is stdout's only line)."""
    if not (home / "governance.db").exists():
        started = time.perf_counter()
        demo_env = {k: v for k, v in env.items() if k != "GOVERNANCE_CONFIG"}  # it writes it
        governance(demo_env, "demo", "--days", "0")
        print(f"governance demo --days 0: {time.perf_counter() - started:.0f} s")
    listed = json.loads(governance(env, "endpoints", "list", "--json"))
    if not any(e.get("name") == ENDPOINT for e in listed):
        governance(
            env, "endpoints", "create", ENDPOINT, "--model", MODEL, "--teams", TEAM,
            "--rate-limit", "1000000", "--user", ADMIN,
        )  # fmt: skip
    secret = governance(
        env, "tokens", "issue", "--team", TEAM, "--endpoints", ENDPOINT, "--expires", "1d",
        "--user", ADMIN,
    ).strip()  # fmt: skip
    if not secret.startswith("gov_") or "\n" in secret:
        raise SystemExit(f"unexpected output of tokens issue: {secret!r}")
    return secret


def production_sample(home: Path) -> tuple[int, dict[str, Any]]:
    """The production version of the credit model and its catalog sample request."""
    from governance_pipelines.catalog.samples import recorded_sample
    from governance_pipelines.security.promotion_state import current_stages, stage_timeline
    from governance_pipelines.store import GovernanceStore

    store = GovernanceStore.open_existing(None, home)
    try:
        stages = current_stages(stage_timeline(store, MODEL))
        version = max(v for v, stage in stages.items() if stage == "production")
        sample = recorded_sample(store, MODEL, version)
    finally:
        store.dispose()
    if sample is None:
        raise SystemExit(f"{MODEL} v{version} has no catalog sample")
    return version, {"records": [sample.request]}


# --- server processes -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    workers: int
    log: Path

    def wait_ready(self, timeout: float = 180.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"{self.name} exited:\n{self.log.read_text()[-3000:]}")
            url = f"http://127.0.0.1:{self.port}/readyz"
            with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
            time.sleep(0.25)
        raise SystemExit(f"{self.name} not ready after {timeout:.0f} s")

    def pids(self) -> list[int]:
        """The server's process tree (uvicorn's supervisor and its workers)."""
        found, todo = [], [self.process.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            with contextlib.suppress(OSError):
                for task in Path(f"/proc/{pid}/task").iterdir():
                    todo.extend(int(c) for c in (task / "children").read_text().split())
        return found

    def cpu_seconds(self) -> tuple[float, float]:
        """CPU time of the process tree: (main threads — the event loops, and uvicorn's
        supervisor — , every other thread: the journal's flusher, `to_thread` refreshes)."""
        ticks = os.sysconf("SC_CLK_TCK")
        main = other = 0
        for pid in self.pids():
            with contextlib.suppress(OSError):
                for task in Path(f"/proc/{pid}/task").iterdir():
                    with contextlib.suppress(OSError):
                        fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
                        used = int(fields[11]) + int(fields[12])  # utime, stime
                        if int(task.name) == pid:
                            main += used
                        else:
                            other += used
        return main / ticks, other / ticks

    def stop(self, timeout: float = 60.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def start_server(kind: str, workers: int, env: dict[str, str], home: Path, version: int) -> Server:
    port = free_port()
    if kind == "governed":
        command = [*GOVERNANCE, "serve"]
        command += ["--port", str(port), "--workers", str(workers)]
    else:
        command = [sys.executable, str(Path(__file__).resolve()), "--bare-server", str(port)]
        command += ["--workers", str(workers), "--home", str(home), "--version", str(version)]
    log = home / f"{kind}-{workers}-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    return Server(f"{kind} server ({workers} worker(s))", process, port, workers, log)


def server_side(server: Server) -> dict[int, int]:
    """Client port -> the server process holding that connection (/proc/net/tcp, fds)."""
    local = f"0100007F:{server.port:04X}"
    ports = {}
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        parts = line.split()
        if parts[1] == local and parts[3] == "01":  # established
            ports[f"socket:[{parts[9]}]"] = int(parts[2].split(":")[1], 16)
    owners = {}
    for pid in server.pids():
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    link = os.readlink(fd)
                    if link in ports:
                        owners[ports[link]] = pid
    return owners


# --- the open-loop load generator -------------------------------------------------------------


@dataclass
class Sample:
    due: float
    sent: float
    done: float
    status: int  # 0: no answer (connection error or timeout)
    request_id: str | None


@dataclass
class Target:
    port: int
    path: str
    token: str
    body: bytes

    def request_bytes(self) -> bytes:
        head = (
            f"POST {self.path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
            f"Authorization: Bearer {self.token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(self.body)}\r\n\r\n"
        )
        return head.encode() + self.body


Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class Client:
    """Keep-alive connections in FIFO rotation; opens another when all are busy."""

    def __init__(self, target: Target, *, parse_id: bool, timeout: float = 30.0) -> None:
        self.target = target
        self.parse_id = parse_id  # read the request id of each 200 answer (governed)
        self.payload = target.request_bytes()
        self.timeout = timeout
        self.idle: collections.deque[Connection] = collections.deque()
        self.opened = 0

    async def open(self, count: int, server: Server, workers: int) -> list[int]:
        """`count` connections, as many on each worker. The kernel hands a new connection
        to whichever worker accepts first (often the same one), so connections are opened
        one at a time, each is traced to the process that holds it, and surplus ones are
        closed; the pool then alternates workers. Returns the connections per worker."""
        share = max(1, count // workers)
        kept: dict[int, list[Connection]] = {}
        spare: list[Connection] = []
        for _ in range(count * 10):
            if len(kept) == workers and all(len(c) >= share for c in kept.values()):
                break
            connection = await self._connect()
            port = connection[1].get_extra_info("sockname")[1]
            owner = None
            for _ in range(100):
                owner = server_side(server).get(port)
                if owner is not None:
                    break
                await asyncio.sleep(0.005)
            if owner is None or len(kept.get(owner, [])) >= share:
                spare.append(connection)
            else:
                kept.setdefault(owner, []).append(connection)
        for _reader, writer in spare:
            writer.close()
        for group in itertools.zip_longest(*kept.values()):
            self.idle.extend(c for c in group if c is not None)
        self.opened = 0
        return sorted(len(c) for c in kept.values())

    async def _connect(self) -> Connection:
        self.opened += 1
        reader, writer = await asyncio.open_connection("127.0.0.1", self.target.port)
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return reader, writer

    async def call(self, due: float) -> Sample:
        sent = time.perf_counter()
        connection = None
        try:
            async with asyncio.timeout(self.timeout):
                connection = self._idle_connection() or await self._connect()
                reader, writer = connection
                writer.write(self.payload)
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    key, _, value = line.partition(b":")
                    if key.strip().lower() == b"content-length":
                        length = int(value)
                body = await reader.readexactly(length)
                done = time.perf_counter()
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
            if connection is not None:
                connection[1].close()
            return Sample(due, sent, time.perf_counter(), 0, None)
        self.idle.append(connection)
        status = int(head[9:12])
        request_id = None
        if self.parse_id and status == 200:
            request_id = json.loads(body).get("request_id")
        return Sample(due, sent, done, status, request_id)

    def _idle_connection(self) -> Connection | None:
        """The next pooled connection the server has not closed (uvicorn closes one idle for
        5 s — a setup waiting while the other one is measured)."""
        while self.idle:
            connection = self.idle.popleft()
            if not connection[0].at_eof() and not connection[1].is_closing():
                return connection
            connection[1].close()
        return None

    async def close(self) -> None:
        while self.idle:
            _reader, writer = self.idle.popleft()
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


async def open_loop(client: Client, rate: float, seconds: float) -> list[Sample]:
    """Send at `rate` for `seconds`, each request at its due time whatever came before."""
    count = round(rate * seconds)
    start = time.perf_counter() + 0.05
    tasks = []
    for i in range(count):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(client.call(due)))
    return list(await asyncio.gather(*tasks))


@dataclass
class Phase:
    samples: list[Sample]
    window_start: float
    cpu_seconds: float  # the server's process tree
    thread_cpu_seconds: float  # of which threads other than the main ones
    client_cpu_seconds: float
    new_connections: int  # opened during the run: every pooled one was busy
    other_cores: float  # CPU used by every other process on the machine, in cores


async def measure(client: Client, server: Server, rate: float, seconds: float) -> Phase:
    """One measured window: the samples, and the CPU of server, client and everyone else."""
    cpu_before, window_start = server.cpu_seconds(), time.perf_counter()
    client_before, machine_before = time.process_time(), machine_cpu_seconds()
    opened = client.opened
    samples = await open_loop(client, rate, seconds)
    client_cpu = time.process_time() - client_before
    cpu_after = server.cpu_seconds()
    cpu = sum(cpu_after) - sum(cpu_before)
    others = machine_cpu_seconds() - machine_before - cpu - client_cpu
    window = time.perf_counter() - window_start
    return Phase(
        samples,
        window_start,
        cpu,
        cpu_after[1] - cpu_before[1],
        client_cpu,
        client.opened - opened,
        others / window,
    )


@dataclass
class Run:
    """One setup (bare or governed) at one worker count: its server, client and samples."""

    kind: str
    server: Server
    client: Client
    spread: list[int] = field(default_factory=list)
    phases: list[Phase] = field(default_factory=list)
    sent: list[Sample] = field(default_factory=list)  # every request, warm-up included


async def interleave(runs: Sequence[Run], args: argparse.Namespace) -> None:
    """Both servers are up; the client alternates `--block`-second blocks between them, so a
    change in machine speed or load hits both alike. Each block waits for its last answer
    before the next starts; the first blocks warm up."""
    for run in runs:
        run.spread = await run.client.open(args.connections, run.server, run.server.workers)
    warm = math.ceil(args.warmup / args.block)
    blocks = max(1, round(args.seconds / args.block))
    try:
        for i in range(warm + blocks):
            for run in runs:
                phase = await measure(run.client, run.server, args.rate, args.seconds / blocks)
                run.sent += phase.samples
                if i >= warm:
                    run.phases.append(phase)
    finally:
        for run in runs:
            await run.client.close()


async def saturate(run: Run, args: argparse.Namespace, results: Results) -> None:
    """Raise the rate by --step-rate until the server falls behind (fresh pool each step)."""
    rate = args.rate + args.step_rate
    while args.max_rate and rate <= args.max_rate:
        client = Client(run.client.target, parse_id=run.client.parse_id)
        await client.open(args.connections, run.server, run.server.workers)
        try:
            run.sent += await open_loop(client, rate, 2.0)
            phase = await measure(client, run.server, rate, args.step_seconds)
        finally:
            await client.close()
        run.sent += phase.samples
        got = figures([phase], rate)
        results.saturation.append((run.kind, run.server.workers, got))
        print(
            f"    {run.kind} saturation {rate:.0f}/s: {got.achieved:.0f}/s, p50 "
            f"{got.latency['p50']:.1f} p99 {got.latency['p99']:.1f} ms, errors {got.errors}",
            flush=True,
        )
        if got.achieved < 0.9 * rate or got.errors > 0.01 * got.ok or got.latency["p99"] > 1e3:
            break
        rate += args.step_rate


def machine_cpu_seconds() -> float:
    """CPU time the whole machine spent busy (all CPUs, /proc/stat)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _run(coroutine: Any) -> Any:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


# --- figures ----------------------------------------------------------------------------------


@dataclass
class Figures:
    offered: float
    achieved: float
    ok: int
    errors: int
    latency: dict[str, float]  # ms, from the due time
    service: dict[str, float]  # ms, from the send
    send_lag_p99: float
    cpu_ms_per_request: float
    thread_cpu_ms_per_request: float
    client_cpu_ms_per_request: float
    other_cores: float


def _percentiles(values: Sequence[float]) -> dict[str, float]:
    import numpy as np

    array = np.asarray(values) * 1e3
    if not len(array):
        return {k: float("nan") for k in ("p50", "p90", "p99", "max")}
    p50, p90, p99 = np.percentile(array, [50, 90, 99])
    return {"p50": float(p50), "p90": float(p90), "p99": float(p99), "max": float(array.max())}


def figures(phases: Sequence[Phase], rate: float) -> Figures:
    samples = [s for p in phases for s in p.samples]
    ok = [s for s in samples if s.status == 200]
    span = sum(  # from the first due time to the last answer, per window
        max(s.done for s in p.samples) - min(s.due for s in p.samples) for p in phases if p.samples
    )
    lags = sorted(s.sent - s.due for s in samples)
    return Figures(
        offered=rate,
        achieved=len(ok) / span if span else 0.0,
        ok=len(ok),
        errors=len(samples) - len(ok),
        latency=_percentiles([s.done - s.due for s in ok]),
        service=_percentiles([s.done - s.sent for s in ok]),
        send_lag_p99=_percentiles(lags)["p99"],
        cpu_ms_per_request=sum(p.cpu_seconds for p in phases) * 1e3 / max(len(samples), 1),
        thread_cpu_ms_per_request=sum(p.thread_cpu_seconds for p in phases)
        * 1e3
        / max(len(samples), 1),
        client_cpu_ms_per_request=sum(p.client_cpu_seconds for p in phases)
        * 1e3
        / max(len(samples), 1),
        other_cores=max(0.0, max(p.other_cores for p in phases)),
    )


# --- zero loss --------------------------------------------------------------------------------


def pending(port: int) -> float | None:
    url = f"http://127.0.0.1:{port}/metrics"
    with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=5) as response:
        for line in response.read().decode().splitlines():
            if line.startswith("gateway_requests_pending "):
                return float(line.split()[1])
    return None


def logged(home: Path, ids: set[str]) -> int:
    from governance_pipelines.store import GovernanceStore
    from governance_pipelines.store.inference_log import read_inference_log

    store = GovernanceStore.open_existing(None, home)
    try:
        log = read_inference_log(store.engine, MODEL)
    finally:
        store.dispose()
    return int(log["request_id"].isin(ids).sum())


@dataclass
class LossCheck:
    workers: int
    acknowledged: int
    logged_running: int
    logged_after_stop: int
    segments_left: int
    exit_code: int

    @property
    def missing(self) -> int:
        return self.acknowledged - self.logged_after_stop


def check_loss(server: Server, home: Path, workers: int, ids: set[str]) -> LossCheck:
    """Pending 0 on every worker (each scrape lands on one), count; SIGTERM, count again."""
    deadline, zeros = time.monotonic() + 30, 0
    while zeros < 4 * workers and time.monotonic() < deadline:
        zeros = zeros + 1 if pending(server.port) == 0 else 0
        time.sleep(0.1)
    running = logged(home, ids)
    code = server.stop()
    segments = len(list((home / "gateway" / "journal").glob("segment-*.jsonl")))
    return LossCheck(workers, len(ids), running, logged(home, ids), segments, code)


# --- the benchmark ----------------------------------------------------------------------------


@dataclass
class Results:
    runs: dict[tuple[str, int], Run] = field(default_factory=dict)
    losses: list[LossCheck] = field(default_factory=list)
    saturation: list[tuple[str, int, Figures]] = field(default_factory=list)
    loads: list[str] = field(default_factory=list)


@contextlib.contextmanager
def running(kind: str, workers: int, env: dict[str, str], home: Path, version: int) -> Iterator[Server]:  # fmt: skip
    server = start_server(kind, workers, env, home, version)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def compare(workers: int, args: argparse.Namespace, context: dict[str, Any], results: Results) -> None:  # fmt: skip
    """Bare and governed servers with `workers` workers, measured in alternating blocks."""
    home, env, version = context["home"], context["server_env"], context["version"]
    token, body = context["token"], context["body"]
    results.loads.append(f"{workers}w: {_load()}")
    with (
        running("bare", workers, env, home, version) as bare,
        running("governed", workers, env, home, version) as governed,
    ):
        runs = [
            Run("bare", bare, Client(Target(bare.port, "/predict", token, body), parse_id=False)),
            Run(
                "governed",
                governed,
                Client(
                    Target(governed.port, f"/v1/endpoints/{ENDPOINT}/predict", token, body),
                    parse_id=True,
                ),
            ),
        ]
        _run(interleave(runs, args))
        for run in runs:
            results.runs[(run.kind, workers)] = run
            shown = figures(run.phases, args.rate)
            print(
                f"  {run.kind:8} {workers}w: {shown.achieved:6.1f} req/s, p50 "
                f"{shown.latency['p50']:.2f} p99 {shown.latency['p99']:.2f} ms, errors "
                f"{shown.errors}, server CPU {shown.cpu_ms_per_request:.2f} ms/req, connections "
                f"per worker {run.spread} (+{sum(p.new_connections for p in run.phases)} opened "
                f"under load), other processes {shown.other_cores:.2f} cores",
                flush=True,
            )
        for run in runs:
            _run(saturate(run, args, results))
        ids = {s.request_id for s in runs[1].sent if s.status == 200 and s.request_id}
        check = check_loss(governed, home, workers, ids)
        results.losses.append(check)
        print(
            f"    acknowledged {check.acknowledged}, in the log while running "
            f"{check.logged_running}, after SIGTERM {check.logged_after_stop} "
            f"(missing {check.missing}, journal segments left {check.segments_left}, "
            f"gateway exit status {check.exit_code})",
            flush=True,
        )


def report(args: argparse.Namespace, results: Results) -> None:
    workers = sorted({w for _, w in results.runs})
    table: dict[tuple[str, int], Figures] = {
        key: figures(run.phases, args.rate) for key, run in results.runs.items()
    }
    print(
        f"\n{args.rate:g} req/s open loop, {args.seconds:g} s measured per setup in "
        f"{args.block:g} s blocks alternating bare/governed, after {args.warmup:g} s of warm-up "
        f"blocks; {os.cpu_count()} CPUs; load average now {_load()}"
    )
    print(
        "| setup | workers | achieved req/s | ok | errors | p50 | p90 | p99 | max | "
        "service p50 | service p99 | server CPU/req (other threads) | client CPU/req | "
        "other processes |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for w in workers:
        for kind in ("bare", "governed"):
            f = table.get((kind, w))
            if f is None:
                continue
            lat, svc = f.latency, f.service
            print(
                f"| {kind} | {w} | {f.achieved:.1f} | {f.ok} | {f.errors} | {lat['p50']:.2f} ms "
                f"| {lat['p90']:.2f} ms | {lat['p99']:.2f} ms | {lat['max']:.1f} ms "
                f"| {svc['p50']:.2f} ms | {svc['p99']:.2f} ms | {f.cpu_ms_per_request:.2f} ms "
                f"({f.thread_cpu_ms_per_request:.2f}) "
                f"| {f.client_cpu_ms_per_request:.2f} ms | {f.other_cores:.2f} cores |"
            )
    print(
        "\n| workers | overhead p50 | overhead p99 | service p50 | service p99 | CPU/req | p99 < 2 ms |"
    )
    print("|---:|---:|---:|---:|---:|---:|---|")
    for w in workers:
        bare, gov = table.get(("bare", w)), table.get(("governed", w))
        if bare is None or gov is None:
            continue
        d99 = gov.latency["p99"] - bare.latency["p99"]
        print(
            f"| {w} | {gov.latency['p50'] - bare.latency['p50']:+.2f} ms | {d99:+.2f} ms "
            f"| {gov.service['p50'] - bare.service['p50']:+.2f} ms "
            f"| {gov.service['p99'] - bare.service['p99']:+.2f} ms "
            f"| {gov.cpu_ms_per_request - bare.cpu_ms_per_request:+.2f} ms "
            f"| {'yes' if d99 < TARGET_P99_MS else 'NO'} |"
        )
    print("\nstability (governed − bare over the first half of the blocks / the second half):")
    for w in workers:
        deltas: dict[str, list[float]] = {"p50": [], "p99": []}
        bare_phases = results.runs[("bare", w)].phases
        gov_phases = results.runs[("governed", w)].phases
        for part in (slice(None, len(bare_phases) // 2), slice(len(bare_phases) // 2, None)):
            bare_half = figures(bare_phases[part], args.rate).latency
            gov_half = figures(gov_phases[part], args.rate).latency
            for key in deltas:
                deltas[key].append(gov_half[key] - bare_half[key])
        print(
            f"  {w}w: p50 {' / '.join(f'{v:+.2f}' for v in deltas['p50'])} ms, "
            f"p99 {' / '.join(f'{v:+.2f}' for v in deltas['p99'])} ms"
        )
    lags = [f.send_lag_p99 for f in table.values()]
    print(f"client send lag (due → sent) p99: {min(lags):.2f}–{max(lags):.2f} ms")
    for (kind, w), run in sorted(results.runs.items()):
        print(f"connections per worker, {kind} {w}w: {run.spread}")
    if results.saturation:
        print("\n| saturation | workers | offered | achieved | p50 | p99 | errors |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for kind, w, f in results.saturation:
            print(
                f"| {kind} | {w} | {f.offered:.0f} | {f.achieved:.0f} | {f.latency['p50']:.1f} ms "
                f"| {f.latency['p99']:.1f} ms | {f.errors} |"
            )
    print("\n| zero loss | acknowledged (200) | in the log, running | after SIGTERM | missing |")
    print("|---:|---:|---:|---:|---:|")
    for c in results.losses:
        print(
            f"| {c.workers} worker(s) | {c.acknowledged} | {c.logged_running} "
            f"| {c.logged_after_stop} | {c.missing} |"
        )
    print("load average before each worker count: " + "; ".join(results.loads))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=float, default=200.0, help="requests per second")
    parser.add_argument("--seconds", type=float, default=30.0, help="measured window")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds sent, not counted")
    parser.add_argument("--workers", default="1,2", help="worker counts, comma-separated")
    parser.add_argument(
        "--block", type=float, default=3.0, help="seconds per alternating block (< 5: keep-alive)"
    )
    parser.add_argument("--connections", type=int, default=32, help="pre-opened connections")
    parser.add_argument(
        "--max-rate",
        type=float,
        default=0.0,
        help="saturation: after the steady run, raise the rate by --step-rate up to this "
        "(stops once p99 > 1 s or under 90 %% is served)",
    )
    parser.add_argument("--step-rate", type=float, default=50.0, help="saturation step")
    parser.add_argument("--step-seconds", type=float, default=10.0, help="per saturation step")
    parser.add_argument(
        "--omp-threads",
        type=int,
        default=1,
        help="OMP_NUM_THREADS of both servers (0: inherit); see the module docstring",
    )
    parser.add_argument(
        "--bare-batching",
        choices=("on", "off"),
        default="on",
        help="on: the bare endpoint scores concurrent requests together, as the gateway does "
        "(isolates the governance overhead); off: one model call per request",
    )
    parser.add_argument("--home", help="governance home to use (default: a temporary folder)")
    parser.add_argument("--bare-server", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--version", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_server:
        run_bare_server(args.bare_server, int(args.workers), args.home, args.version)
        return

    print(f"load average before: {_load()}; {os.cpu_count()} CPUs", flush=True)
    temporary = None if args.home else tempfile.mkdtemp(prefix="gateway-load-")
    home = Path(args.home or temporary or "").resolve()
    home.mkdir(parents=True, exist_ok=True)
    results = Results()
    try:
        env = governance_env(home)
        token = set_up(home, env)
        version, body = production_sample(home)
        body_bytes = json.dumps(body).encode()
        server_env = dict(env)
        if args.omp_threads:
            server_env["OMP_NUM_THREADS"] = str(args.omp_threads)
        server_env[BARE_BATCHING_ENV] = args.bare_batching
        context = {
            "home": home,
            "server_env": server_env,
            "version": version,
            "token": token,
            "body": body_bytes,
        }
        print(f"{MODEL} v{version}, body {len(body_bytes)} bytes, home {home}", flush=True)
        for workers in (int(w) for w in args.workers.split(",")):
            compare(workers, args, context, results)
        report(args, results)
    finally:
        if temporary:
            shutil.rmtree(temporary, ignore_errors=True)
    missing = sum(c.missing for c in results.losses)
    if missing:
        raise SystemExit(f"FAIL: {missing} acknowledged request(s) missing from the inference log")


def _load() -> str:
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())


if __name__ == "__main__":
    main()
