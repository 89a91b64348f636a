"""`governance endpoints …` and `governance tokens …`: what the serving gateway answers, and who.

Changes go through `security.endpoint_management` and `security.tokens`, which check that
`--user` holds `endpoint.manage` and audit every attempt, allowed or refused. A token's
secret is printed once, by `tokens issue`, and exists nowhere else: the store keeps its hash.
Heavy imports stay inside the commands.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

import click

from governance_pipelines.cli._common import config_option, open_store, store_options
from governance_pipelines.cli._text import shown, shown_name

if TYPE_CHECKING:
    from governance_pipelines.config import GovernanceConfig
    from governance_pipelines.store.endpoint_records import EndpointRecord, TokenRecord

F = TypeVar("F", bound=Callable[..., Any])


def _user_option(function: F) -> F:
    return click.option(
        "--user",
        required=True,
        help="Who makes the change (needs the endpoint.manage permission, e.g. role admin).",
    )(function)


def _serving_options(function: F) -> F:
    """What an endpoint serves: production, or a candidate version as a canary or shadow."""
    for option in reversed(
        (
            click.option(
                "--stage",
                type=click.Choice(["production", "candidate"]),
                help="production: the version in production now; candidate: --version, as a "
                "canary or shadow [default: candidate with --version or --mode canary|shadow].",
            ),
            click.option(
                "--version",
                type=click.IntRange(min=1),
                help="The candidate version (registered in the store).",
            ),
            click.option(
                "--mode",
                type=click.Choice(["live", "canary", "shadow"]),
                help="canary: the candidate answers --traffic-share of the requests; shadow: "
                "it scores them alongside production, for comparison only.",
            ),
            click.option(
                "--traffic-share",
                type=float,
                help="Canary: share of requests in (0, 1), e.g. 0.1. Shadow: share mirrored, "
                "in (0, 1] [default 1].",
            ),
        )
    ):
        function = option(function)
    return function


@contextmanager
def _clean_errors() -> Iterator[None]:
    """Refusals and bad input become `Error: <message>` and exit 1, never a traceback."""
    from governance_pipelines.config import ConfigError
    from governance_pipelines.security.rbac import PermissionDenied
    from governance_pipelines.store import StoreError

    try:
        yield
    except (PermissionDenied, StoreError, ConfigError, ValueError) as error:
        raise click.ClickException(str(error)) from None


def _load(config_path: str | None) -> GovernanceConfig:
    from governance_pipelines.config import load_config

    return load_config(config_path)


def _echo_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    cells = [[shown(cell) for cell in row] for row in rows]
    widths = [max(len(r[i]) for r in (header, *cells)) for i in range(len(header))]
    for row in (header, *cells):
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def _serves(record: EndpointRecord) -> str:
    if record.stage == "production":
        return "production"
    share = f"{(record.traffic_share or 0) * 100:g}%"
    return f"{record.mode} v{record.candidate_version} ({share})"


def _summary(record: EndpointRecord) -> str:
    return (
        f"{record.name}: model {record.model_name}, serves {_serves(record)}, teams "
        f"{', '.join(record.allowed_teams)}, {record.rate_limit_per_minute} requests/min per team"
    )


# --- endpoints ------------------------------------------------------------------------------


@click.group()
def endpoints() -> None:
    """Serving endpoints: a URL name bound to a model, its consumer teams and a rate limit.

    Creating, updating and deleting need the endpoint.manage permission (role admin by
    default); every attempt is audited. Deleted endpoints are kept, marked deleted.
    """


@endpoints.command("create")
@click.argument("name")
@click.option("--model", required=True, help="The model served (declared in governance.yaml).")
@_serving_options
@click.option("--teams", required=True, help="Consumer teams allowed to call it: a,b.")
@click.option(
    "--rate-limit", type=int, required=True, help="Requests per minute per consumer team."
)
@_user_option
@config_option
@store_options
def create(
    name: str,
    model: str,
    stage: str | None,
    version: int | None,
    mode: str | None,
    traffic_share: float | None,
    teams: str,
    rate_limit: int,
    user: str,
    config_path: str | None,
    database_url: str | None,
    home: str | None,
) -> None:
    """Create endpoint NAME (its URL: /v1/endpoints/NAME). Names are never reused."""
    from governance_pipelines.security.endpoint_management import create_endpoint
    from governance_pipelines.security.endpoint_rules import define_endpoint

    with _clean_errors():
        config = _load(config_path)
        definition = define_endpoint(
            name,
            model=model,
            teams=teams,
            rate_limit=rate_limit,
            stage=stage,
            mode=mode,
            version=version,
            traffic_share=traffic_share,
        )
        with open_store(database_url, home) as store:
            record = create_endpoint(store, config, definition, user)
    click.echo(f"created endpoint {_summary(record)}")


@endpoints.command("update")
@click.argument("name")
@click.option("--model", help="Serve another declared model.")
@_serving_options
@click.option("--teams", help="Replace the allowed consumer teams: a,b.")
@click.option("--rate-limit", type=int, help="Requests per minute per consumer team.")
@_user_option
@config_option
@store_options
def update(
    name: str,
    user: str,
    config_path: str | None,
    database_url: str | None,
    home: str | None,
    **changes: Any,
) -> None:
    """Change endpoint NAME; options not given keep their value (--stage production drops
    a candidate)."""
    from governance_pipelines.security.endpoint_management import update_endpoint

    with _clean_errors():
        config = _load(config_path)
        with open_store(database_url, home) as store:
            record = update_endpoint(store, config, name, user, **changes)
    click.echo(f"updated endpoint {_summary(record)}")


@endpoints.command("delete")
@click.argument("name")
@_user_option
@config_option
@store_options
def delete(
    name: str, user: str, config_path: str | None, database_url: str | None, home: str | None
) -> None:
    """Delete endpoint NAME: it stops answering; its record and history are kept."""
    from governance_pipelines.security.endpoint_management import delete_endpoint

    with _clean_errors():
        config = _load(config_path)
        with open_store(database_url, home) as store:
            record = delete_endpoint(store, config, name, user)
    click.echo(f"deleted endpoint {record.name} (kept on record; the name is not reused)")


@endpoints.command("list")
@click.option("--all", "include_deleted", is_flag=True, help="Include deleted endpoints.")
@click.option("--json", "as_json", is_flag=True, help="One JSON array, for scripts.")
@store_options
def list_endpoints(
    include_deleted: bool, as_json: bool, database_url: str | None, home: str | None
) -> None:
    """List endpoints: model, what they serve, allowed teams and rate limit."""
    with _clean_errors(), open_store(database_url, home) as store:
        found = store.list_endpoints(include_deleted=include_deleted)
    if as_json:
        click.echo(json.dumps([record.to_dict() for record in found], indent=2))
        return
    if not found:
        click.echo("no endpoints yet: create one with `governance endpoints create`")
        return
    rows = [
        (
            r.name,
            r.model_name,
            _serves(r),
            ",".join(r.allowed_teams),
            str(r.rate_limit_per_minute),
            f"{r.updated_at:%Y-%m-%d %H:%M}",
            "deleted" if r.deleted else "active",
        )
        for r in found
    ]
    _echo_table(("NAME", "MODEL", "SERVES", "TEAMS", "RATE/MIN", "UPDATED", "STATE"), rows)


# --- tokens ---------------------------------------------------------------------------------


@click.group()
def tokens() -> None:
    """API tokens for the serving gateway: one team, named endpoints, an expiry.

    Issuing and revoking need the endpoint.manage permission; every attempt is audited.
    A token is printed once when issued; only its hash is stored.
    """


@tokens.command("issue")
@click.option("--team", required=True, help="The consumer team (declared in governance.yaml).")
@click.option("--endpoints", "scope", required=True, help="Endpoints it may call: a,b.")
@click.option(
    "--expires",
    required=True,
    help="Lifetime (90d, 12h) or last valid day (2026-12-31, UTC); at most 365 days.",
)
@_user_option
@config_option
@store_options
def issue(
    team: str,
    scope: str,
    expires: str,
    user: str,
    config_path: str | None,
    database_url: str | None,
    home: str | None,
) -> None:
    """Issue a token and print it once (stdout); its id and expiry go to stderr.

    Keep it in the consuming team's secret store: it cannot be shown again.
    """
    from governance_pipelines.security.tokens import issue_token

    with _clean_errors():
        config = _load(config_path)
        with open_store(database_url, home) as store:
            issued = issue_token(
                store, config, team=team, endpoints=scope, expires=expires, user=user
            )
    record = issued.record
    click.echo(
        f"issued token {record.token_id} for team {record.team} on "
        f"{', '.join(record.endpoints)}, expires {record.expires_at:%Y-%m-%d %H:%M} UTC.\n"
        "It is shown only now (only its hash is stored); send it as "
        "'Authorization: Bearer <token>'. Revoke with `governance tokens revoke "
        f"{record.token_id} --user …`.",
        err=True,
    )
    click.echo(issued.secret)


@tokens.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON array, for scripts.")
@store_options
def list_tokens(as_json: bool, database_url: str | None, home: str | None) -> None:
    """List tokens by id, team, endpoints, expiry and status (never a secret or hash)."""
    with _clean_errors(), open_store(database_url, home) as store:
        found = store.list_tokens()
    now = datetime.now(UTC)
    if as_json:
        click.echo(json.dumps([{**r.to_dict(), "status": r.status(now)} for r in found], indent=2))
        return
    if not found:
        click.echo("no tokens yet: issue one with `governance tokens issue`")
        return
    _echo_table(
        ("TOKEN", "TEAM", "ENDPOINTS", "EXPIRES", "STATUS", "ISSUED BY"),
        [_token_row(r, now) for r in found],
    )


def _token_row(record: TokenRecord, now: datetime) -> tuple[str, ...]:
    status = record.status(now)
    if record.revoked_at is not None:
        status += f" {record.revoked_at:%Y-%m-%d} by {shown_name(record.revoked_by)}"
    return (
        record.token_id,
        record.team,
        ",".join(record.endpoints),
        f"{record.expires_at:%Y-%m-%d %H:%M}",
        status,
        shown_name(record.created_by),
    )


@tokens.command("revoke")
@click.argument("token_id")
@_user_option
@config_option
@store_options
def revoke(
    token_id: str, user: str, config_path: str | None, database_url: str | None, home: str | None
) -> None:
    """Revoke TOKEN_ID (as `tokens list` shows it): refused from the next request on."""
    from governance_pipelines.security.tokens import revoke_token

    with _clean_errors():
        config = _load(config_path)
        with open_store(database_url, home) as store:
            record = revoke_token(store, config, token_id, user)
    click.echo(f"revoked token {record.token_id} of team {record.team}")
