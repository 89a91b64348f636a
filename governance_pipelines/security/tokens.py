"""API tokens: issued once, stored only as a hash, checked on every gateway request.

* A token is `gov_` + 43 URL-safe characters (`secrets.token_urlsafe(32)`: 256 random bits).
  The prefix makes a leaked token findable by secret scanners. It is shown once, by
  `issue_token`, and never stored, logged or put in an audit payload: the store keeps its
  sha256 (a fast hash is enough for 256 random bits — there is no dictionary to try) and a
  short public id (`gpt_` + 8 hex) that lists, logs and revocations name.
* Issuing and revoking need `endpoint.manage` and are audited like endpoint changes
  (`endpoint_management.guarded_change`). A token belongs to one team declared in
  governance.yaml and names its endpoints explicitly (no wildcard); each must exist, not be
  deleted, and allow that team.
* `authenticate` answers every request: unknown, expired or revoked tokens are 401, a token
  used outside its scope is 403 — its endpoint list, or its team no longer allowed on the
  endpoint. The consumer team of a request is the token's, never the caller's say-so.

No dagster import: the CLI, the gateway and tests all call these functions.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from governance_pipelines.security.endpoint_management import (
    guarded_change,
    rejection,
)
from governance_pipelines.security.endpoint_rules import ENDPOINT_NAME, TEAM_NAME
from governance_pipelines.security.rbac import AccessAttempt
from governance_pipelines.store import GovernanceStore, endpoint_records, token_records
from governance_pipelines.store.endpoint_records import EndpointRecord
from governance_pipelines.store.errors import RecordIntegrityError
from governance_pipelines.store.token_records import TokenRecord

if TYPE_CHECKING:
    from governance_pipelines.config import GovernanceConfig

__all__ = [
    "AuthFailure",
    "IssuedToken",
    "TokenGrant",
    "authenticate",
    "authenticate_digest",
    "issue_token",
    "parse_expiry",
    "revoke_token",
    "token_sha256",
]

TOKEN_PREFIX = "gov_"
TOKEN_ID_PREFIX = "gpt_"
MAX_LIFETIME = timedelta(days=365)
_MAX_PRESENTED = 256  # longer "tokens" are not ours: refused before hashing
_LIFETIME = re.compile(r"(\d{1,6})\s*([dh])", re.IGNORECASE)
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")

UNKNOWN, EXPIRED, REVOKED = "unknown", "expired", "revoked"
OUT_OF_SCOPE, UNKNOWN_ENDPOINT, UNTRUSTED_ENDPOINT = (
    "out_of_scope",
    "unknown_endpoint",
    "untrusted_endpoint",
)


# --- secrets ------------------------------------------------------------------------------


def new_secret() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def new_token_id() -> str:
    return TOKEN_ID_PREFIX + secrets.token_hex(4)


def token_sha256(secret: str) -> str:
    """What the store keeps of a token (and looks it up by)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def parse_expiry(text: str, *, now: datetime | None = None) -> datetime:
    """`90d` / `12h` from now, or `2026-12-31`: valid through that day (until the next
    midnight UTC). Every token expires, within `MAX_LIFETIME`, so a forgotten one dies."""
    at = (now or datetime.now(UTC)).astimezone(UTC)
    value = text.strip()
    lifetime = _LIFETIME.fullmatch(value)
    if lifetime:
        amount, unit = int(lifetime.group(1)), lifetime.group(2).lower()
        if amount < 1:
            raise ValueError(f"--expires {text!r}: a token must live at least 1{unit}")
        expires = at + (timedelta(days=amount) if unit == "d" else timedelta(hours=amount))
    elif _DAY.fullmatch(value):
        try:
            last_day = date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"--expires {text!r} is not a date (YYYY-MM-DD)") from None
        if last_day >= date.max:
            raise ValueError(_too_long(text))
        expires = datetime.combine(last_day + timedelta(days=1), datetime.min.time(), UTC)
        if expires <= at:
            raise ValueError(f"--expires {text!r} is in the past: give a future day")
    else:
        raise ValueError(
            f"--expires {text!r}: expected a lifetime like 90d or 12h, or the last valid day "
            "like 2026-12-31 (UTC)"
        )
    if expires - at > MAX_LIFETIME:
        raise ValueError(_too_long(text))
    return expires


def _too_long(text: str) -> str:
    return (
        f"--expires {text!r} is longer than the {MAX_LIFETIME.days}-day limit: issue a "
        "shorter-lived token and rotate it before it expires"
    )


