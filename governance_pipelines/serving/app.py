"""The gateway's HTTP surface (Starlette): predict, labels, endpoint listings, health, metrics.

Why Starlette on uvicorn: both already ship with `dagster-webserver` (no new dependency),
and a bare ASGI router keeps the governance overhead — auth lookup, schema validation,
one journal write — to a fraction of a millisecond; FastAPI would add pydantic models per
request for a schema we already derive from `governance.yaml`.

Every call needs `Authorization: Bearer <token>`: 401 without or with an unknown, expired
or revoked token, 403 outside its scope, 429 with `Retry-After` over the consumer team's
rate limit, 422 naming each field and rule a record breaks, 503 with `Retry-After` when the
journal is full or the endpoint has nothing loaded. The consumer team written to the log is
the token's, never the caller's say-so.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator, Coroutine, Sequence
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from governance_pipelines.serving.gateway_state import AuthFailure, GatewayState
from governance_pipelines.serving.model_slots import LoadedVersion
from governance_pipelines.serving.rate_limit import RateLimiter

__all__ = ["create_app"]

VERSION_HEADER = "X-Model-Version"
# A request body larger than this is refused (413) before it is parsed: 1,000 records of a
# few dozen features fit easily; a multi-gigabyte body must not reach json.loads.
MAX_BODY_BYTES = 4 * 1024 * 1024
REQUEST_ID_HEADER = "X-Request-Id"


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    headers = extra.pop("headers", None)
    return JSONResponse({"error": message, **extra}, status_code=status, headers=headers)


async def _json_body(request: Request) -> Any:
    """The parsed body; raises ValueError (too large, not JSON, or NaN/Infinity literals)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise OverflowError
    data = b""
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_BODY_BYTES:
            raise OverflowError
    return json.loads(data, parse_constant=_no_constant)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _overloaded() -> JSONResponse:
    return _error(503, "the gateway is overloaded; retry shortly", headers={"Retry-After": "1"})


