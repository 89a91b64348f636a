"""The governance store's API: every write commits together with its audit event.

Records here are facts about the past (a snapshot was taken, a version registered, a
check evaluated), so the API offers no way to change them: attempts raise
`ImmutableRecordError` and are themselves written to the audit trail.

`GovernanceStore` holds the machinery (opening, migrations, serialised writes, audit
events, immutability refusals); the record families live in mixins named after what they
hold: `model_records`, `check_records`, `usage_records`, `cost_records`, `log_appends` and
`endpoint_records`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from governance_pipelines.store import alert_records, audit, migrate
from governance_pipelines.store.check_records import CheckRecordsMixin, CheckResultRecord
from governance_pipelines.store.cost_records import CostRecordsMixin
from governance_pipelines.store.endpoint_records import EndpointRecordsMixin
from governance_pipelines.store.engine import (
    READ_ONLY,
    create_store_engine,
    database_url,
    display_url,
    governance_home,
    parse_store_url,
)
from governance_pipelines.store.errors import (
    ImmutableRecordError,
    StoreError,
    UnknownRecordError,
)
from governance_pipelines.store.immutability import is_immutability_violation
from governance_pipelines.store.inference_log import Seal, seal_day
from governance_pipelines.store.log_appends import LogAppendsMixin
from governance_pipelines.store.model_records import (
    ModelRecordsMixin,
    ModelVersionRecord,
    SnapshotRecord,
)
from governance_pipelines.store.schema import audit_head, check_results, models, usage_records
from governance_pipelines.store.usage_records import UsageRecordsMixin

__all__ = [
    "CheckResultRecord",
    "GovernanceStore",
    "ImmutableRecordError",
    "ModelVersionRecord",
    "SnapshotRecord",
    "StoreError",
    "UnknownRecordError",
]

_LOCK_RETRIES = 5
T = TypeVar("T")


class GovernanceStore(
    ModelRecordsMixin,
    CheckRecordsMixin,
    UsageRecordsMixin,
    CostRecordsMixin,
    LogAppendsMixin,
    EndpointRecordsMixin,
):
    """Opens (and on first use migrates) the store; the home folder holds its artifacts."""

    def __init__(self, engine: Engine, home: Path) -> None:
        self.engine = engine
        self.home = home

    @classmethod
    def open(
        cls,
        url: str | None = None,
        home: str | os.PathLike[str] | None = None,
        *,
        upgrade: bool = True,
    ) -> GovernanceStore:
        home_path = governance_home(home)
        engine = create_store_engine(database_url(url, home_path))
        store = cls(engine, home_path)
        if upgrade:
            store.ensure_schema()
        else:
            store.current_revision()  # connects: an unreachable server is named here
        return store

    def current_revision(self) -> str | None:
        """The schema revision of the database (None: no governance store there yet).

        A SQLite file that another process is creating or migrating can refuse a new
        connection outright (switching it to WAL needs a lock SQLite will not wait for), so
        a "locked" answer is retried like a locked write; anything else is reported at once.
        """
        for attempt in range(_LOCK_RETRIES):
            try:
                return migrate.current_revision(self.engine)
            except sa.exc.OperationalError as error:
                if "locked" in str(error) and attempt < _LOCK_RETRIES - 1:
                    time.sleep(0.2 * (attempt + 1))
                    continue
                raise StoreError(
                    f"cannot connect to the governance store at {display_url(self.engine.url)!r}: "
                    f"{_first_line(error)}; check GOVERNANCE_DATABASE_URL and that the database "
                    "is running"
                ) from None
        raise AssertionError("unreachable")

    @classmethod
    def open_existing(
        cls,
        url: str | None = None,
        home: str | os.PathLike[str] | None = None,
        *,
        upgrade: bool = True,
    ) -> GovernanceStore:
        """Open a store that must already exist, for commands that verify or read.

        Creating an empty store there would make `audit verify` answer "OK: 0 events" about a
        mistyped path or an emptied database: an answer about nothing, read as a pass.
        """
        home_path = governance_home(home)
        chosen = database_url(url, home_path)
        parsed = parse_store_url(chosen)  # a malformed URL is named (masked) here
        if parsed.get_backend_name() == "sqlite":
            database = parsed.database or ""
            if database in ("", ":memory:") or not Path(database).is_file():
                raise StoreError(
                    f"there is no governance store at {database or ':memory:'}; check --home / "
                    "GOVERNANCE_HOME (or --database-url / GOVERNANCE_DATABASE_URL), or run "
                    "`governance db upgrade` to create one"
                )
        store = cls(create_store_engine(chosen), home_path)
        try:
            current = store.current_revision()
        except StoreError:
            store.dispose()
            raise
        if current is None:
            store.dispose()
            raise StoreError(
                f"the database at {display_url(store.engine.url)!r} holds no governance store (no schema "
                "version): wrong database, or its tables were dropped; run `governance db "
                "upgrade` only if it is meant to be a new, empty store"
            )
        if upgrade and current != migrate.head_revision():
            store.ensure_schema()
        return store

    def ensure_schema(self) -> None:
        """Apply pending migrations; cheap when the schema is already at head."""
        if self.current_revision() != migrate.head_revision():
            migrate.upgrade(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()

    # --- transactions -------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[sa.Connection]:
        """A write transaction, serialised with every other writer of the store.

        SQLite serialises through BEGIN IMMEDIATE (see engine.py); PostgreSQL by locking the
        audit head row first, so that version numbering and the audit chain never race.
        """
        with self.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(
                    sa.select(audit_head.c.seq).where(audit_head.c.id == 1).with_for_update()
                )
            yield connection

    @contextmanager
    def reading(self) -> Iterator[sa.Connection]:
        """A connection for long reads (verification, reports): one consistent snapshot that
        never blocks writers. Writes on it are a programming error."""
        options: dict[str, Any] = {READ_ONLY: True}
        if self.engine.dialect.name == "postgresql":
            # Read committed would let a concurrent append show up between the log and its
            # head, which verification would report as removed events.
            options.update(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        with self.engine.connect().execution_options(**options) as connection:
            yield connection

    def unit_of_work(self, work: Callable[[sa.Connection], T]) -> T:
        """Run `work(connection)` as one transaction: its records and their audit events
        commit together, or none of them does. Retried when the database is briefly locked,
        so `work` must only touch the database (no side effects outside it).

        `work` is given to the record families (`store.access_records`, `approval_records`,
        `alert_records`, …): the only code that touches the tables and the chain.
        """
        for attempt in range(_LOCK_RETRIES):
            try:
                with self.transaction() as connection:
                    return work(connection)
            except sa.exc.OperationalError as error:
                if "locked" not in str(error) or attempt == _LOCK_RETRIES - 1:
                    raise StoreError(
                        f"the governance store did not accept the write: {_first_line(error)}"
                    ) from error
                time.sleep(0.2 * (attempt + 1))
        raise AssertionError("unreachable")

    def record_event(
        self,
        *,
        actor: str,
        action: str,
        model_name: str | None = None,
        version: int | None = None,
        payload: Mapping[str, Any] | None = None,
    ) -> audit.AuditEvent:
        return self.unit_of_work(
            lambda c: audit.append_event(
                c,
                actor=actor,
                action=action,
                model_name=model_name,
                version=version,
                payload=payload,
            )
        )

    # --- immutability -------------------------------------------------------------------

    def delete_snapshot(self, snapshot_id: str, *, actor: str) -> None:
        self._refuse(actor, "delete", "data snapshot", snapshot_id, model_name=None)

    def delete_model_version(self, model_name: str, version: int, *, actor: str) -> None:
        self._refuse(
            actor, "delete", "model version", f"{model_name} v{version}", model_name, version
        )

    def update_model_version(
        self, model_name: str, version: int, *, actor: str, **_changes: Any
    ) -> None:
        self._refuse(
            actor, "update", "model version", f"{model_name} v{version}", model_name, version
        )

    def _refuse(
        self,
        actor: str,
        operation: str,
        kind: str,
        key: str,
        model_name: str | None,
        version: int | None = None,
    ) -> None:
        self.record_event(
            actor=actor,
            action="record.change_denied",
            model_name=model_name,
            version=version,
            payload={"operation": operation, "record": kind, "key": key},
        )
        raise ImmutableRecordError(
            f"{kind} {key} is immutable and cannot be {operation}d; "
            + (
                "register a new version instead (roll back by promoting an earlier one)"
                if kind == "model version"
                else "take a new snapshot instead"
            )
            + ". The attempt was recorded in the audit log."
        )

    def run_guarded(self, work: Any, *, actor: str, description: str) -> Any:
        """Run raw SQL work; a write the database refuses as immutable is audited and re-raised."""
        try:
            return self.unit_of_work(work)
        except (sa.exc.DBAPIError, StoreError) as error:
            if not is_immutability_violation(error):
                raise
            self.record_event(
                actor=actor, action="record.change_denied", payload={"operation": description}
            )
            raise ImmutableRecordError(
                f"the store refused to {description}: those rows are append-only. "
                "The attempt was recorded in the audit log."
            ) from None

    # --- inference log seals -------------------------------------------------------------

    def seal_inference_day(self, model_name: str, day: date, *, actor: str) -> Seal | None:
        """Seal a model-day's newly arrived requests and labels into the audit chain."""
        return self.unit_of_work(lambda c: seal_day(c, model_name, day.isoformat(), actor=actor))

    # --- figures for metrics -------------------------------------------------------------

    def known_model_names(self) -> list[str]:
        """Every model the store knows: registered, with check results, or with usage."""
        query = sa.union(
            sa.select(models.c.name.label("name")),
            sa.select(check_results.c.model_name.label("name")).distinct(),
            sa.select(usage_records.c.model_name.label("name")).distinct(),
        )
        with self.engine.connect() as connection:
            return sorted({row.name for row in connection.execute(query)})

    def alert_status_counts(self) -> dict[str, int]:
        """Outbox rows per delivery status."""
        with self.engine.connect() as connection:
            return alert_records.count_by_status(connection)

    def audit_event_count(self) -> int:
        with self.engine.connect() as connection:
            return audit.last_seq(connection)

    # --- audit --------------------------------------------------------------------------

    def verify_audit_chain(self) -> audit.ChainVerification:
        with self.reading() as connection:
            return audit.verify_chain(connection)

    def events_after(
        self, after: int, actions: Iterable[str], *, limit: int = 500
    ) -> list[audit.AuditEvent]:
        with self.engine.connect() as connection:
            return audit.events_after(connection, after, actions, limit=limit)

    def recent_events(
        self, *, model_name: str | None = None, action: str | None = None, limit: int = 20
    ) -> list[audit.AuditEvent]:
        with self.engine.connect() as connection:
            return audit.recent_events(
                connection, model_name=model_name, action=action, limit=limit
            )


def _first_line(error: BaseException) -> str:
    return str(getattr(error, "orig", error)).strip().splitlines()[0]
