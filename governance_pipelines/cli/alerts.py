"""`governance alerts`: what the outbox holds, and a way to resend failed alerts."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from governance_pipelines.cli._common import open_store, store_options
from governance_pipelines.cli._text import shown, shown_name

if TYPE_CHECKING:
    from governance_pipelines.store import GovernanceStore

_STATUSES = ("pending", "sending", "retry", "sent", "failed", "unconfigured")


@click.command()
@click.option("--model", "model_name", help="Only alerts about this model.")
@click.option("--status", type=click.Choice(_STATUSES), help="Only alerts in this state.")
@click.option("--limit", default=30, show_default=True, type=click.IntRange(1, 10_000))
@click.option(
    "--requeue-failed",
    is_flag=True,
    help="Make failed alerts due again (after fixing the channel or token).",
)
@click.option(
    "--user",
    default="cli",
    show_default=True,
    help="Who requeues: a person declared in governance.yaml with 'audit.read'.",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help="Governance file, for --requeue-failed [default: GOVERNANCE_CONFIG, ./governance.yaml, else the packaged demo].",
)
@store_options
def alerts(
    model_name: str | None,
    status: str | None,
    limit: int,
    requeue_failed: bool,
    user: str,
    config_path: str | None,
    database_url: str | None,
    home: str | None,
) -> None:
    """List recent alerts, newest first, with their delivery state and last error."""
    from governance_pipelines.alerting import outbox

    with open_store(database_url, home) as store:
        if requeue_failed:
            _authorize_requeue(store, user, config_path)
            count = outbox.requeue_failed(store, actor=user, model=model_name)
            click.echo(f"requeued {count} failed alert(s); the next delivery run sends them")
            return
        records = outbox.list_alerts(store, model=model_name, status=status, limit=limit)
    if not records:
        click.echo("no alerts" + (f" for model {model_name!r}" if model_name else ""))
        return
    for record in records:
        subject = shown_name(record.model_name or "-")
        if record.version is not None:
            subject += f" v{record.version}"
        state = record.status + (f" ({record.attempts} attempts)" if record.attempts > 1 else "")
        click.echo(
            f"#{record.id:<5} {_day(record.dedup_key)}  {record.kind:<13} {subject:<18} "
            f"{state:<22} {shown_name(record.channel or '-')}"
        )
        click.echo(f"       {shown(record.message.splitlines()[0][:150])}")
        if record.last_error:
            click.echo(f"       last error: {shown(record.last_error[:150])}")


def _day(dedup_key: str) -> str:
    """The day an alert is about (its dedup key is model/kind/day[/subject])."""
    parts = dedup_key.split("/")
    return parts[2].split("#")[0] if len(parts) > 2 else "-"


REQUEUE_PERMISSION = "audit.read"


def _authorize_requeue(store: GovernanceStore, user: str, config_path: str | None) -> None:
    """Resending alerts is an action on the audit trail: a declared person must ask for it,
    and a refusal is recorded like every other access decision."""
    from governance_pipelines.config import ConfigError, load_config
    from governance_pipelines.security.rbac import authorize, record_access

    try:
        config = load_config(config_path)
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    decision = authorize(config, user, REQUEUE_PERMISSION)
    if decision.allowed:
        return
    store.unit_of_work(
        lambda connection: record_access(connection, decision, resource="alerts: requeue failed")
    )
    raise click.ClickException(f"cannot requeue alerts: {decision.reason}")
