"""Least-privilege PostgreSQL grants for the application role.

Triggers and the audit chain detect tampering; privileges stop it earlier. The role the
application (Dagster runs, the CLI, the gateway) connects as may only append to governed
tables and read them: it cannot UPDATE, DELETE or TRUNCATE history, reset the audit head,
or run DDL (drop a table or a trigger), because it owns nothing. Only the migration role,
used by `governance db upgrade`, owns the tables, and it is the one that runs these
statements (`governance db grants --app-role NAME | psql ...`) after every upgrade.

Privileges are derived from the table classes in `store/schema.py`, so a new table that is
in neither `APPEND_ONLY_TABLES` nor `MUTABLE_TABLES` stops the grants (and a unit test)
with its name instead of silently getting too much, or nothing. There are deliberately no
default privileges: a table created by a later migration is closed to the application
until the grants are regenerated and re-applied.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import sqlalchemy as sa

from governance_pipelines.store import schema as store_schema

# What the application does to governed records: append and read, nothing else.
APPEND_ONLY_PRIVILEGES = ("SELECT", "INSERT")

# Each mutable table's privileges, for exactly what the package does to it: the audit
# head only moves forward (its one row is created by the migration); an outbox row's
# delivery state and a model's declared config change; a day's usage is recomputed by
# deleting and re-inserting it; endpoints change and are marked deleted, tokens are
# revoked — never removed, so no DELETE. Nothing gets TRUNCATE.
MUTABLE_PRIVILEGES: Mapping[str, tuple[str, ...]] = {
    store_schema.audit_head.name: ("SELECT", "UPDATE"),
    store_schema.alerts.name: ("SELECT", "INSERT", "UPDATE"),
    store_schema.models.name: ("SELECT", "INSERT", "UPDATE"),
    store_schema.usage_records.name: ("SELECT", "INSERT", "DELETE"),
    store_schema.endpoints.name: ("SELECT", "INSERT", "UPDATE"),
    store_schema.api_tokens.name: ("SELECT", "INSERT", "UPDATE"),
}

# Alembic's bookkeeping: the application reads the revision to check it is at head.
ALEMBIC_VERSION_TABLE = "alembic_version"
ALEMBIC_VERSION_PRIVILEGES = ("SELECT",)

_PLAIN_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")
_MAX_IDENTIFIER_BYTES = 63  # PostgreSQL's NAMEDATALEN - 1
# Names that are not ordinary roles: granting to them would reach every role (PUBLIC) or
# whoever happens to run the SQL.
_RESERVED_ROLE_NAMES = frozenset({"public", "none", "current_user", "current_role", "session_user"})


class UnclassifiedTableError(Exception):
    """A table of the store's schema has no (or more than one) privilege class."""


def table_privileges(metadata: sa.MetaData = store_schema.metadata) -> dict[str, tuple[str, ...]]:
    """The application role's privileges on every table of `metadata` (plus alembic_version).

    Raises `UnclassifiedTableError` naming each table that is in neither class, in both,
    or mutable without an entry in `MUTABLE_PRIVILEGES`.
    """
    append_only = {table.name for table in store_schema.APPEND_ONLY_TABLES}
    mutable = {table.name for table in store_schema.MUTABLE_TABLES}
    problems: list[str] = []
    privileges: dict[str, tuple[str, ...]] = {}
    for table in sorted(metadata.tables.values(), key=lambda t: t.name):
        name = table.name
        if name in append_only and name in mutable:
            problems.append(f"{name!r} is in both APPEND_ONLY_TABLES and MUTABLE_TABLES")
        elif name in append_only:
            privileges[name] = APPEND_ONLY_PRIVILEGES
        elif name in mutable:
            if name not in MUTABLE_PRIVILEGES:
                problems.append(
                    f"{name!r} is in MUTABLE_TABLES but has no entry in "
                    "store/roles.py MUTABLE_PRIVILEGES"
                )
            else:
                privileges[name] = MUTABLE_PRIVILEGES[name]
        else:
            problems.append(f"{name!r} is in neither APPEND_ONLY_TABLES nor MUTABLE_TABLES")
    stale = sorted(set(MUTABLE_PRIVILEGES) - mutable)
    problems.extend(
        f"store/roles.py MUTABLE_PRIVILEGES names {name!r}, which is not in MUTABLE_TABLES"
        for name in stale
    )
    if problems:
        raise UnclassifiedTableError(
            "cannot derive the application role's privileges: "
            + "; ".join(problems)
            + ". Classify each table in store/schema.py (append-only unless the application "
            "must change its rows) before granting access to it."
        )
    privileges[ALEMBIC_VERSION_TABLE] = ALEMBIC_VERSION_PRIVILEGES
    return privileges


def quote_identifier(name: str, *, what: str = "role") -> str:
    """`name` double-quoted, after checking it is a plain lower-case SQL identifier.

    Only plain identifiers are accepted (not merely escaped) so that the quoted name is
    the same role that an unquoted `CREATE ROLE name` made, and so that nothing a caller
    passes can change the statement.
    """
    if not isinstance(name, str) or not _PLAIN_IDENTIFIER.fullmatch(name):
        raise ValueError(
            f"{what} name {name!r} is not a plain SQL identifier: use lower-case letters, "
            "digits and underscores, starting with a letter or underscore (e.g. governance_app)"
        )
    if len(name.encode("utf-8")) > _MAX_IDENTIFIER_BYTES:
        raise ValueError(
            f"{what} name {name!r} is longer than PostgreSQL's {_MAX_IDENTIFIER_BYTES} bytes"
        )
    if name.startswith("pg_") or (what == "role" and name in _RESERVED_ROLE_NAMES):
        raise ValueError(
            f"{what} name {name!r} is reserved by PostgreSQL; "
            + (
                "grant to a dedicated login role such as governance_app instead"
                if what == "role"
                else "name the schema that holds the governance tables"
            )
        )
    return f'"{name}"'


def least_privilege_grants(app_role: str, *, schema: str = "public") -> list[str]:
    """SQL that leaves `app_role` with only the privileges the application needs.

    Run by the migration role (the owner of the tables) after `governance db upgrade`;
    it is idempotent. Everything is revoked first, so re-running it after a change of
    class also takes away privileges the table no longer warrants. `CREATE` on the
    schema is revoked from PUBLIC as well (PostgreSQL 15's default): otherwise any role
    could plant functions or tables in the schema that the owner's migrations would
    resolve by search path.
    """
    role = quote_identifier(app_role, what="role")
    namespace = quote_identifier(schema, what="schema")
    privileges = table_privileges()
    statements = [
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {namespace} FROM {role}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {namespace} FROM {role}",
        f"REVOKE ALL ON SCHEMA {namespace} FROM {role}",
        f"REVOKE CREATE ON SCHEMA {namespace} FROM PUBLIC",
        f"GRANT USAGE ON SCHEMA {namespace} TO {role}",
    ]
    statements.extend(
        f"GRANT {', '.join(granted)} ON TABLE {namespace}.{quote_identifier(table, what='table')} "
        f"TO {role}"
        for table, granted in privileges.items()
    )
    # nextval() for serial/identity ids; SELECT for currval(). Not UPDATE (setval).
    statements.append(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {namespace} TO {role}")
    return statements
