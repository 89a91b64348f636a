"""Starting the gateway: one app per worker process, configured by the environment.

uvicorn starts each worker by importing `app_factory`, so the settings travel in the
environment contract every other entry point uses (GOVERNANCE_CONFIG, GOVERNANCE_HOME,
GOVERNANCE_DATABASE_URL); `governance serve` sets them from its options.
"""

from __future__ import annotations

import gc
import os
import sys
from pathlib import Path

from starlette.applications import Starlette
from threadpoolctl import threadpool_limits

from governance_pipelines.config import load_config, resolve_config_path
from governance_pipelines.serving.app import create_app
from governance_pipelines.serving.gateway_state import GatewayState
from governance_pipelines.store import GovernanceStore

__all__ = ["JOURNAL_FOLDER", "MODEL_THREADS_ENV", "REFRESH_ENV", "app_factory", "open_gateway"]

JOURNAL_FOLDER = Path("gateway") / "journal"
REFRESH_ENV = "GOVERNANCE_GATEWAY_REFRESH_SECONDS"
MODEL_THREADS_ENV = "GOVERNANCE_GATEWAY_MODEL_THREADS"
GIL_SWITCH_SECONDS = 0.0005


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
    state = open_gateway(refresh_seconds=refresh)
    # After the models are loaded, so that their thread pools (OpenMP, BLAS) are there to
    # be limited. One-row predictions gain nothing from a pool: scikit-learn's
    # HistGradientBoosting spends twice the CPU with one thread per core on two cores.
    threadpool_limits(limits=int(os.environ.get(MODEL_THREADS_ENV) or 1))
    # The journal's flusher thread must not hold requests up: with Python's default 5 ms
    # switch interval, a flush of a few dozen rows delays the event loop by up to 5 ms.
    sys.setswitchinterval(GIL_SWITCH_SECONDS)
    # Everything loaded so far (the package, scikit-learn, the models) lives as long as the
    # worker: leave it out of garbage collection, whose full passes over it stall requests.
    gc.freeze()
    return create_app(state)
