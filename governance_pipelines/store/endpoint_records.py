"""Serving endpoints and API tokens: the rows a gateway lets requests through with.

Both change by design — an endpoint's settings, its soft delete, a token's revocation — so
every write rebinds the row to the audit event that records it (the settings before and
after in the payload), and every read returns only rows whose binding verifies: a row
inserted or edited outside this module never lets a request through. Nothing is removed
(a trigger refuses DELETE), and a token's secret never reaches this module, only its sha256.

Token rows are `token_records`' (this mixin exposes them on the store). The rules — who
may, what is valid — live in `security/endpoint_management.py` and `security/tokens.py`,
which call the connection-level functions inside their own unit of work, so the access
decision commits with the change it allowed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from governance_pipelines.canonical import canonical_json
from governance_pipelines.store._time import _iso, _now, _stamp, _utc
from governance_pipelines.store.access_records import NAME_LIMIT
from governance_pipelines.store.bindings import (
    insert_bound,
    update_bound,
    verified_row,
    verified_rows,
)
from governance_pipelines.store.errors import RecordIntegrityError, StoreError, UnknownRecordError
from governance_pipelines.store.schema import endpoints
from governance_pipelines.store.token_records import (
    TokenRecord,
    insert_token,
    read_token,
    read_token_by_hash,
    read_tokens,
    revoke,
)

__all__ = ["ENDPOINT_SETTINGS", "EndpointRecord", "EndpointRecordsMixin", "TokenRecord"]

ENDPOINT_CREATED, ENDPOINT_UPDATED, ENDPOINT_DELETED = (
    "endpoint.created",
    "endpoint.updated",
    "endpoint.deleted",
)
# The settings an endpoint is created with and an update may change.
ENDPOINT_SETTINGS = (
    "model_name",
    "stage",
    "candidate_version",
    "mode",
    "traffic_share",
    "allowed_teams",
    "rate_limit_per_minute",
)


@dataclass(frozen=True)
class EndpointRecord:
    """One endpoint as stored: a URL name bound to a model, a stage and its consumers."""

    name: str
    model_name: str
    stage: str  # production | candidate
    candidate_version: int | None
    mode: str  # live | canary | shadow
    traffic_share: float | None
    allowed_teams: tuple[str, ...]
    rate_limit_per_minute: int
    created_by: str
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = None
    deleted_by: str | None = None

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None

    def settings(self) -> dict[str, Any]:
        return {name: _plain(getattr(self, name)) for name in ENDPOINT_SETTINGS}

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            **self.settings(),
            "created_by": self.created_by,
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
            "deleted_at": _iso(self.deleted_at),
            "deleted_by": self.deleted_by,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EndpointRecord:
        def when(key: str) -> datetime | None:
            value = data.get(key)
            return None if value is None else datetime.fromisoformat(str(value))

        created, updated = when("created_at"), when("updated_at")
        if created is None or updated is None:
            raise ValueError("an endpoint record has both created_at and updated_at")
        share = data.get("traffic_share")
        version = data.get("candidate_version")
        return cls(
            name=str(data["name"]),
            model_name=str(data["model_name"]),
            stage=str(data["stage"]),
            candidate_version=None if version is None else int(version),
            mode=str(data["mode"]),
            traffic_share=None if share is None else float(share),
            allowed_teams=tuple(str(t) for t in data["allowed_teams"]),
            rate_limit_per_minute=int(data["rate_limit_per_minute"]),
            created_by=str(data["created_by"]),
            created_at=created,
            updated_at=updated,
            deleted_at=when("deleted_at"),
            deleted_by=data.get("deleted_by"),
        )

    @classmethod
    def from_row(cls, row: sa.Row[Any]) -> EndpointRecord:
        m = row._mapping
        return cls(
            name=m["name"],
            model_name=m["model_name"],
            stage=m["stage"],
            candidate_version=m["candidate_version"],
            mode=m["mode"],
            traffic_share=m["traffic_share"],
            allowed_teams=tuple(json.loads(m["allowed_teams"])),
            rate_limit_per_minute=m["rate_limit_per_minute"],
            created_by=m["created_by"],
            created_at=_utc(m["created_at"]),
            updated_at=_utc(m["updated_at"]),
            deleted_at=_stamp(m["deleted_at"]),
            deleted_by=m["deleted_by"],
        )


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _stored(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Settings as columns: team lists as canonical JSON."""
    unknown = sorted(set(settings) - set(ENDPOINT_SETTINGS))
    if unknown:
        raise ValueError(f"not endpoint settings: {', '.join(unknown)}")
    values = dict(settings)
    if "allowed_teams" in values:
        values["allowed_teams"] = canonical_json(list(values["allowed_teams"]))
    return values


