"""Where the governance store lives and how connections to it behave.

SQLite is the embedded default so that a laptop needs no server; PostgreSQL is for teams.
Two behaviours matter for governance: writers must be serialised (the audit chain is a
single sequence), and a briefly locked database must wait rather than fail a run.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url

DEFAULT_HOME = Path(".governance")
SQLITE_BUSY_TIMEOUT_MS = 30_000
# Execution option for connections that only read (see `GovernanceStore.reading`).
READ_ONLY = "governance_read_only"
DATABASE_URL_ENV = "GOVERNANCE_DATABASE_URL"
MASK = "***"
# Query parameters that carry credentials (libpq's password, sslpassword, API tokens...).
_SECRET_QUERY_KEY = re.compile(r"pass|pwd|secret|token|key|credential|auth", re.IGNORECASE)
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]{0,31}")


class StoreConfigurationError(Exception):
    """The store URL or home folder cannot be used."""


def governance_home(home: str | os.PathLike[str] | None = None) -> Path:
    """The folder for the embedded store and artifacts: argument, `GOVERNANCE_HOME`, ./.governance."""
    if home is not None:
        return Path(home)
    return Path(os.environ.get("GOVERNANCE_HOME") or DEFAULT_HOME)


def database_url(url: str | None = None, home: str | os.PathLike[str] | None = None) -> str:
    """The store URL: argument, `GOVERNANCE_DATABASE_URL`, else SQLite under the home folder."""
    chosen = url or os.environ.get(DATABASE_URL_ENV)
    if chosen:
        return chosen
    return f"sqlite:///{(governance_home(home) / 'governance.db').resolve()}"


def display_url(url: str | sa.URL) -> str:
    """The URL as it may be shown, logged or stored: password and secret parameters masked.

    Every message, summary or record that names a database goes through this, because a
    store URL usually carries its password. A string that does not parse is never echoed
    back (the secret could be anywhere in it): only a recognisable scheme is kept.
    """
    try:
        parsed = make_url(url)
    except (sa.exc.ArgumentError, ValueError, TypeError):
        scheme, separator, _ = str(url).partition("://")
        return f"{scheme}://{MASK}" if separator and _SCHEME.fullmatch(scheme) else MASK
    shown = parsed.set(query={}).render_as_string(hide_password=True)
    pairs = [
        f"{quote_plus(key)}={MASK if _SECRET_QUERY_KEY.search(key) else quote_plus(value)}"
        for key, values in parsed.query.items()
        for value in (values if isinstance(values, tuple) else (values,))
    ]
    return f"{shown}?{'&'.join(pairs)}" if pairs else shown


def create_store_engine(url: str) -> Engine:
    """An engine with the locking behaviour the audit chain relies on."""
    parsed = parse_store_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(parsed)
    return sa.create_engine(parsed, pool_pre_ping=True, future=True)


def parse_store_url(url: str) -> sa.URL:
    """The store URL, parsed; a malformed or unsupported one is named (masked) with the fix."""
    try:
        parsed = make_url(url)
    except (sa.exc.ArgumentError, ValueError):
        raise StoreConfigurationError(
            f"GOVERNANCE_DATABASE_URL ({display_url(url)!r}, masked) is not a SQLAlchemy URL; "
            "expected e.g. 'sqlite:////path/governance.db' or 'postgresql+psycopg2://user@host/db'"
        ) from None
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise StoreConfigurationError(
            f"the governance store supports SQLite and PostgreSQL, not {backend!r} "
            f"({display_url(parsed)!r})"
        )
    return parsed


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
        # A long read that says so (READ_ONLY) begins deferred: under WAL it sees one
        # consistent snapshot and never holds writers up (a nightly verification of a
        # million events would otherwise block every run for half a minute).
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine
