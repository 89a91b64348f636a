"""Everything one gateway process holds: endpoints, loaded versions, tokens, the journal.

The HTTP layer (`app.py`) asks this object questions — is this token allowed here, what
does this endpoint serve, where do these labels go — and this object asks the store.

A predict request never waits for the database: a token is looked up once per worker, and
from then on its grant is re-checked by the background refresh (every `refresh_seconds`),
so a revocation or an endpoint change takes effect within that time, as a promotion does;
an expiry is checked on the request itself. The refresh itself is one `max(seq)` query of
the audit log while nothing changes — every governed change (promotion, endpoint, token)
writes an audit event — and a full re-read every `full_refresh_seconds` catches anything
written around the governance API.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy.exc import SQLAlchemyError

from governance_pipelines.catalog.samples import recorded_sample
from governance_pipelines.config import GovernanceConfig
from governance_pipelines.security import tokens
from governance_pipelines.serving.gateway_metrics import GatewayMetrics
from governance_pipelines.serving.model_slots import EndpointSpec, ModelSlots
from governance_pipelines.serving.request_journal import RequestJournal
from governance_pipelines.store import GovernanceStore
from governance_pipelines.store.gateway_log import append_new_requests, request_owners
from governance_pipelines.store.inference_log import InferenceLogError, record_labels
from governance_pipelines.store.shadow_log import append_shadow_scores

__all__ = ["AuthFailure", "GatewayState", "Grant", "Outcome"]

LOGGER = logging.getLogger(__name__)
MAX_REMEMBERED_REFUSALS = 4_096


@dataclass(frozen=True)
class Grant:
    token_id: str
    team: str
    endpoints: frozenset[str]
    expires_at: datetime


@dataclass(frozen=True)
class AuthFailure:
    status: int  # 401, 403, 404 or 503
    reason: str


@dataclass(frozen=True)
class Outcome:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] | None = None

    @property
    def ok(self) -> bool:
        return self.status < 400


def _journal_rows(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Journal lines (JSON) as inference-log rows: timestamps back to datetimes."""
    return [
        {**row, "requested_at": datetime.fromisoformat(str(row["requested_at"]))} for row in rows
    ]


def _as_grant(found: tokens.TokenGrant | tokens.AuthFailure) -> Grant | AuthFailure:
    if isinstance(found, tokens.AuthFailure):
        return AuthFailure(found.status, found.message)
    return Grant(found.token_id, found.team, frozenset(found.endpoints), found.expires_at)


