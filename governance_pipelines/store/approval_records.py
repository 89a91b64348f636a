"""Approvals, stage transitions and the rows a release decision reads: the promotion
workflow's records. The rules (maker–checker, gates, quorum) live in `security/`; this
module only reads and writes the rows, each read filtered to rows whose audit binding
verifies and each write bound to its event, inside the caller's unit of work.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from governance_pipelines.store.access_records import NAME_LIMIT
from governance_pipelines.store.bindings import BindingProblem, insert_bound, verified_row
from governance_pipelines.store.bindings import verified_rows as _verified
from governance_pipelines.store.schema import (
    approvals,
    check_results,
    model_versions,
    stage_transitions,
)


def version_row(connection: sa.Connection, model: str, version: int) -> sa.Row[Any] | None:
    return connection.execute(
        sa.select(model_versions).where(
            model_versions.c.model_name == model, model_versions.c.version == version
        )
    ).one_or_none()


def version_problem(connection: sa.Connection, row: sa.Row[Any]) -> BindingProblem | None:
    """Why a version's row cannot be trusted (None when its audit binding verifies)."""
    return verified_row(connection, model_versions, row)


def registered_versions(connection: sa.Connection, model: str) -> list[int]:
    return list(
        connection.execute(
            sa.select(model_versions.c.version)
            .where(model_versions.c.model_name == model)
            .order_by(model_versions.c.version)
        ).scalars()
    )


def artifact_path(connection: sa.Connection, model: str, version: int) -> str | None:
    return connection.execute(
        sa.select(model_versions.c.artifact_path).where(
            model_versions.c.model_name == model, model_versions.c.version == version
        )
    ).scalar_one_or_none()


def gate_check_rows(
    connection: sa.Connection, model: str, version: int, snapshot_id: str
) -> list[sa.Row[Any]]:
    """Verified check results of a version and of the snapshot it was trained on, in order."""
    own = check_results.c.version == version
    of_snapshot = sa.and_(
        check_results.c.version.is_(None), check_results.c.snapshot_id == snapshot_id
    )
    return _verified_only(
        connection,
        check_results,
        connection.execute(
            sa.select(check_results)
            .where(check_results.c.model_name == model, sa.or_(own, of_snapshot))
            .order_by(check_results.c.id)
        ).all(),
    )


def approval_rows(connection: sa.Connection, model: str, version: int) -> list[sa.Row[Any]]:
    return _verified_only(
        connection,
        approvals,
        connection.execute(
            sa.select(approvals)
            .where(approvals.c.model_name == model, approvals.c.version == version)
            .order_by(approvals.c.id)
        ).all(),
    )


def transition_rows(connection: sa.Connection, model: str) -> list[sa.Row[Any]]:
    return _verified_only(
        connection,
        stage_transitions,
        connection.execute(
            sa.select(stage_transitions)
            .where(stage_transitions.c.model_name == model)
            .order_by(stage_transitions.c.id)
        ).all(),
    )


def insert_approval(
    connection: sa.Connection,
    *,
    user: str,
    action: str,
    values: Mapping[str, Any],
    payload: Mapping[str, Any],
) -> sa.Row[Any]:
    """An approval or rejection, bound to its `approval.*` event."""
    row, _event = insert_bound(
        connection,
        approvals,
        values,
        actor=user[:NAME_LIMIT],
        action=action,
        model_name=values["model_name"],
        version=values["version"],
        payload=payload,
    )
    return row


def insert_transition(
    connection: sa.Connection,
    *,
    user: str,
    action: str,
    model: str,
    version: int,
    stage: str,
    reason: str | None,
    at: datetime,
    payload: Mapping[str, Any],
) -> sa.Row[Any]:
    """A stage transition, bound to its `model_version.*` event."""
    row, _event = insert_bound(
        connection,
        stage_transitions,
        {
            "model_name": model,
            "version": version,
            "stage": stage,
            "user_name": user[:NAME_LIMIT],
            "reason": reason,
            "created_at": at,
        },
        actor=user[:NAME_LIMIT],
        action=action,
        model_name=model,
        version=version,
        payload=payload,
    )
    return row


def _verified_only(
    connection: sa.Connection, table: sa.Table, rows: Sequence[sa.Row[Any]]
) -> list[sa.Row[Any]]:
    """Decisions count only rows whose audit binding verifies (the rest are named by
    `governance audit verify`)."""
    good, _problems = _verified(connection, table, rows)
    return good
