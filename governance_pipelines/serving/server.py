"""Starting the gateway: one app per worker process, configured by the environment.

uvicorn starts each worker by importing `app_factory`, so the settings travel in the
environment contract every other entry point uses (GOVERNANCE_CONFIG, GOVERNANCE_HOME,
GOVERNANCE_DATABASE_URL); `governance serve` sets them from its options.
"""

from __future__ import annotations

import os
from pathlib import Path

from starlette.applications import Starlette

from governance_pipelines.config import load_config, resolve_config_path
from governance_pipelines.serving.app import create_app
from governance_pipelines.serving.gateway_state import GatewayState
from governance_pipelines.store import GovernanceStore

__all__ = ["JOURNAL_FOLDER", "REFRESH_ENV", "app_factory", "open_gateway"]

JOURNAL_FOLDER = Path("gateway") / "journal"
REFRESH_ENV = "GOVERNANCE_GATEWAY_REFRESH_SECONDS"


def open_gateway(
    config_path: str | None = None,
    *,
    home: str | None = None,
    database_url: str | None = None,
    refresh_seconds: float = 2.0,
) -> GatewayState:
    """A started gateway state: journal replayed and opened, endpoints loaded."""
    config = load_config(resolve_config_path(config_path))
    store = GovernanceStore.open_existing(database_url, home)
    state = GatewayState(
        config, store, store.home / JOURNAL_FOLDER, refresh_seconds=refresh_seconds
    )
    return state.start()


def app_factory() -> Starlette:
    refresh = float(os.environ.get(REFRESH_ENV) or 2.0)
    return create_app(open_gateway(refresh_seconds=refresh))
