"""`governance audit verify | log | checkpoint | keygen`."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from governance_pipelines.cli._common import open_store, store_options
from governance_pipelines.cli._text import shown, shown_name

if TYPE_CHECKING:
    pass


@click.group()
def audit() -> None:
    """Verify and read the tamper-evident audit log; sign checkpoints of it."""


@audit.command()
@click.option(
    "--checkpoints",
    "checkpoint_dir",
    metavar="LOCATION",
    help="Where the signed checkpoints are: a folder or fsspec URL "
    "[env GOVERNANCE_CHECKPOINT_DIR; default <home>/checkpoints].",
)
@store_options
def verify(checkpoint_dir: str | None, database_url: str | None, home: str | None) -> None:
    """Recompute the hash chain and every record it vouches for, then the signed checkpoints.

    Exit 1 naming the first altered, removed or reordered event, each forged or damaged
    record, or the checkpoint the chain contradicts (a rewritten or truncated chain that
    rehashes cleanly). A store that does not exist is an error, never "OK: 0 events".
    """
    from governance_pipelines.compliance.checkpoints import verify_checkpoints
    from governance_pipelines.compliance.integrity import verify_store
    from governance_pipelines.compliance.signing_keys import CheckpointError

    checkpoints, checkpoint_error = None, ""
    with open_store(database_url, home) as store:
        report = verify_store(store)
        # The chain's own lines need the first bad seq; on a break the chain stops there.
        chain = None if report.chain_ok else store.verify_audit_chain()
        try:
            checkpoints = verify_checkpoints(store, location=checkpoint_dir)
        except CheckpointError as error:
            checkpoint_error = str(error)

    if chain is None:
        click.echo(f"OK: {report.chain_events} audit events verified; head hash {report.head_hash}")
    else:
        click.echo(f"TAMPERED: {chain.problem}", err=True)
        click.echo(
            f"{chain.verified} events before it verified; the chain is broken from event #{chain.first_bad_seq}.",
            err=True,
        )
    findings = [p for p in report.problems if not p.startswith("audit chain broken")]
    for finding in findings:
        click.echo(finding, err=True)
    if not findings:
        click.echo(
            f"records: OK ({report.records_checked} governed records, {report.seals_checked} "
            f"inference-log seals, {report.bookings_checked} cost bookings, "
            f"{report.snapshots_checked} snapshots, "
            f"{report.artifacts_checked} artifacts)"
        )

    if checkpoints is None:
        click.echo(f"checkpoint: cannot verify: {checkpoint_error}", err=True)
    elif not checkpoints.ok:
        for problem in checkpoints.problems:
            click.echo(f"checkpoint: FAILED: {problem}", err=True)
    elif checkpoints.checked:
        note = f"; {checkpoints.note}" if checkpoints.note else ""
        click.echo(
            f"checkpoint: OK ({checkpoints.checked} checked, latest #{checkpoints.latest_seq}){note}"
        )
    else:
        click.echo(f"checkpoint: {checkpoints.note}")
    if not report.passed or checkpoints is None or not checkpoints.ok:
        raise SystemExit(1)


@audit.command()
@click.option(
    "--to",
    "location",
    metavar="LOCATION",
    help="Folder or fsspec URL to write to "
    "[env GOVERNANCE_CHECKPOINT_DIR; default <home>/checkpoints].",
)
@click.option("--user", help="Who writes the checkpoint, for the audit log [default: cli].")
@store_options
def checkpoint(
    location: str | None, user: str | None, database_url: str | None, home: str | None
) -> None:
    """Sign the audit chain's head and write it outside the store.

    Needs GOVERNANCE_CHECKPOINT_KEY_FILE or GOVERNANCE_CHECKPOINT_KEY (see `audit keygen`).
    Refuses when the chain is broken or contradicts an earlier checkpoint.
    """
    from governance_pipelines.compliance.checkpoint_writer import write_checkpoint
    from governance_pipelines.compliance.signing_keys import CheckpointError

    with open_store(database_url, home) as store:
        try:
            written = write_checkpoint(store, actor=user or "cli", location=location)
        except CheckpointError as error:
            raise click.ClickException(str(error)) from None
    click.echo(
        f"checkpoint of event #{written.seq} (head hash {written.head_hash[:12]}…) written to "
        f"{written.file}; signed by key {written.key_fingerprint}"
    )


@audit.command()
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to create for the private key (PEM, mode 0600); never overwritten.",
)
def keygen(out: Path) -> None:
    """Create an Ed25519 key for signing audit checkpoints.

    Keep the private key in a secret manager or CI secret, apart from the database
    credentials; verifiers only need the public key printed here.
    """
    from governance_pipelines.compliance.signing_keys import (
        KEY_FILE_ENV,
        PUBLIC_KEY_ENV,
        new_signing_key,
    )

    pem, public = new_signing_key()
    try:
        descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise click.ClickException(
            f"{out} already exists: keys are never overwritten; choose another --out "
            "(rotating? keep the old public key in GOVERNANCE_CHECKPOINT_PUBLIC_KEY)"
        ) from None
    except OSError as error:
        raise click.ClickException(f"cannot create {out}: {error.strerror}") from None
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    click.echo(f"private key written to {out} (mode 0600); it is not printed")
    click.echo(f"public key (base64): {public}")
    click.echo("to sign checkpoints:")
    click.echo(f"  export {KEY_FILE_ENV}={out.resolve()}")
    click.echo("to verify them (no private key needed; comma-separate old keys after a rotation):")
    click.echo(f"  export {PUBLIC_KEY_ENV}={public}")
    click.echo("and, in production, a location outside the database host:")
    click.echo("  export GOVERNANCE_CHECKPOINT_DIR=s3://bucket/governance-checkpoints")


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
        # JSON lines escape by construction; the text listing must not let a stored string
        # forge a line or pass a look-alike name off as a real one.
        subject = shown_name(event.model_name or "-")
        if event.version is not None:
            subject += f" v{event.version}"
        details = ", ".join(
            f"{shown_name(k)}={_short(v)}"
            for k, v in sorted(event.payload.items())
            if k != "config"
        )
        actor = shown_name(event.actor)
        click.echo(
            f"#{event.seq:<5} {event.at[:19]}  {actor[:20]:<20} {shown_name(event.action):<26} "
            f"{subject:<18} {details}"
        )


def _short(value: object) -> str:
    text = shown(value)
    return text[:12] + "…" if len(text) == 64 else (text if len(text) <= 60 else text[:57] + "...")
