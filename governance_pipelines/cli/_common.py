"""What every sub-command shares: opening the store and turning errors into clean exits."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from governance_pipelines.store import GovernanceStore

F = TypeVar("F", bound=Callable[..., Any])


def config_option(function: F) -> F:
    """--config, resolved by `config.resolve_config_path` (the same order everywhere)."""
    return click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False),
        help="Governance file [default: GOVERNANCE_CONFIG, ./governance.yaml, else the packaged demo].",
    )(function)


def store_options(function: F) -> F:
    """--database-url / --home, defaulting to the environment contract."""
    function = click.option(
        "--home",
        envvar="GOVERNANCE_HOME",
        type=click.Path(file_okay=False),
        help="Folder of the embedded store and artifacts [env GOVERNANCE_HOME; default ./.governance].",
    )(function)
    return click.option(
        "--database-url",
        envvar="GOVERNANCE_DATABASE_URL",
        help="SQLAlchemy URL of the store [env GOVERNANCE_DATABASE_URL; default SQLite under --home].",
    )(function)


@contextmanager
def open_store(
    database_url: str | None, home: str | None, *, upgrade: bool = True, create: bool = False
) -> Iterator[GovernanceStore]:
    """The store the options name. It must exist unless `create` (`db upgrade`, the demo):
    a mistyped --home must be an error, not a new empty store that answers "nothing"."""
    from governance_pipelines.store import GovernanceStore
    from governance_pipelines.store.engine import StoreConfigurationError
    from governance_pipelines.store.repository import StoreError

    try:
        if create:
            store = GovernanceStore.open(database_url, home, upgrade=upgrade)
        else:
            store = GovernanceStore.open_existing(database_url, home, upgrade=upgrade)
    except (StoreError, StoreConfigurationError) as error:
        raise click.ClickException(str(error)) from None
    try:
        yield store
    finally:
        store.dispose()
