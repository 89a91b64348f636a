"""Database-level guards that make append-only tables append-only.

The package never updates or deletes these rows, but a guard in the database also stops
an ad-hoc script or a mistaken migration. Whoever can drop a trigger can still tamper:
that is what the audit chain's hashes detect.
"""

from __future__ import annotations

import sqlalchemy as sa

IMMUTABLE_MESSAGE = "governance: rows of this table are immutable (append-only)"
KEPT_MESSAGE = "governance: rows of this table are never deleted (mark them deleted instead)"


def create_append_only_triggers(connection: sa.Connection, tables: tuple[str, ...]) -> None:
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(
            "CREATE OR REPLACE FUNCTION governance_forbid_change() RETURNS trigger AS $$ "
            f"BEGIN RAISE EXCEPTION '{IMMUTABLE_MESSAGE}: %%', TG_TABLE_NAME; END; "
            "$$ LANGUAGE plpgsql"
        )
        for table in tables:
            connection.exec_driver_sql(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION governance_forbid_change()"
            )
        return
    for table in tables:
        for operation in ("UPDATE", "DELETE"):
            connection.exec_driver_sql(
                f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{IMMUTABLE_MESSAGE}: {table}'); END"
            )


def create_truncate_guards(connection: sa.Connection, tables: tuple[str, ...]) -> None:
    """PostgreSQL row triggers never fire on TRUNCATE: it needs a statement-level trigger.

    (SQLite has no TRUNCATE; its `DELETE FROM t` fires the row triggers.)
    """
    if connection.dialect.name != "postgresql":
        return
    for table in tables:
        connection.exec_driver_sql(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION governance_forbid_change()"
        )


def create_kept_row_guards(connection: sa.Connection, tables: tuple[str, ...]) -> None:
    """Rows that change but are never removed (endpoints, tokens): DELETE is refused (and
    TRUNCATE on PostgreSQL), so a deleted endpoint or a revoked token stays on record.

    UPDATE stays open: it is how their record family marks a row deleted or revoked.
    """
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(
            "CREATE OR REPLACE FUNCTION governance_forbid_delete() RETURNS trigger AS $$ "
            f"BEGIN RAISE EXCEPTION '{KEPT_MESSAGE}: %%', TG_TABLE_NAME; END; "
            "$$ LANGUAGE plpgsql"
        )
        for table in tables:
            connection.exec_driver_sql(
                f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION governance_forbid_delete()"
            )
            connection.exec_driver_sql(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION governance_forbid_delete()"
            )
        return
    for table in tables:
        connection.exec_driver_sql(
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{KEPT_MESSAGE}: {table}'); END"
        )


def drop_kept_row_guards(connection: sa.Connection, tables: tuple[str, ...]) -> None:
    postgres = connection.dialect.name == "postgresql"
    for table in tables:
        if postgres:
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_no_delete ON {table}")
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        else:
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_no_delete")


def create_forward_only_head(connection: sa.Connection) -> None:
    """The chain's head may only move forward by one event: never reset, never removed.

    Without this, resetting `audit_head` next to a truncated log made an emptied chain look
    like a new one ("OK: 0 events").
    """
    message = "governance: the audit head only moves forward by one event"
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(
            "CREATE OR REPLACE FUNCTION governance_forward_only_head() RETURNS trigger AS $$ "
            "BEGIN IF TG_OP = 'DELETE' OR NEW.seq <> OLD.seq + 1 OR NEW.id <> OLD.id THEN "
            f"RAISE EXCEPTION '{IMMUTABLE_MESSAGE}: audit_head ({message})'; END IF; "
            "RETURN NEW; END; $$ LANGUAGE plpgsql"
        )
        connection.exec_driver_sql(
            "CREATE TRIGGER audit_head_append_only BEFORE UPDATE OR DELETE ON audit_head "
            "FOR EACH ROW EXECUTE FUNCTION governance_forward_only_head()"
        )
        return
    connection.exec_driver_sql(
        "CREATE TRIGGER audit_head_no_update BEFORE UPDATE ON audit_head "
        "WHEN NEW.seq <> OLD.seq + 1 OR NEW.id <> OLD.id "
        f"BEGIN SELECT RAISE(ABORT, '{IMMUTABLE_MESSAGE}: audit_head ({message})'); END"
    )
    connection.exec_driver_sql(
        "CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head "
        f"BEGIN SELECT RAISE(ABORT, '{IMMUTABLE_MESSAGE}: audit_head'); END"
    )


def drop_append_only_triggers(connection: sa.Connection, tables: tuple[str, ...]) -> None:
    """Drop every guard of these tables (row, TRUNCATE and head triggers alike)."""
    postgres = connection.dialect.name == "postgresql"
    for table in tables:
        if postgres:
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        else:
            for operation in ("update", "delete"):
                connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_no_{operation}")


def drop_guard_function(connection: sa.Connection) -> None:
    """Drop PostgreSQL's shared trigger functions, once no table uses them any more."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("DROP FUNCTION IF EXISTS governance_forbid_change()")
        connection.exec_driver_sql("DROP FUNCTION IF EXISTS governance_forward_only_head()")
        connection.exec_driver_sql("DROP FUNCTION IF EXISTS governance_forbid_delete()")


def is_immutability_violation(error: BaseException) -> bool:
    text = str(error)
    return IMMUTABLE_MESSAGE in text or KEPT_MESSAGE in text
