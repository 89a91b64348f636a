"""`governance config validate`."""

from __future__ import annotations

import click


@click.group()
def config() -> None:
    """Check a governance.yaml file."""


@config.command()
@click.argument("path", required=False, type=click.Path(dir_okay=False))
def validate(path: str | None) -> None:
    """Validate PATH (default: GOVERNANCE_CONFIG, ./governance.yaml, else the packaged demo); exit 1 on errors."""
    from governance_pipelines.config import ConfigError
    from governance_pipelines.development.declarations import load_checked_config

    try:
        loaded = load_checked_config(path)
    except ConfigError as error:
        for problem in error.problems:
            click.echo(f"{error.source}: {problem}", err=True)
        raise SystemExit(1) from None
    names = ", ".join(model.name for model in loaded.models)
    click.echo(
        f"OK: {len(loaded.models)} model(s) ({names}), {len(loaded.people)} people, {len(loaded.teams)} team(s)"
    )
    click.echo("roles and what they may do (permissions are checked by approve, promote, …):")
    for role, permissions in sorted(loaded.roles.items()):
        holders = ", ".join(p.name for p in loaded.people if role in p.roles) or "nobody"
        click.echo(f"  {role}: {', '.join(permissions) or 'nothing'}  [{holders}]")
