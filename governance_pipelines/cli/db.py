"""`governance db upgrade` / `governance db current`."""

from __future__ import annotations

import click

from governance_pipelines.cli._common import open_store, store_options


@click.group()
def db() -> None:
    """Manage the governance store's schema (Alembic migrations)."""


@db.command()
@store_options
def upgrade(database_url: str | None, home: str | None) -> None:
    """Apply pending schema migrations (also done automatically on first use)."""
    from governance_pipelines.store import migrate

    with open_store(database_url, home, upgrade=False) as store:
        before, after = migrate.upgrade(store.engine)
        url = store.engine.url.render_as_string(hide_password=True)
    if before == after:
        click.echo(f"{url}: already at revision {after}")
    else:
        click.echo(f"{url}: upgraded {before or 'empty database'} -> {after}")


@db.command()
@store_options
def current(database_url: str | None, home: str | None) -> None:
    """Print the store's schema revision and the newest one this package knows."""
    from governance_pipelines.store import migrate

    with open_store(database_url, home, upgrade=False) as store:
        click.echo(
            f"current: {migrate.current_revision(store.engine) or 'none'}  head: {migrate.head_revision()}"
        )