def _body_error(error: Exception, shape: str) -> JSONResponse:
    if isinstance(error, OverflowError):
        return _error(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
    return _error(400, f"the body must be JSON: {shape}")


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


class _Handlers:
    """The routes' handlers over one gateway state (one instance per app)."""

    def __init__(self, state: GatewayState) -> None:
        self.state = state
        self.limiter = RateLimiter()
        self._background: set[asyncio.Task[None]] = set()

    async def authorised(self, request: Request, endpoint: str) -> Any:
        """The request's grant, or the refusal to send. Only a token this worker has not
        seen yet costs a store lookup, and that runs off the event loop."""
        token = _bearer(request)
        if token is None:
            return _error(401, "missing bearer token", headers={"WWW-Authenticate": "Bearer"})
        grant = self.state.cached_grant(token, endpoint)
        if grant is None:
            grant = await asyncio.to_thread(self.state.authenticate, token, endpoint)
        if isinstance(grant, AuthFailure):
            headers = {"WWW-Authenticate": "Bearer"} if grant.status == 401 else None
            if grant.status == 503:
                headers = {"Retry-After": "5"}
            return _error(grant.status, grant.reason, headers=headers)
        return grant

    async def predict(self, request: Request) -> Response:
        started = time.perf_counter()
        name = request.path_params["name"]
        response = await self._predict(request, name, started)
        self.state.metrics.responses.labels(name, str(response.status_code)).inc()
        self.state.metrics.latency.labels(name).observe(time.perf_counter() - started)
        return response

    async def _predict(self, request: Request, name: str, started: float) -> Response:
        state = self.state
        grant = await self.authorised(request, name)
        if isinstance(grant, Response):
            return grant
        slot = state.slots.slots.get(name)
        if slot is None:
            why = state.slots.problems.get(name, "no such endpoint")
            status = 404 if name not in state.endpoints else 503
            return _error(
                status,
                f"endpoint {name!r} is not serving: {why}",
                headers={"Retry-After": "5"} if status == 503 else None,
            )
        wait = self.limiter.acquire(name, grant.team, slot.spec.rate_limit_per_minute)
        if wait:
            return _error(
                429,
                f"rate limit of {slot.spec.rate_limit_per_minute}/min for team {grant.team!r}",
                headers={"Retry-After": RateLimiter.retry_after_header(wait)},
            )
        try:
            body = await _json_body(request)
        except (ValueError, OverflowError) as error:  # JSONDecodeError is a ValueError
            return _body_error(error, '{"records": [{...}, ...]}')
        records = body.get("records") if isinstance(body, dict) else None
        version = slot.choose()
        errors = version.schema.validate(records)
        if errors:
            return _error(422, "invalid records", errors=[e.to_dict() for e in errors])
        assert isinstance(records, list)
        if not state.journal.admits(len(records)):  # don't score what cannot be logged
            return _overloaded()
        predictions: Sequence[float | None]
        try:
            predictions, failure = await version.batcher.score(records), None
        except Exception as error:  # the model itself failed: logged as an error, 500
            predictions, failure = [None] * len(records), str(error)
        response = _answer(state, grant.team, version, records, predictions, failure, started)
        shadow = slot.mirror() if response.status_code == 200 else None
        if shadow is not None:  # scored after the answer is on its way, never instead of it
            ids = request_ids(response.headers[REQUEST_ID_HEADER], len(records))
            self._spawn(self._shadow(name, shadow, records, ids))
        return response

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._background.add(task)  # a task nobody references may be collected mid-way
        task.add_done_callback(self._background.discard)

    async def _shadow(
        self, endpoint: str, version: LoadedVersion, records: list[dict[str, Any]], ids: list[str]
    ) -> None:
        """The shadow candidate's scores of an answered request, journaled for comparison."""
        journal, counter = self.state.shadow_journal, self.state.metrics.shadow
        if not journal.admits(len(records)):
            counter.labels(endpoint, "shed").inc()
            return
        started = time.perf_counter()
        scores: Sequence[float | None]
        try:
            scores, status = await version.batcher.score(records), "ok"
        except Exception:
            scores, status = [None] * len(records), "error"
        latency_ms = (time.perf_counter() - started) * 1000
        scored_at = datetime.now(UTC).isoformat()
        rows = [
            {
                "request_id": rid,
                "endpoint": endpoint,
                "model_name": version.model_name,
                "model_version": version.version,
                "scored_at": scored_at,
                "latency_ms": latency_ms,
                "status": status,
                "prediction": score,
            }
            for rid, score in zip(ids, scores, strict=True)
        ]
        outcome = (
            ("journaled" if status == "ok" else "error") if journal.append_many(rows) else "shed"
        )
        counter.labels(endpoint, outcome).inc()

    async def labels(self, request: Request) -> Response:
        name = request.path_params["name"]
        grant = await self.authorised(request, name)
        if isinstance(grant, Response):
            return grant
        try:
            body = await _json_body(request)
        except (ValueError, OverflowError) as error:
            return _body_error(error, '{"labels": [{"request_id": ..., "label": ...}]}')
        outcome = await asyncio.to_thread(  # database writes: off the event loop
            self.state.record_labels,
            name,
            grant.team,
            body.get("labels") if isinstance(body, dict) else None,
        )
        return JSONResponse(outcome.body, status_code=outcome.status, headers=outcome.headers)

    async def list_endpoints(self, request: Request) -> Response:
        grant = await self.authorised(request, "")
        if isinstance(grant, Response):
            return grant
        names = sorted(self.state.visible_to(grant))
        described = await asyncio.to_thread(lambda: [self.state.describe(n) for n in names])
        return JSONResponse({"endpoints": described})

    async def get_endpoint(self, request: Request) -> Response:
        name = request.path_params["name"]
        grant = await self.authorised(request, name)
        if isinstance(grant, Response):
            return grant
        return JSONResponse(await asyncio.to_thread(self.state.describe, name))

    async def healthz(self, _request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(self, _request: Request) -> Response:
        ready = self.state.ready()
        return JSONResponse(ready.body, status_code=200 if ready.ok else 503)

    async def metrics(self, _request: Request) -> Response:
        return Response(self.state.metrics.render(), media_type="text/plain; version=0.0.4")


def create_app(state: GatewayState) -> Starlette:
    """The ASGI app over a started `GatewayState` (its lifespan refreshes the endpoints)."""
    handlers = _Handlers(state)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(_refresh_forever(state))
        try:
            yield
        finally:
            task.cancel()
            state.close()

    return Starlette(
        routes=[
            Route("/v1/endpoints", handlers.list_endpoints, methods=["GET"]),
            Route("/v1/endpoints/{name}", handlers.get_endpoint, methods=["GET"]),
            Route("/v1/endpoints/{name}/predict", handlers.predict, methods=["POST"]),
            Route("/v1/endpoints/{name}/labels", handlers.labels, methods=["POST"]),
            Route("/healthz", handlers.healthz, methods=["GET"]),
            Route("/readyz", handlers.readyz, methods=["GET"]),
            Route("/metrics", handlers.metrics, methods=["GET"]),
        ],
        lifespan=lifespan,
    )


def request_ids(request_id: str, records: int) -> list[str]:
    """The log's request id of each record of a request (the request's own for one)."""
    return [request_id] if records == 1 else [f"{request_id}-{i}" for i in range(records)]


def _answer(
    state: GatewayState,
    team: str,
    version: LoadedVersion,
    records: list[dict[str, Any]],
    predictions: Sequence[float | None],
    error: str | None,
    started: float,
) -> Response:
    """Journal one log row per record (errors included), then answer."""
    request_id = uuid.uuid4().hex
    requested_at = datetime.now(UTC).isoformat()
    status = "ok" if error is None else "error"
    latency_ms = (time.perf_counter() - started) * 1000
    ids = request_ids(request_id, len(records))
    rows = [
        {
            "request_id": rid,
            "model_name": version.model_name,
            "model_version": version.version,
            "requested_at": requested_at,
            "consumer_team": team,
            "latency_ms": latency_ms,
            "status": status,
            "features": json.dumps(record, separators=(",", ":")),
            "prediction": prediction,
        }
        for rid, record, prediction in zip(ids, records, predictions, strict=True)
    ]
    if not state.journal.append_many(rows):
        return _overloaded()
    headers = {VERSION_HEADER: str(version.version), REQUEST_ID_HEADER: request_id}
    if error is not None:
        return _error(500, f"the model failed: {error}", request_id=request_id, headers=headers)
    return JSONResponse(
        {
            "request_id": request_id,
            "request_ids": ids,
            "model": version.model_name,
            "model_version": version.version,
            "predictions": predictions,
        },
        headers=headers,
    )


async def _refresh_forever(state: GatewayState) -> None:
    while True:
        await asyncio.sleep(state.refresh_seconds)
        await asyncio.to_thread(state.refresh)
