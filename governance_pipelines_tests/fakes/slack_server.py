"""A local fake of Slack's Web API (``chat.postMessage``, ``auth.test``) for tests.

Tests must exercise the real HTTP path of ``slack_sdk.WebClient`` (headers, status codes,
``Retry-After``, timeouts) without reaching slack.com, so this is an actual HTTP server on
127.0.0.1 rather than a mock of the client. It answers the way Slack does: HTTP 200 with
``{"ok": false, "error": ...}`` for API errors, 429 with ``Retry-After`` for rate limits,
and it can be scripted to fail the next N calls.

Usage::

    with FakeSlackServer(token="xoxb-test", channels=["alerts"]) as slack:
        WebClient(token="xoxb-test", base_url=slack.base_url).chat_postMessage(...)
        assert slack.messages[0].text == ...

The module has no dagster import and no I/O at import time; the server binds a port only in
:meth:`FakeSlackServer.start`.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

import pytest

__all__ = [
    "DEFAULT_CHANNELS",
    "DEFAULT_TOKEN",
    "FakeSlackServer",
    "ReceivedMessage",
    "RecordedRequest",
    "ScriptedFailure",
    "make_fake_slack_fixture",
]

DEFAULT_TOKEN = "xoxb-fake-governance-token"
DEFAULT_CHANNELS = ("ml-alerts", "ml-governance")
BOT_USER = "governance-bot"
BOT_USER_ID = "U0FAKEBOT"
BOT_ID = "B0FAKEBOT"
TEAM_ID = "T0FAKETEAM"
MAX_TEXT_CHARS = 40_000

FailureKind = Literal["api_error", "rate_limited", "http_error", "slow", "disconnect"]


@dataclass(frozen=True)
class ScriptedFailure:
    """One way to fail a call; build with the class methods, queue with ``fail_next``."""

    kind: FailureKind
    error: str | None = None
    status: int = 200
    retry_after_s: int | None = None
    delay_s: float = 0.0
    deliver: bool = False
    method: str | None = "chat.postMessage"

    @classmethod
    def api_error(cls, error: str, *, method: str | None = "chat.postMessage") -> ScriptedFailure:
        """HTTP 200 with ``{"ok": false, "error": error}``, as Slack reports API errors."""
        return cls(kind="api_error", error=error, method=method)

    @classmethod
    def rate_limited(
        cls, retry_after_s: int = 30, *, method: str | None = "chat.postMessage"
    ) -> ScriptedFailure:
        """HTTP 429, ``Retry-After: retry_after_s``, body ``{"ok": false, "error": "ratelimited"}``."""
        return cls(kind="rate_limited", status=429, retry_after_s=retry_after_s, method=method)

    @classmethod
    def http_error(
        cls, status: int = 500, *, method: str | None = "chat.postMessage"
    ) -> ScriptedFailure:
        """A bare HTTP error with a plain-text body, as a load balancer in front of Slack sends."""
        return cls(kind="http_error", status=status, method=method)

    @classmethod
    def slow(
        cls, delay_s: float, *, deliver: bool = False, method: str | None = "chat.postMessage"
    ) -> ScriptedFailure:
        """Answer only after ``delay_s`` (longer than the client timeout → client times out).

        With ``deliver=True`` the message is still posted, as happens on real Slack when
        the client gives up first: the case that makes retries produce duplicates.
        Otherwise the late answer is ``{"ok": false, "error": "request_timeout"}``.
        """
        return cls(kind="slow", delay_s=delay_s, deliver=deliver, method=method)

    @classmethod
    def disconnect(cls, *, method: str | None = "chat.postMessage") -> ScriptedFailure:
        """Close the connection without answering (client sees a connection reset)."""
        return cls(kind="disconnect", method=method)


@dataclass(frozen=True)
class ReceivedMessage:
    """A message the fake accepted (what would now be visible in the channel)."""

    channel: str
    channel_id: str
    text: str | None
    blocks: list[dict[str, Any]] | None
    token: str | None
    ts: str
    payload: Mapping[str, Any]


@dataclass(frozen=True)
class RecordedRequest:
    """Every API call that reached the fake, including failed and scripted ones."""

    method: str
    status: int
    error: str | None
    token: str | None
    content_type: str
    payload: Mapping[str, Any]
    failure: ScriptedFailure | None = None


@dataclass
class _Channel:
    name: str
    id: str
    bot_is_member: bool = True
    archived: bool = False


@dataclass
class _State:
    """Mutable server state, guarded by ``lock`` (handlers run on many threads)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    messages: list[ReceivedMessage] = field(default_factory=list)
    requests: list[RecordedRequest] = field(default_factory=list)
    failures: deque[ScriptedFailure] = field(default_factory=deque)
    channels: dict[str, _Channel] = field(default_factory=dict)


