"""Decisions verify the bytes they decide on: a version's artifact is re-hashed before an
approval or a promotion, and a file that no longer matches its record is refused, audited
(by the refusal itself) and alerted to the model's owners.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from governance_pipelines.alerting.messages import AlertKind
from governance_pipelines.alerting.outbox import Alert, enqueue
from governance_pipelines.canonical import file_sha256
from governance_pipelines.security.promotion_state import MAX_VERSION
from governance_pipelines.store import GovernanceStore, approval_records
from governance_pipelines.store.errors import RecordIntegrityError

if TYPE_CHECKING:
    from governance_pipelines.config import GovernanceConfig


@dataclass(frozen=True)
class MeasuredArtifact:
    """A version's artifact file as it is on disk now, hashed before the decision."""

    path: str
    sha256: str | None  # None: the file is missing

    def mismatch(self, recorded: str) -> str:
        state = (
            "is missing"
            if self.sha256 is None
            else f"has sha256 {self.sha256[:12]}… but {recorded[:12]}… was recorded and approved"
        )
        return (
            f"the artifact file {self.path} {state}: it was replaced or removed after "
            "registration; restore it from a verified copy (or retrain) — nothing is promoted "
            "or loaded from a file that differs from its record"
        )


class ArtifactTampered(RecordIntegrityError):
    """A version's artifact differs from the digest its record and approvals are bound to."""

    def __init__(self, message: str, row: sa.Row[Any]) -> None:
        super().__init__(message)
        self.model_name: str = row.model_name
        self.version: int = row.version
        self.artifact_path: str = row.artifact_path


def measure_artifact(store: GovernanceStore, model: str, version: int) -> MeasuredArtifact | None:
    """Re-hash a version's artifact (streamed) outside any transaction; None if unknown."""
    if not 1 <= version <= MAX_VERSION:
        return None
    with store.engine.connect() as connection:
        path = approval_records.artifact_path(connection, model, version)
    if path is None:
        return None
    return MeasuredArtifact(path, file_sha256(path))


def alert_tampered_artifact(
    store: GovernanceStore, config: GovernanceConfig, error: ArtifactTampered
) -> None:
    declared = next((m for m in config.models if m.name == error.model_name), None)
    enqueue(
        store,
        Alert(
            model_name=error.model_name,
            kind=AlertKind.INTEGRITY,
            severity="ERROR",
            day=datetime.now(UTC).date(),
            breached=str(error),
            version=error.version,
            subject=f"artifact v{error.version}",
            channel=config.channel_for(declared) if declared is not None else None,
        ),
        actor="governance",
    )
