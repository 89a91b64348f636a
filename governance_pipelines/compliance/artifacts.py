"""The one door through which a model artifact leaves the store: verified, or refused.

Reproducing, exporting or serving a version loads bytes that were approved under a digest.
A file replaced after registration (or a version row edited behind the API) must never be
loaded as if it were the approved model: it is refused, the refusal is audited, and the
owners are alerted.
"""

from __future__ import annotations

from datetime import UTC, datetime

from governance_pipelines.alerting.messages import AlertKind
from governance_pipelines.alerting.outbox import Alert, enqueue
from governance_pipelines.canonical import file_sha256
from governance_pipelines.store import GovernanceStore
from governance_pipelines.store.errors import RecordIntegrityError
from governance_pipelines.store.model_records import ModelVersionRecord


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
    binding = store.model_version_problem(model, version)  # unknown version: raises
    registered = store.get_model_version(model, version)
    if binding is not None:
        problem = f"the record of {model} v{version} failed verification: {binding}"
    else:
        actual = file_sha256(registered.artifact_path)
        if actual == registered.artifact_sha256:
            return registered
        state = "is missing" if actual is None else f"has sha256 {actual[:12]}…"
        problem = (
            f"the artifact of {model} v{version} ({registered.artifact_path}) {state} but "
            f"{registered.artifact_sha256[:12]}… was registered and approved: it was replaced "
            "after registration; restore it from a verified copy"
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
