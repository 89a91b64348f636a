"""`governance audit verify` / `governance audit log`."""

from __future__ import annotations

import json

import click

from governance_pipelines.cli._common import open_store, store_options


@click.group()
def audit() -> None:
    """Verify and read the tamper-evident audit log."""


@audit.command()
@store_options
def verify(database_url: str | None, home: str | None) -> None:
    """Recompute the hash chain; exit 1 naming the first altered, removed or reordered event."""
    with open_store(database_url, home) as store:
        result = store.verify_audit_chain()
    if result.ok:
        click.echo(f"OK: {result.verified} audit events verified; head hash {result.head_hash}")
        return
    click.echo(f"TAMPERED: {result.problem}", err=True)
    click.echo(
        f"{result.verified} events before it verified; the chain is broken from event #{result.first_bad_seq}.",
        err=True,
    )
    raise SystemExit(1)


@audit.command("log")
@click.option("--model", "model_name", help="Only events about this model.")
@click.option("--action", help="Only events of this action, e.g. snapshot.registered.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@store_options
def log_command(
    model_name: str | None,
    action: str | None,
    limit: int,
    as_json: bool,
    database_url: str | None,
    home: str | None,
) -> None:
    """Show the most recent audit events, oldest first."""
    with open_store(database_url, home) as store:
        events = store.recent_events(model_name=model_name, action=action, limit=limit)
    if not events:
        click.echo("no audit events" + (f" for model {model_name!r}" if model_name else ""))
        return
    for event in events:
        if as_json:
            click.echo(
                json.dumps(
                    {
                        "seq": event.seq,
                        "at": event.at,
                        "actor": event.actor,
                        "action": event.action,
                        "model": event.model_name,
                        "version": event.version,
                        "payload": event.payload,
                        "hash": event.hash,
                    },
                    sort_keys=True,
                )
            )
            continue
        subject = event.model_name or "-"
        if event.version is not None:
            subject += f" v{event.version}"
        details = ", ".join(
            f"{k}={_short(v)}" for k, v in sorted(event.payload.items()) if k != "config"
        )
        click.echo(
            f"#{event.seq:<5} {event.at[:19]}  {event.actor[:20]:<20} {event.action:<26} {subject:<18} {details}"
        )


def _short(value: object) -> str:
    text = str(value)
    return text[:12] + "…" if len(text) == 64 else (text if len(text) <= 60 else text[:57] + "...")
