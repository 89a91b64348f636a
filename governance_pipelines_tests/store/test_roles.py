"""Least privilege on PostgreSQL: the application role can append and read, never rewrite.

The PostgreSQL tests create a real login role, migrate as the owner, apply the generated
grants, then connect *as that role*: the application's public API must work, and every way
of rewriting history (UPDATE, DELETE, TRUNCATE, DDL, resetting the audit head or a
sequence) must be refused by the database with a privilege error — not by a trigger,
which the owner could drop.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from governance_pipelines.alerting.outbox import Alert, enqueue
from governance_pipelines.cli import main
from governance_pipelines.store import GovernanceStore, schema
from governance_pipelines.store.roles import (
    UnclassifiedTableError,
    least_privilege_grants,
    table_privileges,
)

ACTOR = "roles-test"
INSUFFICIENT_PRIVILEGE = "42501"  # SQLSTATE of "permission denied" and "must be owner"
TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")

# The requirement, stated independently of store/roles.py: append-only tables get exactly
# SELECT and INSERT; each mutable table exactly what the application does to it.
EXPECTED_MUTABLE = {
    "audit_head": {"SELECT", "UPDATE"},
    "alerts": {"SELECT", "INSERT", "UPDATE"},
    "models": {"SELECT", "INSERT", "UPDATE"},
    "usage_records": {"SELECT", "INSERT", "DELETE"},
    "endpoints": {"SELECT", "INSERT", "UPDATE"},
    "api_tokens": {"SELECT", "INSERT", "UPDATE"},
}
EXPECTED_APPEND_ONLY = {"SELECT", "INSERT"}


def _expected_privileges(table: str) -> set[str]:
    if table == "alembic_version":
        return {"SELECT"}
    if table in {t.name for t in schema.APPEND_ONLY_TABLES}:
        return EXPECTED_APPEND_ONLY
    return EXPECTED_MUTABLE.get(table, set())  # an unknown table: closed to the application


# --- pure unit tests (no database) ----------------------------------------------------------


def test_every_table_is_classified_exactly_once() -> None:
    classes = Counter(t.name for t in (*schema.APPEND_ONLY_TABLES, *schema.MUTABLE_TABLES))
    unclassified = sorted(set(schema.metadata.tables) - set(classes))
    twice = sorted(name for name, count in classes.items() if count > 1)
    assert not unclassified, (
        f"tables in neither APPEND_ONLY_TABLES nor MUTABLE_TABLES: {unclassified}; "
        "classify them in store/schema.py"
    )
    assert not twice, f"tables in both APPEND_ONLY_TABLES and MUTABLE_TABLES: {twice}"
    assert set(table_privileges()) == set(schema.metadata.tables) | {"alembic_version"}


def test_privileges_match_the_requirement() -> None:
    granted = {table: set(privileges) for table, privileges in table_privileges().items()}
    assert granted == {table: _expected_privileges(table) for table in granted}
    assert not any("TRUNCATE" in privileges for privileges in granted.values())


def test_a_new_unclassified_table_stops_the_grants_by_name() -> None:
    extended = sa.MetaData()
    for table in schema.metadata.tables.values():
        table.to_metadata(extended)
    sa.Table("shadow_ledger", extended, sa.Column("id", sa.Integer, primary_key=True))
    with pytest.raises(UnclassifiedTableError, match="'shadow_ledger' is in neither"):
        table_privileges(extended)


def test_grants_revoke_everything_first() -> None:
    statements = least_privilege_grants("governance_app")
    first_grant = next(i for i, s in enumerate(statements) if s.startswith("GRANT"))
    assert first_grant > 0
    assert all(s.startswith("REVOKE") for s in statements[:first_grant])
    assert all(s.startswith("GRANT") for s in statements[first_grant:])
    assert 'REVOKE ALL ON ALL TABLES IN SCHEMA "public" FROM "governance_app"' in statements
    assert 'GRANT SELECT, INSERT ON TABLE "public"."audit_log" TO "governance_app"' in statements
    assert 'GRANT SELECT, UPDATE ON TABLE "public"."audit_head" TO "governance_app"' in statements
    assert all("TRUNCATE" not in s for s in statements)


@pytest.mark.parametrize(
    "name",
    [
        "",
        "public",
        "PUBLIC",
        "current_user",
        "pg_read_all_data",
        "Governance_App",
        "1app",
        "app-role",
        'app"; DROP TABLE audit_log; --',
        "app role",
        "app;",
        "a" * 64,
    ],
)
def test_role_names_that_are_not_plain_identifiers_are_rejected(name: str) -> None:
    with pytest.raises(ValueError, match="role name"):
        least_privilege_grants(name)


def test_schema_name_is_validated_too() -> None:
    with pytest.raises(ValueError, match="schema name"):
        least_privilege_grants("governance_app", schema='public"; --')
    assert 'GRANT USAGE ON SCHEMA "governance" TO "app"' in least_privilege_grants(
        "app", schema="governance"
    )


def test_cli_prints_the_grants() -> None:
    result = CliRunner().invoke(main, ["db", "grants", "--app-role", "governance_app"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if not line.startswith("--")]
    assert lines == [f"{s};" for s in least_privilege_grants("governance_app")]


def test_cli_rejects_an_unsafe_role_name() -> None:
    result = CliRunner().invoke(main, ["db", "grants", "--app-role", "app; DROP TABLE x"])
    assert result.exit_code == 2
    assert "--app-role" in result.output
    assert "not a plain SQL identifier" in result.output
    assert "GRANT" not in result.output


# --- PostgreSQL: as the application role ----------------------------------------------------


def _drop_role(admin: sa.Engine, role: str) -> None:
    """Remove the role even if the test failed half-way (it is cluster-wide, so it must go)."""
    with admin.connect() as connection:
        connection.execute(
            sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = :r"),
            {"r": role},
        )
        exists = connection.execute(
            sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}
        ).scalar()
        if exists:
            # Drops its privileges (and anything it managed to own) in the test database.
            connection.exec_driver_sql(f'DROP OWNED BY "{role}"')
            connection.exec_driver_sql(f'DROP ROLE "{role}"')


@pytest.fixture
def app_role(postgres_url: str) -> Iterator[str]:
    """A fresh login role with no privileges, dropped after the test."""
    role = f"governance_app_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE ROLE "{role}" LOGIN')
        yield role
    finally:
        try:
            _drop_role(admin, role)
        finally:
            admin.dispose()


@pytest.fixture
def owner_store(postgres_url: str, tmp_path: Path) -> Iterator[GovernanceStore]:
    """The store migrated by the owner (the migration role), with the grants applied."""
    store = GovernanceStore.open(postgres_url, tmp_path / "home")
    try:
        yield store
    finally:
        store.dispose()


@pytest.fixture
def app_store(
    owner_store: GovernanceStore, app_role: str, postgres_url: str, tmp_path: Path
) -> Iterator[GovernanceStore]:
    """The store opened as the application role, after the owner applied the grants."""
    for _ in range(2):  # idempotent: re-running after an upgrade is the documented routine
        with owner_store.engine.begin() as connection:
            for statement in least_privilege_grants(app_role):
                connection.exec_driver_sql(statement)
    url = sa.make_url(postgres_url).set(username=app_role, password=None)
    store = GovernanceStore.open(url.render_as_string(hide_password=False), tmp_path / "home")
    try:
        yield store
    finally:
        store.dispose()


def _use_the_application(store: GovernanceStore) -> None:
    """Every kind of write the application makes, through its public API."""
    store.record_event(actor=ACTOR, action="test.started", payload={"why": "least privilege"})
    for config in ({"a": 1}, {"a": 2}):  # the second is an UPDATE of models
        store.register_model(
            name="credit", team="risk", owner="alice", description="d", config=config, actor=ACTOR
        )
    snapshot_id = "a" * 64
    store.register_snapshot(
        snapshot_id=snapshot_id,
        model_name="credit",
        path=f"/snapshots/{snapshot_id}.parquet",
        row_count=10,
        column_count=2,
        byte_size=100,
        columns={"x": "float64", "y": "int64"},
        source={"kind": "file", "path": "x.csv"},
        actor=ACTOR,
    )
    version, _created = store.register_model_version(
        model_name="credit",
        fingerprint="f" * 64,
        snapshot_id=snapshot_id,
        artifact_sha256="b" * 64,
        artifact_path="/artifacts/x.pkl",
        record={"params": {"n": 1}},
        actor=ACTOR,
    )
    store.record_check_result(
        model_name="credit",
        check_name="training_snapshot_schema_valid",
        passed=True,
        severity="ERROR",
        summary="ok",
        evidence={"rows": 10},
        actor=ACTOR,
        version=version.version,
        snapshot_id=snapshot_id,
    )
    alert = Alert(
        model_name="credit",
        kind="drift",
        severity="warning",
        day=date(2024, 5, 1),
        breached="PSI of feature amount",
        value=0.31,
        threshold=0.2,
        version=version.version,
        subject="amount",
        url="http://dagster.local/assets/credit/drift_report",
        channel="#ml-alerts",
    )
    assert enqueue(store, alert, actor=ACTOR, now=datetime(2024, 5, 1, 9, tzinfo=UTC)).status == (
        "created"
    )
    day = date(2024, 5, 1)
    row = {"version": version.version, "consumer_team": "web", "requests": 10, "errors": 1}
    assert store.replace_usage_day("credit", day, [row]) == 1
    assert store.replace_usage_day("credit", day, [{**row, "requests": 12}]) == 1  # DELETE
    assert [r["requests"] for r in store.usage("credit")] == [12]
    settings = {
        "model_name": "credit",
        "stage": "production",
        "candidate_version": None,
        "mode": "live",
        "traffic_share": None,
        "allowed_teams": ["web"],
        "rate_limit_per_minute": 600,
    }
    store.create_endpoint("credit-api", settings, actor=ACTOR)
    store.update_endpoint("credit-api", {"rate_limit_per_minute": 60}, actor=ACTOR)  # UPDATE
    store.delete_endpoint("credit-api", actor=ACTOR)  # marked deleted: an UPDATE
    store.issue_token(
        token_id="gpt_0000abcd",
        token_sha256="c" * 64,
        team="web",
        endpoint_names=["credit-api"],
        expires_at=datetime(2099, 1, 1, tzinfo=UTC),
        actor=ACTOR,
    )
    assert store.revoke_token("gpt_0000abcd", actor=ACTOR).revoked_by == ACTOR


@pytest.mark.postgres
def test_the_application_works_as_the_least_privileged_role(app_store: GovernanceStore) -> None:
    _use_the_application(app_store)
    verification = app_store.verify_audit_chain()
    assert verification.ok, verification.problem
    actions = [event.action for event in app_store.recent_events(limit=100)]
    assert actions[0] == "test.started"
    assert {"model.registered", "model.config_changed", "check.evaluated"} <= set(actions)
    assert "alert.raised" in actions
    assert {"endpoint.created", "endpoint.deleted", "token.issued", "token.revoked"} <= set(actions)


def _attempt(engine: sa.Engine, sql: str) -> sa.exc.DBAPIError | None:
    """Run `sql` in a transaction that is always rolled back; the error, or None if it ran."""
    with engine.connect() as connection:
        try:
            connection.exec_driver_sql(sql)
        except sa.exc.DBAPIError as error:
            return error
        finally:
            connection.rollback()
    return None


def _not_refused(engine: sa.Engine, statements: list[str], reason: str) -> list[str]:
    """The statements that ran, or failed for another reason than a missing privilege."""
    wrong = []
    for sql in statements:
        error = _attempt(engine, sql)
        if error is None:
            wrong.append(f"{sql}: SUCCEEDED")
        elif getattr(error.orig, "pgcode", None) != INSUFFICIENT_PRIVILEGE or reason not in str(
            error.orig
        ):
            wrong.append(f"{sql}: {str(error.orig).strip().splitlines()[0]}")
    return wrong


@pytest.mark.postgres
def test_the_application_role_cannot_rewrite_history(
    app_store: GovernanceStore, owner_store: GovernanceStore
) -> None:
    _use_the_application(app_store)
    with owner_store.engine.connect() as connection:
        counts_before = {
            t.name: connection.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
            for t in schema.metadata.sorted_tables
        }
    engine = app_store.engine
    rewrites = []
    for table in schema.APPEND_ONLY_TABLES:
        column = next(iter(table.columns)).name
        rewrites += [
            f"UPDATE {table.name} SET {column} = {column}",
            f"DELETE FROM {table.name}",
            f"TRUNCATE {table.name}",
        ]
    rewrites += [
        "INSERT INTO audit_head (id, seq, hash) VALUES (2, 0, repeat('0', 64))",
        "DELETE FROM audit_head",
        "TRUNCATE audit_head",
        "TRUNCATE access_log, approvals",
        "TRUNCATE audit_log, audit_head",
        *(f"TRUNCATE {table.name}" for table in schema.MUTABLE_TABLES),
        "DELETE FROM endpoints",
        "DELETE FROM api_tokens",
        "UPDATE alembic_version SET version_num = version_num",
        "DELETE FROM alembic_version",
        "SELECT setval(pg_get_serial_sequence('approvals', 'id'), 1)",
        "CREATE TABLE public.shadow_ledger (id int)",
    ]
    assert _not_refused(engine, rewrites, "permission denied") == []

    ddl = [
        "DROP TABLE audit_log",
        "DROP TABLE approvals CASCADE",
        "ALTER TABLE audit_log ADD COLUMN note text",
        "ALTER TABLE access_log DISABLE TRIGGER ALL",
        "ALTER TABLE approvals RENAME TO approvals_old",
        "DROP TRIGGER audit_log_append_only ON audit_log",
        "DROP TRIGGER approvals_append_only ON approvals",
    ]
    assert _not_refused(engine, ddl, "must be owner") == []

    with owner_store.engine.connect() as connection:
        counts_after = {
            t.name: connection.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
            for t in schema.metadata.sorted_tables
        }
    assert counts_after == counts_before
    verification = app_store.verify_audit_chain()
    assert verification.ok, verification.problem


@pytest.mark.postgres
def test_the_application_role_has_exactly_the_documented_privileges(
    app_store: GovernanceStore, app_role: str
) -> None:
    """Checked against the database's own catalog, for every table the migrations created."""
    with app_store.engine.connect() as connection:
        tables = sorted(sa.inspect(connection).get_table_names(schema="public"))
        held = {
            table: {
                privilege
                for privilege in TABLE_PRIVILEGES
                if connection.execute(
                    sa.text("SELECT has_table_privilege(:role, :table, :privilege)"),
                    {"role": app_role, "table": f"public.{table}", "privilege": privilege},
                ).scalar_one()
            }
            for table in tables
        }
        can_create = connection.execute(
            sa.text("SELECT has_schema_privilege(:role, 'public', 'CREATE')"), {"role": app_role}
        ).scalar_one()
        superuser = connection.execute(
            sa.text("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = :role"),
            {"role": app_role},
        ).scalar_one()
    assert set(schema.metadata.tables) | {"alembic_version"} <= set(tables)
    assert held == {table: _expected_privileges(table) for table in tables}
    assert not can_create
    assert not superuser