class FakeSlackServer:
    """Slack's Web API on ``http://127.0.0.1:<port>/api/`` in a background thread.

    ``token`` is the only accepted bot token (others get ``invalid_auth``, none gets
    ``not_authed``). ``channels`` are channels the bot is in; ``channels_without_bot``
    exist but answer ``not_in_channel``; anything else is ``channel_not_found``. Channels
    may be addressed as ``name``, ``#name`` or their ID (``channel_id(name)``).
    """

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        channels: Iterable[str] = DEFAULT_CHANNELS,
        channels_without_bot: Iterable[str] = (),
    ) -> None:
        self.token = token
        self._state = _State()
        self._ids = itertools.count(1)
        self._ts_seq = itertools.count(1)
        for name in channels:
            self.add_channel(name)
        for name in channels_without_bot:
            self.add_channel(name, bot_is_member=False)
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeSlackServer:
        """Bind an ephemeral port on 127.0.0.1 and serve in a daemon thread."""
        if self._httpd is not None:
            raise RuntimeError("FakeSlackServer is already running")
        self._stopping.clear()
        self._httpd = _Server(("127.0.0.1", 0), _make_handler(self))
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-slack",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; wakes handlers sleeping in a ``slow`` failure so this is quick."""
        if self._httpd is None:
            return
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> FakeSlackServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- addresses -------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("FakeSlackServer is not running; call start() first")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """The ``base_url`` for ``WebClient`` (with the trailing slash slack-sdk needs)."""
        return f"http://127.0.0.1:{self.port}/api/"

    # -- scripting and inspection ----------------------------------------------------------

    def add_channel(self, name: str, *, bot_is_member: bool = True, archived: bool = False) -> str:
        """Create a channel and return its ID."""
        name = name.lstrip("#")
        channel = _Channel(
            name=name,
            id=f"C{next(self._ids):08d}FK",
            bot_is_member=bot_is_member,
            archived=archived,
        )
        with self._state.lock:
            self._state.channels[name] = channel
        return channel.id

    def channel_id(self, name: str) -> str:
        with self._state.lock:
            return self._state.channels[name.lstrip("#")].id

    def fail_next(self, count: int, failure: ScriptedFailure) -> None:
        """Make the next ``count`` calls of ``failure.method`` (any method if None) fail."""
        if count < 0:
            raise ValueError("count must be >= 0")
        with self._state.lock:
            self._state.failures.extend([failure] * count)

    @property
    def pending_failures(self) -> int:
        with self._state.lock:
            return len(self._state.failures)

    @property
    def messages(self) -> list[ReceivedMessage]:
        """Messages accepted so far (a snapshot copy)."""
        with self._state.lock:
            return list(self._state.messages)

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every call received so far, in arrival order (a snapshot copy)."""
        with self._state.lock:
            return list(self._state.requests)

    def reset(self) -> None:
        """Forget messages, requests and queued failures (channels stay)."""
        with self._state.lock:
            self._state.messages.clear()
            self._state.requests.clear()
            self._state.failures.clear()

    # -- request handling (called from handler threads) ------------------------------------

    def _take_failure(self, method: str) -> ScriptedFailure | None:
        with self._state.lock:
            for i, failure in enumerate(self._state.failures):
                if failure.method is None or failure.method == method:
                    del self._state.failures[i]
                    return failure
        return None

    def _record(self, request: RecordedRequest) -> None:
        with self._state.lock:
            self._state.requests.append(request)

    def _sleep(self, seconds: float) -> bool:
        """Sleep unless the server is stopping; True if the server is still running."""
        return not self._stopping.wait(seconds)

    def _authenticate(self, token: str | None) -> str | None:
        if not token:
            return "not_authed"
        if token != self.token:
            return "invalid_auth"
        return None

    def _auth_test(self) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://fake-governance.slack.com/",
            "team": "Fake Governance",
            "user": BOT_USER,
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _post_message(self, payload: Mapping[str, Any], token: str | None) -> dict[str, Any]:
        target = str(payload.get("channel") or "")
        with self._state.lock:
            channel = self._state.channels.get(target.lstrip("#")) or next(
                (c for c in self._state.channels.values() if c.id == target), None
            )
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        if channel.archived:
            return {"ok": False, "error": "is_archived"}
        if not channel.bot_is_member:
            return {"ok": False, "error": "not_in_channel"}

        blocks = payload.get("blocks")
        if isinstance(blocks, str):
            try:
                blocks = json.loads(blocks)
            except json.JSONDecodeError:
                return {"ok": False, "error": "invalid_blocks_format"}
        if blocks is not None and not (
            isinstance(blocks, list)
            and all(isinstance(b, dict) and isinstance(b.get("type"), str) for b in blocks)
        ):
            return {"ok": False, "error": "invalid_blocks"}
        text = payload.get("text")
        if not text and not blocks:
            return {"ok": False, "error": "no_text"}
        if text is not None and len(str(text)) > MAX_TEXT_CHARS:
            return {"ok": False, "error": "msg_too_long"}

        ts = f"{int(time.time())}.{next(self._ts_seq):06d}"
        message: dict[str, Any] = {
            "type": "message",
            "subtype": "bot_message",
            "text": text or "",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "team": TEAM_ID,
            "ts": ts,
        }
        if blocks:
            message["blocks"] = blocks
        with self._state.lock:
            self._state.messages.append(
                ReceivedMessage(
                    channel=target,
                    channel_id=channel.id,
                    text=None if text is None else str(text),
                    blocks=blocks,
                    token=token,
                    ts=ts,
                    payload=dict(payload),
                )
            )
        return {"ok": True, "channel": channel.id, "ts": ts, "message": message}

    def _dispatch(
        self, method: str, payload: Mapping[str, Any], token: str | None
    ) -> tuple[int, dict[str, Any]]:
        """Answer an API call that got past scripted failures."""
        handlers: dict[str, Callable[[], dict[str, Any]]] = {
            "auth.test": self._auth_test,
            "chat.postMessage": lambda: self._post_message(payload, token),
        }
        if method not in handlers:
            return 404, {"ok": False, "error": "unknown_method", "req_method": method}
        auth_error = self._authenticate(token)
        if auth_error is not None:
            return 200, {"ok": False, "error": auth_error}
        return 200, handlers[method]()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet when a client hung up first (the timeout scenarios do that on purpose)."""


