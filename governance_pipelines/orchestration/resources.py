"""Dagster resources: the thin handles through which assets reach the governance store."""

from __future__ import annotations

import dagster as dg
from pydantic import PrivateAttr

from governance_pipelines.store import GovernanceStore
from governance_pipelines.store.engine import DATABASE_URL_ENV


class GovernanceStoreResource(dg.ConfigurableResource):
    """The governance store; defaults follow GOVERNANCE_DATABASE_URL and GOVERNANCE_HOME.

    The values are resolved when a run starts, not when the code location loads, so a
    changed environment never needs a code reload and nothing is read at import time.
    Never pass a URL that carries a password as a plain string: Dagster keeps configured
    values as config defaults in every job snapshot (its run storage) and shows them in the
    launchpad. Leave ``database_url`` unset, or bind it by name (:meth:`bound_to_environment`).
    """

    database_url: str | None = None
    home: str | None = None

    _store: GovernanceStore | None = PrivateAttr(default=None)

    @classmethod
    def bound_to_environment(cls, home: str | None = None) -> GovernanceStoreResource:
        """The store named by GOVERNANCE_DATABASE_URL, bound as a ``dg.EnvVar``.

        Dagster records only the variable's name; the URL, password included, is read when a
        run starts, so the variable must be set then.
        """
        return cls(database_url=dg.EnvVar(DATABASE_URL_ENV), home=home)

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
