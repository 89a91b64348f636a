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
    assert "upgraded empty database -> 0005" in first.output
    second = runner.invoke(main, ["db", "upgrade", "--database-url", url])
    assert "already at revision 0005" in second.output
    current = runner.invoke(main, ["db", "current", "--database-url", url])
    assert current.output.strip() == "current: 0005  head: 0005"


def test_cli_reports_an_unreachable_database(tmp_path) -> None:
    result = CliRunner().invoke(
        main, ["audit", "verify", "--database-url", "postgresql+psycopg2://nobody@127.0.0.1:1/none"]
    )
    assert result.exit_code == 1
    assert "cannot connect to the governance store" in result.output
    assert "check GOVERNANCE_DATABASE_URL" in result.output


def test_upgrading_a_0001_store_binds_the_records_it_already_holds(
    store_url: str, tmp_path
) -> None:
    """Rows written before bindings existed are attested once, then guarded like new ones."""
    store = GovernanceStore.open(store_url, tmp_path / "home", upgrade=False)
    try:
        migrate.upgrade(store.engine, "0001")
        now = "2026-01-01 00:00:00"
        with store.engine.begin() as connection:
            for statement in (
                "INSERT INTO models (name, team, owner, description, config_sha256, registered_at,"
                f" updated_at) VALUES ('m', 't', 'o', 'd', 'x', '{now}', '{now}')",
                "INSERT INTO data_snapshots (snapshot_id, model_name, path, row_count, "
                "column_count, byte_size, columns_json, source_json, created_by, created_at) "
                f"VALUES ('{'a' * 64}', 'm', '/s', 1, 1, 1, '{{}}', '{{}}', 'o', '{now}')",
                "INSERT INTO check_results (model_name, check_name, passed, severity, summary, "
                f"evidence_json, created_at) VALUES ('m', 'c', true, 'ERROR', 's', '{{}}', '{now}')",
                "INSERT INTO inference_log (request_id, model_name, model_version, requested_at, "
                f"consumer_team, status) VALUES ('r1', 'm', 1, '{now}', 'c', 'ok')",
            ):
                connection.exec_driver_sql(statement)
        migrate.upgrade(store.engine)
        from governance_pipelines.compliance.integrity import verify_store

        report = verify_store(store, files=False)
        assert report.passed, report.problems
        assert report.records_checked == 3
        bound = store.recent_events(action="record.bound")
        assert sorted(e.payload["record"]["table"] for e in bound) == [
            "check_results",
            "data_snapshots",
            "model_snapshots",  # the model that took each existing snapshot
        ]
        with store.engine.begin() as connection:
            from governance_pipelines.store.immutability import drop_append_only_triggers

            drop_append_only_triggers(connection, ("check_results",))
            connection.exec_driver_sql("UPDATE check_results SET passed = NOT passed")
        assert any("tampered: check_results row" in p for p in verify_store(store).problems)
    finally:
        store.dispose()