def _make_handler(fake: FakeSlackServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "FakeSlack/1.0"

        def log_message(self, format: str, *args: Any) -> None:
            """Silence the per-request stderr log."""

        def do_GET(self) -> None:
            self._handle(body=b"")

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self._handle(body=self.rfile.read(length) if length else b"")

        def _handle(self, body: bytes) -> None:
            parts = urlsplit(self.path)
            if not parts.path.startswith("/api/"):
                self._send_text(404, "Not Found (Slack's Web API lives under /api/)")
                return
            method = parts.path[len("/api/") :]
            content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            payload: dict[str, Any] = _flatten(parse_qs(parts.query))
            parse_error: str | None = None
            if body:
                if content_type == "application/json":
                    try:
                        parsed = json.loads(body)
                    except (json.JSONDecodeError, UnicodeDecodeError):
                        parse_error = "invalid_json"
                    else:
                        if isinstance(parsed, dict):
                            payload.update(parsed)
                        else:
                            parse_error = "invalid_json"
                elif content_type == "application/x-www-form-urlencoded":
                    payload.update(_flatten(parse_qs(body.decode("utf-8"))))
                else:
                    parse_error = "invalid_form_data"
            token = _bearer(self.headers.get("Authorization"))
            if token is None and content_type != "application/json":
                # Slack accepts the token as a form field, but never in a JSON body.
                token = payload.pop("token", None)

            failure = fake._take_failure(method)
            if failure is not None:
                self._fail(method, failure, payload, token, content_type)
                return
            if parse_error is not None:
                status, answer = 200, {"ok": False, "error": parse_error}
            else:
                status, answer = fake._dispatch(method, payload, token)
            fake._record(
                RecordedRequest(method, status, answer.get("error"), token, content_type, payload)
            )
            self._send_json(status, answer)

        def _fail(
            self,
            method: str,
            failure: ScriptedFailure,
            payload: dict[str, Any],
            token: str | None,
            content_type: str,
        ) -> None:
            def record(status: int, error: str | None) -> None:
                fake._record(
                    RecordedRequest(method, status, error, token, content_type, payload, failure)
                )

            if failure.kind == "api_error":
                record(200, failure.error)
                self._send_json(200, {"ok": False, "error": failure.error})
            elif failure.kind == "rate_limited":
                record(429, "ratelimited")
                self._send_json(
                    429,
                    {"ok": False, "error": "ratelimited"},
                    headers={"Retry-After": str(failure.retry_after_s)},
                )
            elif failure.kind == "http_error":
                record(failure.status, f"http_{failure.status}")
                self._send_text(failure.status, "upstream error")
            elif failure.kind == "disconnect":
                record(0, "disconnect")
                self.close_connection = True
            elif failure.kind == "slow":
                if not fake._sleep(failure.delay_s):
                    record(0, "server_stopped")
                    return
                if failure.deliver:
                    status, answer = fake._dispatch(method, payload, token)
                else:
                    status, answer = 200, {"ok": False, "error": "request_timeout"}
                record(status, answer.get("error"))
                self._send_json(status, answer)

        def _send_json(
            self, status: int, answer: Mapping[str, Any], headers: Mapping[str, str] | None = None
        ) -> None:
            data = json.dumps(answer).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def _send_text(self, status: int, text: str) -> None:
            data = text.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


def _bearer(header: str | None) -> str | None:
    if header and header.lower().startswith("bearer "):
        return header[len("bearer ") :].strip() or None
    return None


def _flatten(query: Mapping[str, list[str]]) -> dict[str, Any]:
    return {key: values[-1] for key, values in query.items()}


def make_fake_slack_fixture(
    *,
    name: str = "fake_slack",
    scope: Literal["function", "class", "module", "package", "session"] = "function",
    **server_kwargs: Any,
) -> Any:
    """Return a pytest fixture that yields a running :class:`FakeSlackServer`.

    A factory instead of a fixture so the top-level conftest can register it under the
    name and scope it wants, e.g. ``fake_slack = make_fake_slack_fixture()``.
    ``server_kwargs`` go to :class:`FakeSlackServer` (``token``, ``channels``, ...).
    """

    def _fixture() -> Iterator[FakeSlackServer]:
        with FakeSlackServer(**server_kwargs) as server:
            yield server

    return pytest.fixture(scope=scope, name=name)(_fixture)
