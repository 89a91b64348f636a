"""The governance store's API: every write commits together with its audit event.

Records here are facts about the past (a snapshot was taken, a version registered, a
check evaluated), so the API offers no way to change them: attempts raise
`ImmutableRecordError` and are themselves written to the audit trail.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from governance_pipelines.canonical import canonical_json, canonical_sha256
from governance_pipelines.store import audit, migrate
from governance_pipelines.store.engine import create_store_engine, database_url, governance_home
from governance_pipelines.store.immutability import is_immutability_violation
from governance_pipelines.store.schema import (
    audit_head,
    check_results,
    data_snapshots,
    model_versions,
    models,
)

_LOCK_RETRIES = 5


class StoreError(Exception):
    """The store cannot complete an operation; the message says why and what to do."""


class ImmutableRecordError(StoreError):
    """Someone tried to change or delete a record that is immutable by design."""


class UnknownRecordError(StoreError):
    """A snapshot, model or version that the store has never seen."""


@dataclass(frozen=True)
class SnapshotRecord:
    snapshot_id: str
    model_name: str
    path: str
    row_count: int
    column_count: int
    byte_size: int
    columns: Mapping[str, str]
    source: Mapping[str, Any]
    created_by: str
    created_at: datetime


@dataclass(frozen=True)
class ModelVersionRecord:
    model_name: str
    version: int
    fingerprint: str
    snapshot_id: str
    artifact_sha256: str
    artifact_path: str
    record: Mapping[str, Any]
    created_by: str
    created_at: datetime


@dataclass(frozen=True)
class CheckResultRecord:
    model_name: str
    check_name: str
    passed: bool
    severity: str
    summary: str
    evidence: Mapping[str, Any]
    version: int | None
    snapshot_id: str | None
    created_at: datetime


class GovernanceStore:
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
        return store

    def ensure_schema(self) -> None:
        """Apply pending migrations; cheap when the schema is already at head."""
        try:
            current = migrate.current_revision(self.engine)
        except sa.exc.OperationalError as error:
            raise StoreError(
                f"cannot connect to the governance store at {self.engine.url!r}: "
                f"{_first_line(error)}; check GOVERNANCE_DATABASE_URL and that the database is running"
            ) from None
        if current != migrate.head_revision():
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

    def _write(self, work: Any) -> Any:
        """Run `work(connection)` in a transaction, retrying when the database is briefly locked."""
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
        return self._write(
            lambda c: audit.append_event(
                c,
                actor=actor,
                action=action,
                model_name=model_name,
                version=version,
                payload=payload,
            )
        )

    # --- models -------------------------------------------------------------------------

    def register_model(
        self,
        *,
        name: str,
        team: str,
        owner: str,
        description: str,
        config: Mapping[str, Any],
        actor: str,
    ) -> str:
        """Record a declared model; returns 'registered', 'config_changed' or 'unchanged'."""
        config_sha = canonical_sha256(config)

        def work(connection: sa.Connection) -> str:
            existing = connection.execute(
                sa.select(models).where(models.c.name == name)
            ).one_or_none()
            now = _now()
            if existing is not None and existing.config_sha256 == config_sha:
                return "unchanged"
            values = {
                "team": team,
                "owner": owner,
                "description": description,
                "config_sha256": config_sha,
            }
            if existing is None:
                connection.execute(
                    models.insert().values(name=name, registered_at=now, updated_at=now, **values)
                )
                outcome = "registered"
            else:
                connection.execute(
                    models.update().where(models.c.name == name).values(updated_at=now, **values)
                )
                outcome = "config_changed"
            audit.append_event(
                connection,
                actor=actor,
                action=f"model.{outcome}",
                model_name=name,
                payload={"config_sha256": config_sha, "config": config},
            )
            return outcome

        return self._write(work)

    # --- snapshots ----------------------------------------------------------------------

    def register_snapshot(
        self,
        *,
        snapshot_id: str,
        model_name: str,
        path: str,
        row_count: int,
        column_count: int,
        byte_size: int,
        columns: Mapping[str, str],
        source: Mapping[str, Any],
        actor: str,
    ) -> tuple[SnapshotRecord, bool]:
        """Register a content-addressed snapshot; returns (record, created). Idempotent."""

        def work(connection: sa.Connection) -> tuple[SnapshotRecord, bool]:
            existing = connection.execute(
                sa.select(data_snapshots).where(data_snapshots.c.snapshot_id == snapshot_id)
            ).one_or_none()
            if existing is not None:
                return _snapshot(existing), False
            values = {
                "snapshot_id": snapshot_id,
                "model_name": model_name,
                "path": path,
                "row_count": row_count,
                "column_count": column_count,
                "byte_size": byte_size,
                "columns_json": json.dumps(dict(columns)),
                "source_json": canonical_json(source),
                "created_by": actor,
                "created_at": _now(),
            }
            connection.execute(data_snapshots.insert().values(**values))
            audit.append_event(
                connection,
                actor=actor,
                action="snapshot.registered",
                model_name=model_name,
                payload={
                    "snapshot_id": snapshot_id,
                    "rows": row_count,
                    "columns": column_count,
                    "path": path,
                },
            )
            row = connection.execute(
                sa.select(data_snapshots).where(data_snapshots.c.snapshot_id == snapshot_id)
            ).one()
            return _snapshot(row), True

        return self._write(work)

    def get_snapshot(self, snapshot_id: str) -> SnapshotRecord:
        with self.engine.connect() as connection:
            row = connection.execute(
                sa.select(data_snapshots).where(data_snapshots.c.snapshot_id == snapshot_id)
            ).one_or_none()
        if row is None:
            raise UnknownRecordError(f"no data snapshot {snapshot_id!r} in the store")
        return _snapshot(row)

    def latest_snapshot(self, model_name: str) -> SnapshotRecord:
        with self.engine.connect() as connection:
            row = connection.execute(
                sa.select(data_snapshots)
                .where(data_snapshots.c.model_name == model_name)
                .order_by(data_snapshots.c.created_at.desc())
                .limit(1)
            ).one_or_none()
        if row is None:
            raise UnknownRecordError(
                f"model {model_name!r} has no data snapshot yet; materialize its training_snapshot asset first"
            )
        return _snapshot(row)

    # --- model versions -----------------------------------------------------------------

    def register_model_version(
        self,
        *,
        model_name: str,
        fingerprint: str,
        snapshot_id: str,
        artifact_sha256: str,
        artifact_path: str,
        record: Mapping[str, Any],
        actor: str,
    ) -> tuple[ModelVersionRecord, bool]:
        """Register the next version, or return the existing one with the same fingerprint."""

        def work(connection: sa.Connection) -> tuple[ModelVersionRecord, bool]:
            existing = connection.execute(
                sa.select(model_versions).where(
                    model_versions.c.model_name == model_name,
                    model_versions.c.fingerprint == fingerprint,
                )
            ).one_or_none()
            if existing is not None:
                return _version(existing), False
            latest = connection.execute(
                sa.select(sa.func.max(model_versions.c.version)).where(
                    model_versions.c.model_name == model_name
                )
            ).scalar()
            version = (latest or 0) + 1
            connection.execute(
                model_versions.insert().values(
                    model_name=model_name,
                    version=version,
                    fingerprint=fingerprint,
                    snapshot_id=snapshot_id,
                    artifact_sha256=artifact_sha256,
                    artifact_path=artifact_path,
                    record_json=canonical_json(record),
                    created_by=actor,
                    created_at=_now(),
                )
            )
            audit.append_event(
                connection,
                actor=actor,
                action="model_version.registered",
                model_name=model_name,
                version=version,
                payload={
                    "artifact_sha256": artifact_sha256,
                    "snapshot_id": snapshot_id,
                    "fingerprint": fingerprint,
                },
            )
            row = connection.execute(
                sa.select(model_versions).where(
                    model_versions.c.model_name == model_name, model_versions.c.version == version
                )
            ).one()
            return _version(row), True

        return self._write(work)

    def find_model_version(self, model_name: str, fingerprint: str) -> ModelVersionRecord | None:
        """The version already trained from these exact inputs, if any."""
        with self.engine.connect() as connection:
            row = connection.execute(
                sa.select(model_versions).where(
                    model_versions.c.model_name == model_name,
                    model_versions.c.fingerprint == fingerprint,
                )
            ).one_or_none()
        return None if row is None else _version(row)

    def get_model_version(self, model_name: str, version: int) -> ModelVersionRecord:
        with self.engine.connect() as connection:
            row = connection.execute(
                sa.select(model_versions).where(
                    model_versions.c.model_name == model_name, model_versions.c.version == version
                )
            ).one_or_none()
        if row is None:
            raise UnknownRecordError(f"model {model_name!r} has no version {version}")
        return _version(row)

    def list_model_versions(self, model_name: str) -> list[ModelVersionRecord]:
        with self.engine.connect() as connection:
            rows = connection.execute(
                sa.select(model_versions)
                .where(model_versions.c.model_name == model_name)
                .order_by(model_versions.c.version)
            ).all()
        return [_version(row) for row in rows]

    # --- checks -------------------------------------------------------------------------

    def record_check_result(
        self,
        *,
        model_name: str,
        check_name: str,
        passed: bool,
        severity: str,
        summary: str,
        evidence: Mapping[str, Any],
        actor: str,
        version: int | None = None,
        snapshot_id: str | None = None,
        run_id: str | None = None,
    ) -> CheckResultRecord:
        def work(connection: sa.Connection) -> CheckResultRecord:
            now = _now()
            connection.execute(
                check_results.insert().values(
                    model_name=model_name,
                    version=version,
                    snapshot_id=snapshot_id,
                    check_name=check_name,
                    passed=passed,
                    severity=severity,
                    summary=summary,
                    evidence_json=canonical_json(evidence),
                    run_id=run_id,
                    created_at=now,
                )
            )
            audit.append_event(
                connection,
                actor=actor,
                action="check.evaluated",
                model_name=model_name,
                version=version,
                payload={
                    "check": check_name,
                    "passed": passed,
                    "severity": severity,
                    "summary": summary,
                    "snapshot_id": snapshot_id,
                    "run_id": run_id,
                },
            )
            return CheckResultRecord(
                model_name,
                check_name,
                passed,
                severity,
                summary,
                evidence,
                version,
                snapshot_id,
                now,
            )

        return self._write(work)

    def latest_check_results(
        self, model_name: str, *, version: int | None = None
    ) -> list[CheckResultRecord]:
        """The most recent result of each check for a model (and version, when given)."""
        query = sa.select(check_results).where(check_results.c.model_name == model_name)
        if version is not None:
            query = query.where(check_results.c.version == version)
        with self.engine.connect() as connection:
            rows = connection.execute(query.order_by(check_results.c.id)).all()
        latest: dict[str, CheckResultRecord] = {}
        for row in rows:
            latest[row.check_name] = CheckResultRecord(
                row.model_name,
                row.check_name,
                row.passed,
                row.severity,
                row.summary,
                json.loads(row.evidence_json),
                row.version,
                row.snapshot_id,
                _utc(row.created_at),
            )
        return list(latest.values())

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
            return self._write(work)
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

    # --- audit --------------------------------------------------------------------------

    def verify_audit_chain(self) -> audit.ChainVerification:
        with self.engine.connect() as connection:
            return audit.verify_chain(connection)

    def recent_events(
        self, *, model_name: str | None = None, action: str | None = None, limit: int = 20
    ) -> list[audit.AuditEvent]:
        with self.engine.connect() as connection:
            return audit.recent_events(
                connection, model_name=model_name, action=action, limit=limit
            )


def _now() -> datetime:
    return datetime.now(UTC)


def _utc(value: datetime) -> datetime:
    """SQLite hands timestamps back without their zone; every stored timestamp is UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _first_line(error: BaseException) -> str:
    return str(getattr(error, "orig", error)).strip().splitlines()[0]


def _snapshot(row: sa.Row[Any]) -> SnapshotRecord:
    return SnapshotRecord(
        snapshot_id=row.snapshot_id,
        model_name=row.model_name,
        path=row.path,
        row_count=row.row_count,
        column_count=row.column_count,
        byte_size=row.byte_size,
        columns=json.loads(row.columns_json),
        source=json.loads(row.source_json),
        created_by=row.created_by,
        created_at=_utc(row.created_at),
    )


def _version(row: sa.Row[Any]) -> ModelVersionRecord:
    return ModelVersionRecord(
        model_name=row.model_name,
        version=row.version,
        fingerprint=row.fingerprint,
        snapshot_id=row.snapshot_id,
        artifact_sha256=row.artifact_sha256,
        artifact_path=row.artifact_path,
        record=json.loads(row.record_json),
        created_by=row.created_by,
        created_at=_utc(row.created_at),
    )
