"""No secret leaves the process: a canary password and Slack token through a whole demo run.

`governance demo` runs on PostgreSQL with a store URL whose password is a unique canary and
with a canary Slack bot token that the local fake Slack really receives. Afterwards
neither canary may appear anywhere the run leaves a trace: stdout, stderr, log records,
every file under the governance home, Dagster's home and the working folder (SQLite
databases and parquet files opened and read cell by cell, compressed blobs inflated), and
every column of every table of the governance store. The helper that masks URLs is
checked on its own below, for inputs the demo never produces.
"""

from __future__ import annotations

import gzip
import logging
import os
import sqlite3
import time
import uuid
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from governance_pipelines.cli import main
from governance_pipelines.store.engine import display_url
from governance_pipelines_tests.fakes.slack_server import FakeSlackServer

DEMO_CHANNELS = ["credit-risk-ml", "clinical-ml"]  # the packaged demo's team channels
SQLITE_MAGIC = b"SQLite format 3\x00"
PARQUET_MAGIC = b"PAR1"


@pytest.mark.postgres
def test_a_demo_run_on_postgres_never_reveals_the_password_or_the_token(
    postgres_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    password = f"canary-pw-{uuid.uuid4().hex}"
    token = f"xoxb-canary-{uuid.uuid4().hex}"
    # The local server trusts 127.0.0.1, so the canary password still connects.
    url = sa.make_url(postgres_url).set(password=password).render_as_string(hide_password=False)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)  # no ./governance.yaml: the packaged demo; catches stray files too
    monkeypatch.setenv("GOVERNANCE_HOME", str(tmp_path / "governance_home"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    monkeypatch.setenv("GOVERNANCE_DATABASE_URL", url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", token)
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, "governance_pipelines")  # restored after; the demo quiets it

    with FakeSlackServer(token=token, channels=DEMO_CHANNELS) as slack:
        monkeypatch.setenv("GOVERNANCE_SLACK_BASE_URL", slack.base_url)
        started = time.perf_counter()
        result = CliRunner().invoke(main, ["demo", "--days", "2"])
        elapsed = time.perf_counter() - started
        received = slack.requests

    assert result.exit_code == 0, result.output + repr(result.exception)
    assert os.environ["GOVERNANCE_DATABASE_URL"] == url  # the demo put the caller's value back
    # The canaries were really in play: the store was reached, Slack got the token.
    posted = [r for r in received if r.method == "chat.postMessage" and r.status == 200]
    assert posted, f"no alert reached the fake Slack: {received}\n{result.output}"
    assert all(r.token == token for r in received)

    canaries = {"store password": password.encode(), "Slack token": token.encode()}
    leaks: list[str] = []

    def inspect(where: str, data: bytes) -> None:
        leaks.extend(f"{name} in {where}" for name, canary in canaries.items() if canary in data)

    inspect("stdout", result.stdout_bytes)
    inspect("stderr", result.stderr_bytes)
    inspect("the exception", repr(result.exception).encode())
    for record in caplog.records:
        inspect(f"log record of {record.name}", _log_text(record).encode())
    for path in sorted(p for p in tmp_path.rglob("*") if p.is_file()):
        for view, data in _views_of(path):
            inspect(f"{path.relative_to(tmp_path)} ({view})", data)
    for table, column, value in _store_cells(postgres_url):
        inspect(f"store table {table}.{column}", value)

    assert not leaks, "\n".join(sorted(set(leaks)))
    # ...and the summary still says which store it used, with the password masked.
    masked = sa.make_url(url).render_as_string(hide_password=True)
    assert "***" in masked
    assert f"governance store:  {masked}" in result.stdout
    print(f"demo run on PostgreSQL: {elapsed:.1f} s")


def _log_text(record: logging.LogRecord) -> str:
    text = f"{record.getMessage()} {record.args!r} {record.__dict__!r}"
    if record.exc_info:
        text += logging.Formatter().formatException(record.exc_info)
    return text


def _views_of(path: Path) -> Iterator[tuple[str, bytes]]:
    """The file's raw bytes, plus what compression or a database format would hide."""
    data = path.read_bytes()
    yield "bytes", data
    yield from _inflated("bytes", data)
    if data.startswith(SQLITE_MAGIC):
        yield from _sqlite_cells(path)
    elif data.startswith(PARQUET_MAGIC):
        yield from _parquet_cells(path)


def _inflated(view: str, data: bytes) -> Iterator[tuple[str, bytes]]:
    """zlib (Dagster's snapshot bodies) and gzip payloads, decompressed."""
    for name, decompress in (("zlib", zlib.decompress), ("gzip", gzip.decompress)):
        try:
            inflated = decompress(data)
        except (zlib.error, OSError, EOFError):
            continue
        yield f"{view}, {name}", inflated


def _sqlite_cells(path: Path) -> Iterator[tuple[str, bytes]]:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [
            row[0]
            for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
        for table in tables:
            for row in connection.execute(f'SELECT * FROM "{table}"'):
                for value in row:
                    data = value if isinstance(value, bytes) else str(value).encode()
                    yield f"table {table}", data
                    yield from _inflated(f"table {table}", data)
    finally:
        connection.close()


def _parquet_cells(path: Path) -> Iterator[tuple[str, bytes]]:
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    yield "parquet metadata", repr(table.schema.metadata).encode()
    for name in table.column_names:
        yield f"parquet column {name}", repr(table.column(name).to_pylist()).encode()


def _store_cells(postgres_url: str) -> Iterator[tuple[str, str, bytes]]:
    """Every cell of every table of the governance store (read with the canary-free URL)."""
    engine = sa.create_engine(postgres_url)
    try:
        names = sa.inspect(engine).get_table_names()
        assert "audit_log" in names, names
        metadata = sa.MetaData()
        metadata.reflect(engine, only=names)
        with engine.connect() as connection:
            for table in metadata.sorted_tables:
                for row in connection.execute(sa.select(table)):
                    for column, value in row._mapping.items():
                        data = value if isinstance(value, bytes) else str(value).encode()
                        yield table.name, column, data
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql+psycopg2://u:s3cret@db:5432/gov", "postgresql+psycopg2://u:***@db:5432/gov"),
        (
            "postgresql://u@db/gov?password=s3cret&sslmode=require",
            "postgresql://u@db/gov?password=***&sslmode=require",
        ),
        ("postgresql://u:s3cret@db:port/gov", "postgresql://***"),  # port is not a number
        ("u:s3cret@db/gov", "***"),
        ("sqlite:////tmp/governance.db", "sqlite:////tmp/governance.db"),
    ],
)
def test_display_url_masks_secrets_and_never_echoes_what_it_cannot_parse(
    url: str, shown: str
) -> None:
    displayed = display_url(url)
    assert displayed == shown
    assert display_url(displayed) == displayed  # masking twice changes nothing


@pytest.mark.parametrize(
    "url",
    [
        "u:s3cret@db/gov",  # no scheme: not a URL at all
        "postgresql://u:s3cret@db:port/gov",  # parses only up to the port
        "mysql://u:s3cret@db/gov",  # a URL, of a backend the store does not support
    ],
)
@pytest.mark.parametrize("command", [["db", "current"], ["demo", "--days", "0"]])
def test_an_unusable_store_url_is_reported_masked(
    url: str, command: list[str], tmp_path: Path
) -> None:
    result = CliRunner().invoke(main, [*command, "--home", str(tmp_path), "--database-url", url])
    assert result.exit_code == 1, repr(result.exception)
    assert "GOVERNANCE_DATABASE_URL" in result.output or "supports SQLite" in result.output
    assert "s3cret" not in result.output
