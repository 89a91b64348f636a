"""Dagster resources: the thin handles through which assets reach the governance store."""

from __future__ import annotations

import dagster as dg
from pydantic import PrivateAttr

from governance_pipelines.store import GovernanceStore


class GovernanceStoreResource(dg.ConfigurableResource):
    """The governance store; defaults follow GOVERNANCE_DATABASE_URL and GOVERNANCE_HOME.

    The values are resolved when a run starts, not when the code location loads, so a
    changed environment never needs a code reload and nothing is read at import time.
    """

    database_url: str | None = None
    home: str | None = None

    _store: GovernanceStore | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._store = GovernanceStore.open(self.database_url, self.home)

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._store is not None:
            self._store.dispose()
            self._store = None

    @property
    def store(self) -> GovernanceStore:
        if self._store is None:  # used outside a run, e.g. in a sensor
            self._store = GovernanceStore.open(self.database_url, self.home)
        return self._store
