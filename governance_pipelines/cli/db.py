"""`governance db upgrade` / `governance db current` / `governance db grants`."""

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
    from governance_pipelines.store.engine import display_url

    with open_store(database_url, home, upgrade=False, create=True) as store:
        before, after = migrate.upgrade(store.engine)
        url = display_url(store.engine.url)
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


@db.command()
@click.option(
    "--app-role",
    required=True,
    help="The PostgreSQL login role the application connects as (e.g. governance_app).",
)
@click.option(
    "--schema",
    default="public",
    show_default=True,
    help="The schema that holds the governance tables.",
)
def grants(app_role: str, schema: str) -> None:
    """Print the SQL that gives the application role least privilege on the store.

    The application role may only INSERT and SELECT governed records (no UPDATE, DELETE,
    TRUNCATE or DDL); the migration role owns the tables and runs `governance db upgrade`.
    Run the output as that owner, after every upgrade, e.g.

    \b
        governance db grants --app-role governance_app \\
          | psql -v ON_ERROR_STOP=1 --single-transaction "$OWNER_URL"
    """
    from governance_pipelines.store.roles import UnclassifiedTableError, least_privilege_grants

    try:
        statements = least_privilege_grants(app_role, schema=schema)
    except UnclassifiedTableError as error:
        raise click.ClickException(str(error)) from None
    except ValueError as error:
        hint = "--schema" if str(error).startswith("schema") else "--app-role"
        raise click.BadParameter(str(error), param_hint=hint) from None
    click.echo(f"-- least privilege for {app_role}: run as the owner of the governance tables")
    for statement in statements:
        click.echo(f"{statement};")
