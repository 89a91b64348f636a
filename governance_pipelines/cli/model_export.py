"""`governance models export`: a version's verified artifact and its record, for own serving.

The work (permission, verification, audit) is `compliance/model_export.py`. The command is a
sub-command of `governance models`, whose own --config/--home/--database-url, given before
`export`, apply to it as well (unless repeated after it).
"""

from __future__ import annotations

from typing import Any

import click
from click.core import ParameterSource

from governance_pipelines.cli._common import config_option, open_store, store_options

_STAGES = ("staging", "production", "archived")  # = promotion_state.STAGES, kept import-free


def inherit_options(ctx: click.Context, **given: Any) -> dict[str, Any]:
    """A group's options typed before the sub-command, unless the sub-command repeats them."""
    parent = ctx.parent.obj if ctx.parent is not None and isinstance(ctx.parent.obj, dict) else {}
    return {
        name: parent[name]
        if name in parent and ctx.get_parameter_source(name) != ParameterSource.COMMANDLINE
        else value
        for name, value in given.items()
    }


@click.command()
@click.argument("model")
@click.option(
    "--stage",
    type=click.Choice(_STAGES),
    help="Export the version now in this stage [default: production]; with --version, "
    "check that it is there.",
)
@click.option(
    "--version", type=click.IntRange(min=1), metavar="N", help="Export this version instead."
)
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False),
    help="Folder to write <model>-v<N>.joblib and <model>-v<N>.record.json into.",
)
@click.option("--user", required=True, help="Who exports (needs the model.view permission).")
@config_option
@store_options
@click.pass_context
def export(
    ctx: click.Context,
    model: str,
    stage: str | None,
    version: int | None,
    out_dir: str,
    user: str,
    config_path: str | None,
    database_url: str | None,
    home: str | None,
) -> None:
    """Export MODEL's verified artifact and its record; print its sha256.

    The artifact is re-hashed against the digest it was registered and approved under; a
    tampered file is refused, audited and alerted. Every export is an audit event.
    """
    from governance_pipelines.compliance.model_export import export_model
    from governance_pipelines.config import ConfigError, load_config
    from governance_pipelines.security.rbac import PermissionDenied
    from governance_pipelines.store import StoreError

    options = inherit_options(ctx, config_path=config_path, database_url=database_url, home=home)
    try:
        config = load_config(options["config_path"])
        with open_store(options["database_url"], options["home"]) as store:
            exported = export_model(
                store, config, model, out_dir, user=user, stage=stage, version=version
            )
    except (PermissionDenied, StoreError, ConfigError, ValueError, OSError) as error:
        raise click.ClickException(str(error)) from None
    where = f" ({exported.stage})" if exported.stage else " (never promoted)"
    click.echo(f"{user} exported {model} v{exported.version}{where}")
    click.echo(f"  artifact  {exported.artifact_path}")
    click.echo(f"  record    {exported.record_path}")
    click.echo(f"  sha256    {exported.sha256}")
