"""The opening every release action shares: may this user act on this version, as recorded?

`approve` and `promote` both start here, so the checks that protect a decision — the
permission, the version's existence, its record's binding to the audit chain, and the
re-hashed artifact matching the recorded digest — cannot drift apart between them. Every
refusal is recorded through the `AccessAttempt` (access log and audit chain, in the
caller's transaction) and returned, not raised; `approvals._attempt` commits it, then raises.

No dagster import: the write side that calls this is shared by the CLI, Dagster and tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from governance_pipelines.security.artifact_check import ArtifactTampered, MeasuredArtifact
from governance_pipelines.security.promotion_state import (
    MAX_VERSION,
    _unknown_version,
    _version_row,
)
from governance_pipelines.security.rbac import AccessAttempt, PermissionDenied, authorize
from governance_pipelines.store import UnknownRecordError
from governance_pipelines.store.errors import RecordIntegrityError

if TYPE_CHECKING:
    from governance_pipelines.config import GovernanceConfig


def guarded_version(
    connection: sa.Connection,
    config: GovernanceConfig,
    user: str,
    permission: str,
    model: str,
    version: int,
    resource: str,
    refused: str,
    details: Mapping[str, Any],
    artifact: MeasuredArtifact | None = None,
) -> tuple[AccessAttempt, sa.Row[Any] | Exception]:
    """Every action's opening: `user` needs `permission`, the version must exist, its record
    must be bound to the audit chain and its artifact (when measured) must match the record.

    Returns the guard and the version's row, or the refusal (already recorded) to return.
    """
    # A number past the column's range is recorded in the resource text, not the column.
    recorded = version if 1 <= version <= MAX_VERSION else None
    access = authorize(config, user, permission)
    guard = AccessAttempt(connection, access, resource, model, recorded)
    guard.details.update(details)
    if not guard.access.allowed:
        return guard, guard.deny(None, PermissionDenied(f"{refused}: {guard.access.reason}"))
    try:
        row = _version_row(connection, model, version)
    except RecordIntegrityError as error:
        return guard, guard.deny(str(error), RecordIntegrityError(f"{refused}: {error}"))
    if row is None:
        missing = _unknown_version(connection, model, version)
        return guard, guard.deny(missing, UnknownRecordError(missing))
    if artifact is not None and artifact.sha256 != row.artifact_sha256:
        problem = artifact.mismatch(row.artifact_sha256)
        guard.details["artifact_measured_sha256"] = artifact.sha256
        return guard, guard.deny(problem, ArtifactTampered(f"{refused}: {problem}", row))
    return guard, row
