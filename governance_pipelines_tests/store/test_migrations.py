"""The Alembic migrations create exactly the schema the code expects."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from click.testing import CliRunner

from governance_pipelines.cli import main
from governance_pipelines.store import GovernanceStore, migrate
from governance_pipelines.store.schema import metadata


def test_migrated_schema_matches_the_code(store: GovernanceStore) -> None:
    with store.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert differences == []


def test_first_use_migrates_and_upgrade_is_idempotent(tmp_path) -> None:
    store = GovernanceStore.open(None, tmp_path, upgrade=False)
    assert migrate.current_revision(store.engine) is None
    assert migrate.upgrade(store.engine) == (None, migrate.head_revision())
    assert migrate.upgrade(store.engine) == (migrate.head_revision(), migrate.head_revision())
    store.dispose()


def test_cli_db_upgrade_and_current(tmp_path) -> None:
    runner = CliRunner()
    url = f"sqlite:///{tmp_path / 'g.db'}"
    first = runner.invoke(main, ["db", "upgrade", "--database-url", url])
    assert first.exit_code == 0, first.output
    assert "upgraded empty database -> 0002" in first.output
    second = runner.invoke(main, ["db", "upgrade", "--database-url", url])
    assert "already at revision 0002" in second.output
    current = runner.invoke(main, ["db", "current", "--database-url", url])
    assert current.output.strip() == "current: 0002  head: 0002"


def test_cli_reports_an_unreachable_database(tmp_path) -> None:
    result = CliRunner().invoke(
        main, ["audit", "verify", "--database-url", "postgresql+psycopg2://nobody@127.0.0.1:1/none"]
    )
    assert result.exit_code == 1
    assert "cannot connect to the governance store" in result.output
    assert "check GOVERNANCE_DATABASE_URL" in result.output