# --- issuing and revoking ------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedToken:
    """A freshly issued token. `secret` exists only here: show it once, then drop it."""

    secret: str = field(repr=False)
    record: TokenRecord

    def __repr__(self) -> str:
        return f"IssuedToken(token_id={self.record.token_id!r}, secret=<hidden>)"


def _scope(endpoint_names: str | Sequence[str]) -> tuple[str, ...]:
    names = endpoint_names.split(",") if isinstance(endpoint_names, str) else endpoint_names
    return tuple(dict.fromkeys(n.strip() for n in names if n.strip()))


def _scope_problems(team: str, scope: tuple[str, ...]) -> list[str]:
    problems = []
    if not TEAM_NAME.fullmatch(team):
        problems.append(f"team {team!r} is not a team name (lower-case letters, digits, _)")
    if not scope:
        problems.append("no endpoint given: list the endpoints the token may call (--endpoints)")
    if any(n in ("*", "all") or "*" in n for n in scope):
        problems.append("wildcard scopes are not issued: list the endpoints by name")
    problems.extend(
        f"{n!r} is not an endpoint name"
        for n in scope
        if "*" not in n and n != "all" and not ENDPOINT_NAME.fullmatch(n)
    )
    return problems


def issue_token(
    store: GovernanceStore,
    config: GovernanceConfig,
    *,
    team: str,
    endpoints: str | Sequence[str],
    expires: str | datetime,
    user: str,
    now: datetime | None = None,
) -> IssuedToken:
    """Issue a token for `team` on `endpoints` (`a,b` or a list), expiring per `expires`
    (`90d`, `12h`, `2026-12-31` or a datetime). Only its hash is written."""
    refused = f"cannot issue a token for team {team!r}"
    scope = _scope(endpoints)
    problems = _scope_problems(team, scope)
    if problems:
        raise ValueError(f"{refused}:\n  - " + "\n  - ".join(problems))
    expires_at = expires if isinstance(expires, datetime) else parse_expiry(expires, now=now)
    secret = new_secret()  # made outside the transaction: a retried write keeps it
    digest = token_sha256(secret)

    def change(guard: AccessAttempt) -> TokenRecord | Exception:
        problems = _team_problems(config, team)
        problems += _endpoint_problems(guard, team, scope)
        if problems:
            return rejection(guard, refused, problems)
        token_id = new_token_id()
        while token_records.token_id_taken(guard.connection, token_id):
            token_id = new_token_id()
        guard.details["token_id"] = token_id
        guard.allow()
        return token_records.insert_token(
            guard.connection,
            token_id=token_id,
            token_sha256=digest,
            team=team,
            endpoint_names=scope,
            expires_at=expires_at,
            actor=user,
        )

    record = guarded_change(
        store,
        config,
        user,
        resource=f"tokens of team {team}",
        refused=refused,
        details={
            "operation": "issue token",
            "team": team,
            "endpoints": list(scope),
            "expires_at": expires_at.isoformat(),
        },
        change=change,
    )
    return IssuedToken(secret, record)


def _team_problems(config: GovernanceConfig, team: str) -> list[str]:
    teams = [t.name for t in config.teams]
    if team in teams:
        return []
    return [
        f"team {team!r} is not declared in governance.yaml (declared: {', '.join(teams)}); "
        "declare it under teams: first"
    ]


def _endpoint_problems(guard: AccessAttempt, team: str, scope: tuple[str, ...]) -> list[str]:
    problems = []
    for name in scope:
        try:
            endpoint = endpoint_records.read_endpoint(guard.connection, name)
        except RecordIntegrityError as error:
            problems.append(str(error))
            continue
        if endpoint is None or endpoint.deleted:
            state = "was deleted" if endpoint is not None else "does not exist"
            problems.append(f"endpoint {name!r} {state} (see `governance endpoints list`)")
        elif team not in endpoint.allowed_teams:
            problems.append(
                f"endpoint {name!r} does not allow team {team!r} (allowed: "
                f"{', '.join(endpoint.allowed_teams)}); add it with `governance endpoints "
                f"update {name} --teams ...` first"
            )
    return problems