def _trusted(connection: sa.Connection, table: sa.Table, row: sa.Row[Any], what: str) -> None:
    problem = verified_row(connection, table, row)
    if problem is not None:
        raise RecordIntegrityError(
            f"{what} cannot be trusted: {problem}; it is not used. Run `governance audit "
            "verify` and restore the store from a verified backup"
        )


# --- endpoints: connection level (inside the caller's unit of work) ----------------------


def read_endpoint(connection: sa.Connection, name: str) -> EndpointRecord | None:
    """The endpoint named `name`, deleted or not; RecordIntegrityError if its row does not
    match the event that last recorded it."""
    row = connection.execute(sa.select(endpoints).where(endpoints.c.name == name)).one_or_none()
    if row is None:
        return None
    _trusted(connection, endpoints, row, f"endpoint {name!r}")
    return EndpointRecord.from_row(row)


def read_endpoints(connection: sa.Connection, *, include_deleted: bool) -> list[EndpointRecord]:
    """Endpoints whose binding verifies, by name (`governance audit verify` names the rest)."""
    query = sa.select(endpoints).order_by(endpoints.c.name)
    if not include_deleted:
        query = query.where(endpoints.c.deleted_at.is_(None))
    good, _problems = verified_rows(connection, endpoints, connection.execute(query).all())
    return [EndpointRecord.from_row(row) for row in good]


def insert_endpoint(
    connection: sa.Connection, name: str, settings: Mapping[str, Any], *, actor: str
) -> EndpointRecord:
    """A new endpoint, bound to its `endpoint.created` event (before: null)."""
    at = _now()
    who = actor[:NAME_LIMIT]
    values = {"name": name, **_stored(settings)}
    values.update(created_by=who, created_at=at, updated_at=at)
    after = EndpointRecord.from_dict(
        {
            **settings,
            "name": name,
            "created_by": who,
            "created_at": _iso(at),
            "updated_at": _iso(at),
        }
    )
    row, _event = insert_bound(
        connection,
        endpoints,
        values,
        actor=who,
        action=ENDPOINT_CREATED,
        model_name=after.model_name,
        payload={"endpoint": name, "before": None, "after": after.to_dict()},
    )
    return EndpointRecord.from_row(row)


def change_endpoint(
    connection: sa.Connection,
    before: EndpointRecord,
    changes: Mapping[str, Any],
    *,
    actor: str,
    delete: bool = False,
) -> EndpointRecord:
    """Apply `changes` (settings) or mark the endpoint deleted, rebinding the row to its
    `endpoint.updated` / `endpoint.deleted` event with the settings before and after."""
    at = _now()
    who = actor[:NAME_LIMIT]
    values = _stored(changes)
    values["updated_at"] = at
    if delete:
        values.update(deleted_at=at, deleted_by=who)
    after = EndpointRecord.from_dict(
        {
            **before.to_dict(),
            **changes,
            "updated_at": _iso(at),
            "deleted_at": _iso(at if delete else before.deleted_at),
            "deleted_by": who if delete else before.deleted_by,
        }
    )
    row, _event = update_bound(
        connection,
        endpoints,
        before.name,
        values,
        actor=who,
        action=ENDPOINT_DELETED if delete else ENDPOINT_UPDATED,
        model_name=after.model_name,
        payload={"endpoint": before.name, "before": before.to_dict(), "after": after.to_dict()},
    )
    return EndpointRecord.from_row(row)


