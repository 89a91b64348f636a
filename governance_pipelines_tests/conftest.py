"""Shared fixtures: a real store on SQLite and, when configured, on PostgreSQL.

PostgreSQL-backed tests run whenever GOVERNANCE_TEST_POSTGRES_URL is set (CI sets it);
each test gets a freshly created database that is dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from governance_pipelines.config import PACKAGED_DEMO_CONFIG, GovernanceConfig, load_config
from governance_pipelines.store import GovernanceStore

POSTGRES_ENV = "GOVERNANCE_TEST_POSTGRES_URL"


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's real store, config or Slack token."""
    for name in (
        "GOVERNANCE_DATABASE_URL",
        "GOVERNANCE_CONFIG",
        "SLACK_BOT_TOKEN",
        "DAGSTER_HOME",
        "GOVERNANCE_CHECKPOINT_KEY_FILE",
        "GOVERNANCE_CHECKPOINT_KEY",
        "GOVERNANCE_CHECKPOINT_PUBLIC_KEY",
        "GOVERNANCE_CHECKPOINT_DIR",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GOVERNANCE_HOME", str(tmp_path / "governance_home"))


def _postgres_admin_url() -> str | None:
    return os.environ.get(POSTGRES_ENV) or None


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A brand-new PostgreSQL database for one test (skipped without the env var)."""
    admin_url = _postgres_admin_url()
    if admin_url is None:
        pytest.skip(f"{POSTGRES_ENV} is not set")
    name = f"governance_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The store URL on each supported backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store' / 'governance.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def store(store_url: str, tmp_path: Path) -> Iterator[GovernanceStore]:
    opened = GovernanceStore.open(store_url, tmp_path / "home")
    try:
        yield opened
    finally:
        opened.dispose()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[GovernanceStore]:
    opened = GovernanceStore.open(None, tmp_path / "home")
    try:
        yield opened
    finally:
        opened.dispose()


@pytest.fixture(scope="session")
def demo_config() -> GovernanceConfig:
    return load_config(PACKAGED_DEMO_CONFIG)
