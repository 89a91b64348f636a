"""API tokens: expiry parsing, issuing and revoking under RBAC, and every outcome of
`authenticate` the gateway relies on — with the secret never stored."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from governance_pipelines.config import GovernanceConfig
from governance_pipelines.security import endpoint_management as management
from governance_pipelines.security import tokens
from governance_pipelines.security.endpoint_management import EndpointRejected
from governance_pipelines.security.rbac import PermissionDenied
from governance_pipelines.security.tokens import AuthFailure, TokenGrant, authenticate
from governance_pipelines.store import GovernanceStore
from governance_pipelines_tests.security.endpoint_fixtures import (
    ADMIN,
    DATA_SCIENTIST,
    USER,
    access_rows,
    endpoints_config,
    last_access,
    make_endpoint,
)

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def config() -> GovernanceConfig:
    return endpoints_config()


# --- expiry -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90d", NOW + timedelta(days=90)),
        ("12h", NOW + timedelta(hours=12)),
        (" 1D ", NOW + timedelta(days=1)),
        ("365d", NOW + timedelta(days=365)),
        ("8760h", NOW + timedelta(days=365)),
        ("2026-12-31", datetime(2027, 1, 1, tzinfo=UTC)),  # valid through the whole day
        ("2026-06-01", datetime(2026, 6, 2, tzinfo=UTC)),  # today: until midnight
    ],
)
def test_expiry_is_a_lifetime_or_a_last_day(text: str, expected: datetime) -> None:
    assert tokens.parse_expiry(text, now=NOW) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("0d", "at least 1d"),
        ("0h", "at least 1h"),
        ("366d", "365-day limit"),
        ("8761h", "365-day limit"),
        ("999999d", "365-day limit"),
        ("2028-01-01", "365-day limit"),
        ("9999-12-31", "365-day limit"),
        ("2026-05-31", "in the past"),
        ("2026-02-30", "not a date"),
        ("-3d", "expected a lifetime like 90d"),
        ("1.5d", "expected a lifetime like 90d"),
        ("90", "expected a lifetime like 90d"),
        ("3w", "expected a lifetime like 90d"),
        ("never", "expected a lifetime like 90d"),
        ("", "expected a lifetime like 90d"),
    ],
)
def test_bad_expiries_are_named(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match="--expires") as error:
        tokens.parse_expiry(text, now=NOW)
    assert problem in str(error.value)


def test_secrets_are_prefixed_random_and_hashed() -> None:
    first, second = tokens.new_secret(), tokens.new_secret()
    assert first.startswith("gov_")
    assert len(first) == len("gov_") + 43
    assert first != second
    assert tokens.token_sha256(first) == hashlib.sha256(first.encode()).hexdigest()
    assert tokens.new_token_id().startswith("gpt_")
    assert len(tokens.new_token_id()) == 12


# --- issuing and revoking -----------------------------------------------------------------------


def test_an_admin_issues_a_token_whose_secret_is_never_stored(
    store: GovernanceStore, config: GovernanceConfig
) -> None:
    make_endpoint(store, config)
    issued = tokens.issue_token(
        store, config, team="web", endpoints="credit-api", expires="90d", user=ADMIN
    )
    assert issued.secret not in repr(issued)
    record = issued.record
    assert (record.team, record.endpoints, record.created_by) == ("web", ("credit-api",), ADMIN)
    assert store.list_tokens() == [record]
    assert store.token_by_hash(tokens.token_sha256(issued.secret)) == record

    issued_event = store.recent_events(action="token.issued")[0]
    assert issued_event.payload["token_id"] == record.token_id
    digest = tokens.token_sha256(issued.secret)
    for event in store.recent_events(limit=100):
        assert issued.secret not in str(event.payload)
        assert digest not in str(event.payload)
    for row in access_rows(store):
        assert issued.secret not in str(row._mapping)


@pytest.mark.parametrize("who", [USER, DATA_SCIENTIST])
def test_only_endpoint_managers_issue_or_revoke(
    store: GovernanceStore, config: GovernanceConfig, who: str
) -> None:
    make_endpoint(store, config)
    with pytest.raises(PermissionDenied, match="cannot issue a token for team 'web'"):
        tokens.issue_token(
            store, config, team="web", endpoints="credit-api", expires="1d", user=who
        )
    assert store.list_tokens() == []
    denied = last_access(store)
    assert (denied.user_name, denied.allowed, denied.resource) == (who, False, "tokens of team web")

    issued = tokens.issue_token(
        store, config, team="web", endpoints="credit-api", expires="1d", user=ADMIN
    )
    with pytest.raises(PermissionDenied, match="cannot revoke token"):
        tokens.revoke_token(store, config, issued.record.token_id, who)
    assert store.list_tokens()[0].revoked_at is None
    assert last_access(store).allowed is False


@pytest.mark.parametrize(
    ("team", "scope", "problem"),
    [
        ("finance", "credit-api", "team 'finance' is not declared in governance.yaml"),
        ("mobile", "credit-api", "does not allow team 'mobile' (allowed: risk, web)"),
        ("web", "credit-api,other", "endpoint 'other' does not exist"),
        ("web", "old-api", "endpoint 'old-api' was deleted"),
    ],
)
def test_tokens_are_issued_only_within_what_endpoints_allow(
    store: GovernanceStore, config: GovernanceConfig, team: str, scope: str, problem: str
) -> None:
    make_endpoint(store, config)
    make_endpoint(store, config, "old-api")
    management.delete_endpoint(store, config, "old-api", ADMIN)
    with pytest.raises(EndpointRejected) as refused:
        tokens.issue_token(store, config, team=team, endpoints=scope, expires="1d", user=ADMIN)
    assert problem in str(refused.value)
    assert store.list_tokens() == []
    assert last_access(store).allowed is False


@pytest.mark.parametrize(
    ("scope", "problem"),
    [("*", "wildcard"), ("", "no endpoint given"), ("credit_api", "not an endpoint name")],
)
def test_malformed_scopes_are_usage_errors(
    store: GovernanceStore, config: GovernanceConfig, scope: str, problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        tokens.issue_token(store, config, team="web", endpoints=scope, expires="1d", user=ADMIN)
    with pytest.raises(ValueError, match="--expires"):
        tokens.issue_token(store, config, team="web", endpoints="a", expires="soon", user=ADMIN)
    assert access_rows(store) == []


def test_revoking_is_audited_and_happens_once(
    store: GovernanceStore, config: GovernanceConfig
) -> None:
    make_endpoint(store, config)
    issued = tokens.issue_token(
        store, config, team="web", endpoints="credit-api", expires="1d", user=ADMIN
    )
    revoked = tokens.revoke_token(store, config, issued.record.token_id, ADMIN)
    assert revoked.revoked_by == ADMIN
    event = store.recent_events(action="token.revoked")[0]
    assert (event.actor, event.payload["token_id"]) == (ADMIN, revoked.token_id)
    with pytest.raises(EndpointRejected, match="already revoked"):
        tokens.revoke_token(store, config, issued.record.token_id, ADMIN)
    with pytest.raises(EndpointRejected, match="there is no token 'gpt_00000000'"):
        tokens.revoke_token(store, config, "gpt_00000000", ADMIN)


# --- authenticate ----------------------------------------------------------------------------


def _issue(store: GovernanceStore, config: GovernanceConfig, **options: str) -> str:
    arguments = {"team": "web", "endpoints": "credit-api", "expires": "30d", **options}
    return tokens.issue_token(store, config, user=ADMIN, **arguments).secret  # type: ignore[arg-type]


def _failure(outcome: TokenGrant | AuthFailure) -> tuple[str, int]:
    assert isinstance(outcome, AuthFailure), outcome
    return outcome.reason, outcome.status


def test_a_valid_token_is_granted_as_its_team(
    store: GovernanceStore, config: GovernanceConfig
) -> None:
    make_endpoint(store, config)
    secret = _issue(store, config)
    grant = authenticate(store, secret, "credit-api")
    assert isinstance(grant, TokenGrant)
    assert (grant.team, grant.endpoints) == ("web", ("credit-api",))
    assert grant.endpoint is not None
    assert grant.endpoint.name == "credit-api"
    assert grant.endpoint.rate_limit_per_minute == 600
    only_token = authenticate(store, secret, None)
    assert isinstance(only_token, TokenGrant)
    assert only_token.endpoint is None


@pytest.mark.parametrize(
    "presented",
    [None, "", "gov_", "gov_unknown", "Bearer gov_x", "x" * 10_000, "gov_" + "a" * 43],
)
def test_missing_malformed_or_unknown_tokens_are_401(
    store: GovernanceStore, config: GovernanceConfig, presented: str | None
) -> None:
    make_endpoint(store, config)
    _issue(store, config)
    outcome = authenticate(store, presented, "credit-api")
    assert _failure(outcome) == ("unknown", 401)
    assert isinstance(outcome, AuthFailure)
    assert outcome.token_id is None


def test_expired_and_revoked_tokens_are_401(
    store: GovernanceStore, config: GovernanceConfig
) -> None:
    make_endpoint(store, config)
    secret = _issue(store, config, expires="1h")
    record = store.list_tokens()[0]
    assert isinstance(authenticate(store, secret, "credit-api"), TokenGrant)
    expired = authenticate(store, secret, "credit-api", now=record.expires_at)
    assert _failure(expired) == ("expired", 401)
    tokens.revoke_token(store, config, record.token_id, ADMIN)
    revoked = authenticate(store, secret, "credit-api")
    assert _failure(revoked) == ("revoked", 401)
    assert isinstance(revoked, AuthFailure)
    assert revoked.token_id == record.token_id
    assert secret not in revoked.message


def test_calls_outside_the_scope_are_403_and_missing_endpoints_404(
    store: GovernanceStore, config: GovernanceConfig
) -> None:
    make_endpoint(store, config)
    make_endpoint(store, config, "churn-api", model="churn")
    secret = _issue(store, config)
    assert _failure(authenticate(store, secret, "churn-api")) == ("out_of_scope", 403)
    assert _failure(authenticate(store, secret, "nope")) == ("unknown_endpoint", 404)
    # The endpoint stops allowing the token's team: the token is outside its scope at once.
    management.update_endpoint(store, config, "credit-api", ADMIN, teams="risk")
    outcome = authenticate(store, secret, "credit-api")
    assert _failure(outcome) == ("out_of_scope", 403)
    assert isinstance(outcome, AuthFailure)
    assert "team 'web' is not allowed" in outcome.message
    management.delete_endpoint(store, config, "credit-api", ADMIN)
    assert _failure(authenticate(store, secret, "credit-api")) == ("unknown_endpoint", 404)


def test_forged_or_edited_rows_let_nothing_through(
    store: GovernanceStore, config: GovernanceConfig
) -> None:
    make_endpoint(store, config)
    secret = _issue(store, config, expires="1h")
    with store.engine.begin() as connection:  # as someone with write access to the table
        connection.exec_driver_sql("UPDATE api_tokens SET expires_at = '2099-01-01 00:00:00'")
    assert _failure(authenticate(store, secret, "credit-api")) == ("unknown", 401)

    other = "gov_" + "b" * 43
    with store.engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO api_tokens (token_id, token_sha256, team, endpoints, created_by, "
            f"created_at, expires_at) VALUES ('gpt_99999999', '{tokens.token_sha256(other)}', "
            "'web', '[\"credit-api\"]', 'mallory', '2026-01-01 00:00:00', '2099-01-01 00:00:00')"
        )
    assert _failure(authenticate(store, other, "credit-api")) == ("unknown", 401)

    good = _issue(store, config)
    with store.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE endpoints SET rate_limit_per_minute = 1000000")
    assert _failure(authenticate(store, good, "credit-api")) == ("untrusted_endpoint", 503)
