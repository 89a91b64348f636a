"""Where the governance store lives and how connections to it behave.

SQLite is the embedded default so that a laptop needs no server; PostgreSQL is for teams.
Two behaviours matter for governance: writers must be serialised (the audit chain is a
single sequence), and a briefly locked database must wait rather than fail a run.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url

DEFAULT_HOME = Path(".governance")
SQLITE_BUSY_TIMEOUT_MS = 30_000


class StoreConfigurationError(Exception):
    """The store URL or home folder cannot be used."""


def governance_home(home: str | os.PathLike[str] | None = None) -> Path:
    """The folder for the embedded store and artifacts: argument, `GOVERNANCE_HOME`, ./.governance."""
    if home is not None:
        return Path(home)
    return Path(os.environ.get("GOVERNANCE_HOME") or DEFAULT_HOME)


def database_url(url: str | None = None, home: str | os.PathLike[str] | None = None) -> str:
    """The store URL: argument, `GOVERNANCE_DATABASE_URL`, else SQLite under the home folder."""
    chosen = url or os.environ.get("GOVERNANCE_DATABASE_URL")
    if chosen:
        return chosen
    return f"sqlite:///{(governance_home(home) / 'governance.db').resolve()}"


def create_store_engine(url: str) -> Engine:
    """An engine with the locking behaviour the audit chain relies on."""
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError:
        raise StoreConfigurationError(
            f"GOVERNANCE_DATABASE_URL {url!r} is not a SQLAlchemy URL; expected e.g. "
            "'sqlite:////path/governance.db' or 'postgresql+psycopg2://user@host/db'"
        ) from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(parsed)
    if backend == "postgresql":
        return sa.create_engine(parsed, pool_pre_ping=True, future=True)
    raise StoreConfigurationError(
        f"the governance store supports SQLite and PostgreSQL, not {backend!r} ({url!r})"
    )


def _sqlite_engine(parsed: sa.URL) -> Engine:
    database = parsed.database
    if database and database != ":memory:":
        folder = Path(database).parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StoreConfigurationError(
                f"cannot create the store folder {folder}: {error.strerror}; "
                "set GOVERNANCE_HOME to a writable folder"
            ) from None
    engine = sa.create_engine(
        parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, future=True
    )

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (see _begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: sa.Connection) -> None:
        # IMMEDIATE takes the write lock up front: two writers queue on busy_timeout
        # instead of both reading the same audit-chain head and one failing on commit.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
