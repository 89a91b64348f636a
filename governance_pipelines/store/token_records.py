"""API tokens: the public part of each token a gateway checks requests against.

The secret never reaches the store: a token row holds its sha256 (unique, looked up on
every request), its public id, team, endpoint scope and lifetime. Revoking is the only
change, rebinding the row to its `token.revoked` event; every read verifies the row's
binding, so a token row written outside this module authenticates nothing. Issuing and
revoking are guarded by `security/tokens.py`; `endpoint_records.EndpointRecordsMixin`
exposes these functions on the store.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from governance_pipelines.canonical import canonical_json
from governance_pipelines.store._time import _iso, _now, _stamp, _utc
from governance_pipelines.store.access_records import NAME_LIMIT
from governance_pipelines.store.bindings import (
    insert_bound,
    update_bound,
    verified_row,
    verified_rows,
)
from governance_pipelines.store.errors import RecordIntegrityError
from governance_pipelines.store.schema import api_tokens

TOKEN_ISSUED, TOKEN_REVOKED = "token.issued", "token.revoked"


def _trusted(connection: sa.Connection, row: sa.Row[Any]) -> None:
    problem = verified_row(connection, api_tokens, row)
    if problem is not None:
        raise RecordIntegrityError(
            f"token {row.token_id!r} cannot be trusted: {problem}; it authenticates nothing. "
            "Run `governance audit verify` and restore the store from a verified backup"
        )


@dataclass(frozen=True)
class TokenRecord:
    """One API token as stored: its public id, team, scope and lifetime — never the secret.

    `token_sha256` is kept out of `repr` and `to_dict`, so listings and logs never show it.
    """

    token_id: str
    team: str
    endpoints: tuple[str, ...]
    created_by: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None
    revoked_by: str | None = None
    token_sha256: str = field(default="", repr=False, compare=False)

    def status(self, at: datetime) -> str:
        """'revoked', 'expired' or 'active' at `at` (a token expires at `expires_at`)."""
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if _utc(at) >= self.expires_at else "active"

    def to_dict(self) -> dict[str, Any]:
        return {
            "token_id": self.token_id,
            "team": self.team,
            "endpoints": list(self.endpoints),
            "created_by": self.created_by,
            "created_at": _iso(self.created_at),
            "expires_at": _iso(self.expires_at),
            "revoked_at": _iso(self.revoked_at),
            "revoked_by": self.revoked_by,
        }

    @classmethod
    def from_row(cls, row: sa.Row[Any]) -> TokenRecord:
        m = row._mapping
        return cls(
            token_id=m["token_id"],
            team=m["team"],
            endpoints=tuple(json.loads(m["endpoints"])),
            created_by=m["created_by"],
            created_at=_utc(m["created_at"]),
            expires_at=_utc(m["expires_at"]),
            revoked_at=_stamp(m["revoked_at"]),
            revoked_by=m["revoked_by"],
            token_sha256=m["token_sha256"],
        )


# --- connection level (inside the caller's unit of work) ------------------------------------------------------------


def token_id_taken(connection: sa.Connection, token_id: str) -> bool:
    query = sa.select(api_tokens.c.token_id).where(api_tokens.c.token_id == token_id)
    return connection.execute(query).first() is not None


def read_token(connection: sa.Connection, token_id: str) -> TokenRecord | None:
    row = connection.execute(
        sa.select(api_tokens).where(api_tokens.c.token_id == token_id)
    ).one_or_none()
    if row is None:
        return None
    _trusted(connection, row)
    return TokenRecord.from_row(row)


def read_token_by_hash(connection: sa.Connection, token_sha256: str) -> TokenRecord | None:
    """The token whose secret hashes to `token_sha256`; RecordIntegrityError if its row was
    written or changed outside this module (a forged token lets nothing through)."""
    row = connection.execute(
        sa.select(api_tokens).where(api_tokens.c.token_sha256 == token_sha256)
    ).one_or_none()
    if row is None:
        return None
    _trusted(connection, row)
    return TokenRecord.from_row(row)


def read_tokens(connection: sa.Connection) -> list[TokenRecord]:
    """Tokens whose binding verifies, newest first."""
    query = sa.select(api_tokens).order_by(api_tokens.c.created_at.desc(), api_tokens.c.token_id)
    good, _problems = verified_rows(connection, api_tokens, connection.execute(query).all())
    return [TokenRecord.from_row(row) for row in good]


def insert_token(
    connection: sa.Connection,
    *,
    token_id: str,
    token_sha256: str,
    team: str,
    endpoint_names: Sequence[str],
    expires_at: datetime,
    actor: str,
) -> TokenRecord:
    """A new token (its hash only), bound to its `token.issued` event. The event carries the
    token's public fields; neither the secret nor its hash is ever in a payload."""
    who = actor[:NAME_LIMIT]
    public = TokenRecord(token_id, team, tuple(endpoint_names), who, _now(), _utc(expires_at))
    values = {
        "token_id": token_id,
        "token_sha256": token_sha256,
        "team": team,
        "endpoints": canonical_json(list(endpoint_names)),
        "created_by": who,
        "created_at": public.created_at,
        "expires_at": public.expires_at,
    }
    row, _event = insert_bound(
        connection,
        api_tokens,
        values,
        actor=who,
        action=TOKEN_ISSUED,
        payload={"token_id": token_id, "before": None, "after": public.to_dict()},
    )
    return TokenRecord.from_row(row)


def revoke(connection: sa.Connection, before: TokenRecord, *, actor: str) -> TokenRecord:
    """Mark a token revoked, rebinding it to its `token.revoked` event."""
    at = _now()
    who = actor[:NAME_LIMIT]
    after = replace(before, revoked_at=at, revoked_by=who)
    row, _event = update_bound(
        connection,
        api_tokens,
        before.token_id,
        {"revoked_at": at, "revoked_by": who},
        actor=who,
        action=TOKEN_REVOKED,
        payload={"token_id": before.token_id, "before": before.to_dict(), "after": after.to_dict()},
    )
    return TokenRecord.from_row(row)