@dataclass
class GatewayState:
    config: GovernanceConfig
    store: GovernanceStore
    journal_folder: Path
    refresh_seconds: float = 2.0
    full_refresh_seconds: float = 30.0
    endpoints: dict[str, EndpointSpec] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.slots = ModelSlots(self.config, self.store)
        self.journal = RequestJournal(
            self.journal_folder,
            lambda rows: append_new_requests(self.store.engine, _journal_rows(rows)),
        )
        # A shadow's scores are journaled like answers, so a kill loses none of them either.
        self.shadow_journal = RequestJournal(
            self.journal_folder.with_name(f"{self.journal_folder.name}-shadow"),
            lambda rows: append_shadow_scores(self.store.engine, rows),
        )
        self.metrics = GatewayMetrics(self.journal.counts)
        self._grants: dict[tuple[str, str], Grant] = {}
        self._refused: dict[tuple[str, str], AuthFailure] = {}
        self._lock = threading.Lock()
        self._seen_audit_head = -1
        self._last_full_refresh = -math.inf

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> GatewayState:
        self.journal.start()
        self.shadow_journal.start()
        self.refresh()
        return self

    def refresh(self) -> None:
        """Re-read endpoints, stages and grants when the audit log moved (or the full-refresh
        interval passed); swap in what changed. Runs off the request path."""
        try:
            head = self.store.audit_event_count()
            now = time.monotonic()
            if (
                head == self._seen_audit_head
                and now - self._last_full_refresh < self.full_refresh_seconds
            ):
                return
            records = self.store.list_endpoints()
        except Exception:  # the store is briefly unavailable: keep serving what we have
            LOGGER.exception("could not re-read the endpoints; serving the previous ones")
            return
        self.endpoints = {
            r.name: EndpointSpec(
                name=r.name,
                model_name=r.model_name,
                allowed_teams=frozenset(r.allowed_teams),
                rate_limit_per_minute=r.rate_limit_per_minute,
                mode=r.mode if r.mode in ("canary", "shadow") else "live",
                candidate_version=r.candidate_version,
                traffic_share=r.traffic_share or (1.0 if r.mode == "shadow" else 0.0),
            )
            for r in records
            if not r.deleted
        }
        for change in self.slots.refresh(self.endpoints):
            LOGGER.info("gateway: %s", change)
        self.metrics.serving.clear()
        for name, slot in self.slots.slots.items():
            self.metrics.serving.labels(name, slot.primary.model_name, "primary").set(
                slot.primary.version
            )
            for role, version in (("canary", slot.canary), ("shadow", slot.shadow)):
                if version is not None:
                    self.metrics.serving.labels(name, version.model_name, role).set(version.version)
        self._recheck_grants()
        self._seen_audit_head, self._last_full_refresh = head, now

    def _recheck_grants(self) -> None:
        """Ask the store again about every token this worker has seen."""
        with self._lock:
            keys = list(self._grants)
            self._refused.clear()  # e.g. a 404 for an endpoint created since
        for key in keys:
            result = self._lookup_cached_key(key)
            with self._lock:
                if isinstance(result, Grant):
                    self._grants[key] = result
                else:
                    self._grants.pop(key, None)
                    self._remember_refusal(key, result)

    def _lookup_cached_key(self, key: tuple[str, str]) -> Grant | AuthFailure:
        token_sha256, endpoint = key
        try:
            found = tokens.authenticate_digest(self.store, token_sha256, endpoint or None)
        except Exception:  # the store is briefly unavailable: keep the grant we have
            LOGGER.exception("could not re-check an API token; keeping its grant")
            return self._grants.get(key) or AuthFailure(503, "the token store is unavailable")
        return _as_grant(found)

    def _remember_refusal(self, key: tuple[str, str], refusal: AuthFailure) -> None:
        if len(self._refused) >= MAX_REMEMBERED_REFUSALS:  # random tokens must not grow it
            self._refused.clear()
        self._refused[key] = refusal

    def close(self) -> None:
        self.journal.close()
        self.shadow_journal.close()

    # --- questions the HTTP layer asks -----------------------------------------------------

    def cached_grant(self, token: str, endpoint: str) -> Grant | AuthFailure | None:
        """The answer for this token here without the store, or None (look it up)."""
        key = (tokens.token_sha256(token), endpoint)
        with self._lock:
            grant = self._grants.get(key)
            refusal = self._refused.get(key)
        if grant is not None:
            if datetime.now(UTC) >= grant.expires_at:
                return AuthFailure(401, f"API token {grant.token_id} has expired")
            return grant
        return refusal

    def authenticate(self, token: str, endpoint: str) -> Grant | AuthFailure:
        """May this token call `endpoint` ("" — is it valid at all)? Asks the store only for
        a token this worker has not seen (call it off the event loop)."""
        cached = self.cached_grant(token, endpoint)
        if cached is not None:
            return cached
        key = (tokens.token_sha256(token), endpoint)
        try:
            result = _as_grant(tokens.authenticate(self.store, token, endpoint or None))
        except SQLAlchemyError:  # not remembered: the next request asks again
            LOGGER.exception("could not look up an API token")
            return AuthFailure(503, "the token store is unavailable; retry shortly")
        with self._lock:
            if isinstance(result, Grant):
                self._grants[key] = result
            else:
                self._remember_refusal(key, result)
        return result

    def visible_to(self, grant: Grant) -> list[str]:
        return [n for n in self.endpoints if n in grant.endpoints]

    def describe(self, name: str) -> dict[str, Any]:
        spec = self.endpoints.get(name)
        slot = self.slots.slots.get(name)
        if spec is None:
            return {"name": name, "error": "no such endpoint"}
        described: dict[str, Any] = {
            "name": name,
            "model": spec.model_name,
            "mode": spec.mode,
            "allowed_teams": sorted(spec.allowed_teams),
            "rate_limit_per_minute": spec.rate_limit_per_minute,
            "ready": slot is not None,
        }
        if slot is None:
            described["problem"] = self.slots.problems.get(name)
            return described
        described["model_version"] = slot.primary.version
        for role, version in (("canary", slot.canary), ("shadow", slot.shadow)):
            if version is not None:
                described[role] = {"version": version.version, "traffic_share": spec.traffic_share}
        described["inputs"] = slot.primary.schema.to_dict()
        described["outputs"] = [{"name": "prediction", "type": "number"}]
        sample = recorded_sample(self.store, spec.model_name, slot.primary.version)
        if sample is not None:
            described["sample_request"] = {"records": [sample.request]}
            described["sample_response"] = sample.response
        return described

    def ready(self) -> Outcome:
        loaded = sorted(self.slots.slots)
        problems = dict(self.slots.problems)
        ok = bool(loaded) and not problems
        return Outcome(200 if ok else 503, {"ready": ok, "serving": loaded, "problems": problems})

    def record_labels(self, name: str, team: str, labels: Any) -> Outcome:
        """Late ground truth for requests this team sent to this endpoint's model."""
        spec = self.endpoints.get(name)
        if spec is None:
            return Outcome(404, {"error": f"no endpoint {name!r}"})
        if not isinstance(labels, list) or not labels:
            return Outcome(
                422, {"error": 'expected {"labels": [{"request_id": ..., "label": ...}]}'}
            )
        bad = [
            i
            for i, item in enumerate(labels)
            if not isinstance(item, Mapping)
            or not isinstance(item.get("request_id"), str)
            or isinstance(item.get("label"), bool)
            or not isinstance(item.get("label"), int | float)
            or not math.isfinite(item["label"])
        ]
        if bad:
            return Outcome(
                422,
                {
                    "error": "each label needs a string request_id and a numeric label",
                    "records": bad,
                },
            )
        ids = [str(item["request_id"]) for item in labels]
        logged = request_owners(self.store.engine, ids)
        unknown = [i for i in ids if i not in logged]
        if unknown:
            self.journal.flush()  # maybe still in the journal: write it, then look again
            logged = request_owners(self.store.engine, ids)
            unknown = [i for i in ids if i not in logged]
        foreign = [i for i in ids if i in logged and logged[i] != (spec.model_name, team)]
        if unknown or foreign:
            return Outcome(
                404,
                {
                    "error": "unknown request ids (or not requests of this team to this model)",
                    "request_ids": unknown + foreign,
                },
            )
        frame = pd.DataFrame(
            {
                "request_id": ids,
                "label": [float(item["label"]) for item in labels],
                "labeled_at": [datetime.now(UTC)] * len(ids),
            }
        )
        try:
            added = record_labels(self.store.engine, frame)
        except InferenceLogError as error:
            return Outcome(409, {"error": str(error)})
        return Outcome(200, {"recorded": added, "already_recorded": len(ids) - added})