def revoke_token(
    store: GovernanceStore, config: GovernanceConfig, token_id: str, user: str
) -> TokenRecord:
    """Revoke a token at once: every later request with it is refused (401)."""
    refused = f"cannot revoke token {token_id!r}"

    def change(guard: AccessAttempt) -> TokenRecord | Exception:
        try:
            current = token_records.read_token(guard.connection, token_id)
        except RecordIntegrityError as error:
            return rejection(guard, refused, [str(error)])
        if current is None:
            return rejection(
                guard, refused, [f"there is no token {token_id!r} (see `governance tokens list`)"]
            )
        if current.revoked_at is not None:
            return rejection(
                guard,
                refused,
                [
                    f"it was already revoked on {current.revoked_at:%Y-%m-%d %H:%M} UTC by "
                    f"{current.revoked_by}"
                ],
            )
        guard.allow()
        return token_records.revoke(guard.connection, current, actor=user)

    return guarded_change(
        store,
        config,
        user,
        resource=f"token {token_id}",
        refused=refused,
        details={"operation": "revoke token", "token_id": token_id},
        change=change,
    )


# --- authentication --------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenGrant:
    """A request may proceed: as `team` (the consumer team to log), on `endpoint` (None when
    only the token was asked about); `endpoints` is the token's whole scope."""

    token_id: str
    team: str
    endpoints: tuple[str, ...]
    expires_at: datetime
    endpoint: EndpointRecord | None = None


@dataclass(frozen=True)
class AuthFailure:
    """Why a request is refused. `message` is safe to send to the caller (it never echoes the
    presented token); `status` is the HTTP status; `token_id` is for the gateway's log."""

    reason: (
        str  # unknown | expired | revoked | out_of_scope | unknown_endpoint | untrusted_endpoint
    )
    status: int
    message: str
    token_id: str | None = None


_UNKNOWN_TOKEN = AuthFailure(UNKNOWN, 401, "missing or unknown API token")


def authenticate(
    store: GovernanceStore,
    presented_token: str | None,
    endpoint: str | None,
    *,
    now: datetime | None = None,
) -> TokenGrant | AuthFailure:
    """May the bearer of `presented_token` call `endpoint` now? (`None`: is the token valid
    at all — e.g. to list the endpoints it may call.)

    401 without a token, or for one that is unknown (including a row written outside the
    governance API), expired or revoked; 404 for an endpoint that does not exist (or was
    deleted); 503 for an endpoint whose record fails verification; 403 outside the token's
    scope or when its team is not (or no longer) allowed on the endpoint.
    """
    if not presented_token or len(presented_token) > _MAX_PRESENTED:
        return _UNKNOWN_TOKEN
    if not presented_token.startswith(TOKEN_PREFIX):
        return _UNKNOWN_TOKEN
    return authenticate_digest(store, token_sha256(presented_token), endpoint, now=now)


def authenticate_digest(
    store: GovernanceStore,
    digest: str,
    endpoint: str | None,
    *,
    now: datetime | None = None,
) -> TokenGrant | AuthFailure:
    """`authenticate` for a token known only by its hash (a gateway re-checking the grants
    it holds, without keeping the secrets)."""
    at = (now or datetime.now(UTC)).astimezone(UTC)
    unknown = _UNKNOWN_TOKEN
    try:
        token = store.token_by_hash(digest)
    except RecordIntegrityError:
        return unknown  # not a token the governance API issued
    if token is None or not hmac.compare_digest(token.token_sha256, digest):
        return unknown
    if token.revoked_at is not None:
        return AuthFailure(REVOKED, 401, f"API token {token.token_id} was revoked", token.token_id)
    if at >= token.expires_at:
        return AuthFailure(EXPIRED, 401, f"API token {token.token_id} has expired", token.token_id)
    if endpoint is None:
        return TokenGrant(token.token_id, token.team, token.endpoints, token.expires_at)
    try:
        record = store.get_endpoint(endpoint)
    except RecordIntegrityError:
        return AuthFailure(
            UNTRUSTED_ENDPOINT,
            503,
            f"endpoint {endpoint!r} is unavailable: its record failed verification",
            token.token_id,
        )
    if record is None:
        return AuthFailure(UNKNOWN_ENDPOINT, 404, f"no endpoint {endpoint!r}", token.token_id)
    if endpoint not in token.endpoints:
        return AuthFailure(
            OUT_OF_SCOPE,
            403,
            f"API token {token.token_id} is not scoped to endpoint {endpoint!r}",
            token.token_id,
        )
    if token.team not in record.allowed_teams:
        return AuthFailure(
            OUT_OF_SCOPE,
            403,
            f"team {token.team!r} is not allowed on endpoint {endpoint!r}",
            token.token_id,
        )
    return TokenGrant(token.token_id, token.team, token.endpoints, token.expires_at, record)