# --- the store's API ----------------------------------------------------------------------


class EndpointRecordsMixin:
    """Endpoints and tokens on `GovernanceStore`: reads for the gateway and the CLI, and plain
    writes (each with its audit event). Permission checks are `security/`'s, not these."""

    # Provided by GovernanceStore (repository.py), which this class is mixed into.
    engine: Engine
    unit_of_work: Callable[[Callable[[sa.Connection], Any]], Any]

    def create_endpoint(
        self, name: str, settings: Mapping[str, Any], *, actor: str
    ) -> EndpointRecord:
        return self.unit_of_work(lambda c: insert_endpoint(c, name, settings, actor=actor))

    def update_endpoint(
        self, name: str, changes: Mapping[str, Any], *, actor: str
    ) -> EndpointRecord:
        return self.unit_of_work(
            lambda c: change_endpoint(c, _live_endpoint(c, name), changes, actor=actor)
        )

    def delete_endpoint(self, name: str, *, actor: str) -> EndpointRecord:
        """Mark deleted (the row stays); its name is never used again."""
        return self.unit_of_work(
            lambda c: change_endpoint(c, _live_endpoint(c, name), {}, actor=actor, delete=True)
        )

    def get_endpoint(self, name: str, *, include_deleted: bool = False) -> EndpointRecord | None:
        """The endpoint a request names, or None (deleted ones only with `include_deleted`).
        Raises RecordIntegrityError when its row fails verification."""
        with self.engine.connect() as connection:
            record = read_endpoint(connection, name)
        if record is None or (record.deleted and not include_deleted):
            return None
        return record

    def list_endpoints(self, *, include_deleted: bool = False) -> list[EndpointRecord]:
        with self.engine.connect() as connection:
            return read_endpoints(connection, include_deleted=include_deleted)

    def issue_token(
        self,
        *,
        token_id: str,
        token_sha256: str,
        team: str,
        endpoint_names: Sequence[str],
        expires_at: datetime,
        actor: str,
    ) -> TokenRecord:
        return self.unit_of_work(
            lambda c: insert_token(
                c,
                token_id=token_id,
                token_sha256=token_sha256,
                team=team,
                endpoint_names=endpoint_names,
                expires_at=expires_at,
                actor=actor,
            )
        )

    def list_tokens(self) -> list[TokenRecord]:
        with self.engine.connect() as connection:
            return read_tokens(connection)

    def revoke_token(self, token_id: str, *, actor: str) -> TokenRecord:
        def work(connection: sa.Connection) -> TokenRecord:
            record = read_token(connection, token_id)
            if record is None:
                raise UnknownRecordError(f"there is no token {token_id!r}")
            if record.revoked_at is not None:
                raise StoreError(f"token {token_id} is already revoked")
            return revoke(connection, record, actor=actor)

        return self.unit_of_work(work)

    def token_by_hash(self, token_sha256: str) -> TokenRecord | None:
        """The token whose secret hashes to `token_sha256` (revoked and expired included:
        the caller says why it is refused). RecordIntegrityError for a forged row."""
        with self.engine.connect() as connection:
            return read_token_by_hash(connection, token_sha256)


def _live_endpoint(connection: sa.Connection, name: str) -> EndpointRecord:
    record = read_endpoint(connection, name)
    if record is None:
        raise UnknownRecordError(f"there is no endpoint {name!r}")
    if record.deleted:
        raise StoreError(f"endpoint {name!r} was deleted; deleted endpoints are not changed")
    return record
