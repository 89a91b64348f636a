"""Models, their data snapshots and model versions: registered once, never changed."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from governance_pipelines.canonical import canonical_json, canonical_sha256
from governance_pipelines.store import audit
from governance_pipelines.store._time import _now, _utc
from governance_pipelines.store.bindings import insert_bound, verified_row
from governance_pipelines.store.errors import UnknownRecordError
from governance_pipelines.store.schema import (
    data_snapshots,
    model_snapshots,
    model_versions,
    models,
)


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


class ModelRecordsMixin:
    """Registration and lookup of models, data snapshots and model versions."""

    # Provided by GovernanceStore (repository.py), which this class is mixed into.
    engine: Engine
    unit_of_work: Callable[[Callable[[sa.Connection], Any]], Any]

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

        return self.unit_of_work(work)

    def model_names(self) -> list[str]:
        """Every model the store has registered, declared in governance.yaml or not."""
        with self.engine.connect() as connection:
            return sorted(connection.execute(sa.select(models.c.name)).scalars())

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
                # Shared content: this model's own taking of it is still its own record.
                _record_use(connection, snapshot_id, model_name, path, source, actor)
                return _own(connection, existing, model_name), False
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
            row, _event = insert_bound(
                connection,
                data_snapshots,
                values,
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
            _record_use(connection, snapshot_id, model_name, path, source, actor)
            return _own(connection, row, model_name), True

        return self.unit_of_work(work)

    def get_snapshot(self, snapshot_id: str, model_name: str | None = None) -> SnapshotRecord:
        """The snapshot; with `model_name`, as that model took it (its file, its source)."""
        with self.engine.connect() as connection:
            row = connection.execute(
                sa.select(data_snapshots).where(data_snapshots.c.snapshot_id == snapshot_id)
            ).one_or_none()
            if row is None:
                raise UnknownRecordError(f"no data snapshot {snapshot_id!r} in the store")
            return _snapshot(row) if model_name is None else _own(connection, row, model_name)

    def latest_snapshot(self, model_name: str) -> SnapshotRecord:
        """The snapshot the model took last (shared content included)."""
        with self.engine.connect() as connection:
            row = connection.execute(
                sa.select(data_snapshots)
                .join(
                    model_snapshots, model_snapshots.c.snapshot_id == data_snapshots.c.snapshot_id
                )
                .where(model_snapshots.c.model_name == model_name)
                .order_by(model_snapshots.c.id.desc())
                .limit(1)
            ).one_or_none()
            if row is None:
                raise UnknownRecordError(
                    f"model {model_name!r} has no data snapshot yet; materialize its "
                    "training_snapshot asset first"
                )
            return _own(connection, row, model_name)

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
            row, _event = insert_bound(
                connection,
                model_versions,
                {
                    "model_name": model_name,
                    "version": version,
                    "fingerprint": fingerprint,
                    "snapshot_id": snapshot_id,
                    "artifact_sha256": artifact_sha256,
                    "artifact_path": artifact_path,
                    "record_json": canonical_json(record),
                    "created_by": actor,
                    "created_at": _now(),
                },
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
            return _version(row), True

        return self.unit_of_work(work)

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
            return _version(_version_row(connection, model_name, version))

    def model_version_problem(self, model_name: str, version: int) -> str | None:
        """Why a version's record cannot be trusted (its audit binding fails), or None."""
        with self.engine.connect() as connection:
            row = _version_row(connection, model_name, version)
            problem = verified_row(connection, model_versions, row)
        return None if problem is None else str(problem)

    def list_model_versions(self, model_name: str) -> list[ModelVersionRecord]:
        with self.engine.connect() as connection:
            rows = connection.execute(
                sa.select(model_versions)
                .where(model_versions.c.model_name == model_name)
                .order_by(model_versions.c.version)
            ).all()
        return [_version(row) for row in rows]


def _record_use(
    connection: sa.Connection,
    snapshot_id: str,
    model_name: str,
    path: str,
    source: Mapping[str, Any],
    actor: str,
) -> None:
    """Record (once) that `model_name` took this snapshot, from its own source and file."""
    taken = connection.execute(
        sa.select(model_snapshots.c.id).where(
            model_snapshots.c.model_name == model_name,
            model_snapshots.c.snapshot_id == snapshot_id,
        )
    ).first()
    if taken is not None:
        return
    insert_bound(
        connection,
        model_snapshots,
        {
            "model_name": model_name,
            "snapshot_id": snapshot_id,
            "path": path,
            "source_json": canonical_json(source),
            "created_by": actor,
            "created_at": _now(),
        },
        actor=actor,
        action="snapshot.taken",
        model_name=model_name,
        payload={"snapshot_id": snapshot_id, "path": path},
    )


def _own(connection: sa.Connection, content: sa.Row[Any], model_name: str) -> SnapshotRecord:
    """The shared content row as `model_name` took it (falls back to the content row)."""
    use = connection.execute(
        sa.select(model_snapshots).where(
            model_snapshots.c.model_name == model_name,
            model_snapshots.c.snapshot_id == content.snapshot_id,
        )
    ).one_or_none()
    shared = _snapshot(content)
    if use is None:
        return shared
    return replace(
        shared,
        model_name=use.model_name,
        path=use.path,
        source=json.loads(use.source_json),
        created_by=use.created_by,
        created_at=_utc(use.created_at),
    )


def _version_row(connection: sa.Connection, model_name: str, version: int) -> sa.Row[Any]:
    if not 1 <= version <= 2**31 - 1:  # past the column's range: no such version, not a crash
        raise UnknownRecordError(f"model {model_name!r} has no version {version}")
    row = connection.execute(
        sa.select(model_versions).where(
            model_versions.c.model_name == model_name, model_versions.c.version == version
        )
    ).one_or_none()
    if row is None:
        raise UnknownRecordError(f"model {model_name!r} has no version {version}")
    return row


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
