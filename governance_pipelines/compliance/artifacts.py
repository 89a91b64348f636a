"""The one door through which a model artifact leaves the store: verified, or refused.

Reproducing, exporting or serving a version loads bytes that were approved under a digest.
A file replaced after registration (or a version row edited behind the API) must never be
loaded as if it were the approved model: it is refused, the refusal is audited, and the
owners are alerted.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from governance_pipelines.alerting.messages import AlertKind
from governance_pipelines.alerting.outbox import Alert, enqueue
from governance_pipelines.canonical import file_sha256
from governance_pipelines.store import GovernanceStore, UnknownRecordError
from governance_pipelines.store.bindings import verified_row
from governance_pipelines.store.errors import RecordIntegrityError
from governance_pipelines.store.model_records import ModelVersionRecord
from governance_pipelines.store.schema import model_versions


class ArtifactRefused(RecordIntegrityError):
    """The version's record or artifact failed verification; nothing was loaded."""


def verified_version(
    store: GovernanceStore,
    model: str,
    version: int,
    *,
    actor: str,
    purpose: str,
    channel: str | None = None,
) -> ModelVersionRecord:
    """The version's record, once its audit binding and its artifact's sha256 both verify.

    `purpose` ("reproduce", "export", "serve") is recorded with a refusal.
    """
    with store.engine.connect() as connection:
        row = connection.execute(
            sa.select(model_versions).where(
                model_versions.c.model_name == model, model_versions.c.version == version
            )
        ).one_or_none()
        if row is None:
            raise UnknownRecordError(f"model {model!r} has no version {version}")
        binding = verified_row(connection, model_versions, row)
    if binding is not None:
        problem = f"the record of {model} v{version} failed verification: {binding}"
    else:
        actual = file_sha256(row.artifact_path)
        if actual == row.artifact_sha256:
            return store.get_model_version(model, version)
        state = "is missing" if actual is None else f"has sha256 {actual[:12]}…"
        problem = (
            f"the artifact of {model} v{version} ({row.artifact_path}) {state} but "
            f"{row.artifact_sha256[:12]}… was registered and approved: it was replaced after "
            "registration; restore it from a verified copy"
        )
    store.record_event(
        actor=actor,
        action="artifact.refused",
        model_name=model,
        version=version,
        payload={"purpose": purpose, "problem": problem},
    )
    enqueue(
        store,
        Alert(
            model_name=model,
            kind=AlertKind.INTEGRITY,
            severity="ERROR",
            day=datetime.now(UTC).date(),
            breached=f"{purpose} refused: {problem}",
            version=version,
            subject=f"artifact v{version}",
            channel=channel,
        ),
        actor=actor,
    )
    raise ArtifactRefused(f"cannot {purpose} {model} v{version}: {problem}")
