"""Database-level guards that make append-only tables append-only.

The package never updates or deletes these rows, but a guard in the database also stops
an ad-hoc script or a mistaken migration. Whoever can drop a trigger can still tamper:
that is what the audit chain's hashes detect.
"""

from __future__ import annotations

import sqlalchemy as sa

IMMUTABLE_MESSAGE = "governance: rows of this table are immutable (append-only)"


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


def drop_append_only_triggers(connection: sa.Connection, tables: tuple[str, ...]) -> None:
    postgres = connection.dialect.name == "postgresql"
    for table in tables:
        if postgres:
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        else:
            for operation in ("update", "delete"):
                connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_no_{operation}")


def drop_guard_function(connection: sa.Connection) -> None:
    """Drop PostgreSQL's shared trigger function, once no table uses it any more."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("DROP FUNCTION IF EXISTS governance_forbid_change()")


def is_immutability_violation(error: BaseException) -> bool:
    return IMMUTABLE_MESSAGE in str(error)
