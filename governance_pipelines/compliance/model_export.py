"""Handing a model version to a team that serves it itself: the verified bytes and their record.

Why: a team with its own serving stack used to find the production artifact through the
audit log and copy it by hand, so nobody could say which bytes were running where. An
export goes through the one door artifacts leave by (`verified_version`: the record's audit
binding and the artifact's sha256 are checked, a tampered file is refused and alerted),
is limited to people who may see the model (`model.view`), and is itself an audit event, so
"who took which bytes, when" has an answer. The copy is hashed again after it is written:
the digest printed is the digest of the file handed out.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from governance_pipelines.compliance.artifacts import ArtifactRefused, verified_version
from governance_pipelines.security.promotion_state import (
    PRODUCTION,
    StageTransition,
    counted_approvals,
    current_stages,
    stage_timeline,
)
from governance_pipelines.security.rbac import AccessAttempt, PermissionDenied, authorize

if TYPE_CHECKING:
    from governance_pipelines.config import GovernanceConfig
    from governance_pipelines.store import GovernanceStore
    from governance_pipelines.store.model_records import ModelVersionRecord

__all__ = ["EXPORTED_ACTION", "EXPORT_PERMISSION", "ExportError", "ExportedModel", "export_model"]

EXPORT_PERMISSION = "model.view"
EXPORTED_ACTION = "model.exported"


class ExportError(ValueError):
    """There is nothing to export as asked (no such version, nothing in the stage)."""


@dataclass(frozen=True)
class ExportedModel:
    model: str
    version: int
    stage: str | None  # the version's stage when exported; None if never promoted
    sha256: str
    artifact_path: Path
    record_path: Path


def export_model(
    store: GovernanceStore,
    config: GovernanceConfig,
    model: str,
    out_dir: str | os.PathLike[str],
    *,
    user: str,
    stage: str | None = None,
    version: int | None = None,
) -> ExportedModel:
    """Write `<model>-v<N>.joblib` and `<model>-v<N>.record.json` into `out_dir`.

    Without `version`, the version now in `stage` (default production); with both, the
    version must be in that stage. A refusal (permission, tampered artifact) is audited.
    """
    access = authorize(config, user, EXPORT_PERMISSION)
    resource = f"{model} export"
    if not access.allowed:
        store.unit_of_work(
            lambda c: AccessAttempt(c, access, resource, model).deny(None, PermissionDenied())
        )
        raise PermissionDenied(f"cannot export {model}: {access.reason}")
    timeline = stage_timeline(store, model)
    stages = current_stages(timeline)
    chosen = _chosen_version(store, model, timeline, stages, stage, version)
    registered = verified_version(store, model, chosen, actor=user, purpose="export")
    data = _artifact_bytes(store, registered, user)
    digest = hashlib.sha256(data).hexdigest()
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    artifact_path = folder / f"{model}-v{chosen}.joblib"
    record_path = folder / f"{model}-v{chosen}.record.json"
    _write_atomically(artifact_path, data)
    written = hashlib.sha256(artifact_path.read_bytes()).hexdigest()
    if written != digest:
        raise ExportError(f"{artifact_path} changed while it was written; export again")
    exported_at = datetime.now(UTC)
    document = _record_document(
        store,
        config,
        registered,
        stages.get(chosen),
        timeline,
        digest,
        len(data),
        user,
        exported_at,
    )
    document["artifact"]["file"] = artifact_path.name
    _write_atomically(
        record_path, json.dumps(document, indent=2, sort_keys=True, default=str).encode()
    )

    def work(connection: sa.Connection) -> None:
        guard = AccessAttempt(connection, access, resource, model, chosen)
        guard.allow()
        guard.event(
            EXPORTED_ACTION,
            chosen,
            stage=stages.get(chosen),
            sha256=digest,
            artifact=str(artifact_path.resolve()),
            record=str(record_path.resolve()),
        )

    store.unit_of_work(work)
    return ExportedModel(model, chosen, stages.get(chosen), digest, artifact_path, record_path)


def _chosen_version(
    store: GovernanceStore,
    model: str,
    timeline: list[StageTransition],
    stages: dict[int, str],
    stage: str | None,
    version: int | None,
) -> int:
    registered = [v.version for v in store.list_model_versions(model)]
    if not registered:
        raise ExportError(
            f"model {model!r} has no registered versions in this store; check the name, --home "
            "and GOVERNANCE_DATABASE_URL"
        )
    if version is not None:
        if version not in registered:
            listed = ", ".join(str(v) for v in registered)
            raise ExportError(f"model {model!r} has no version {version} (registered: {listed})")
        if stage is not None and stages.get(version) != stage:
            now = stages.get(version, "not promoted")
            raise ExportError(f"{model} v{version} is not in {stage} (it is {now})")
        return version
    wanted = stage or PRODUCTION
    # The version that most recently entered the stage and is still there.
    for transition in reversed(timeline):
        if transition.stage == wanted and stages.get(transition.version) == wanted:
            return transition.version
    return _nothing_in_stage(model, wanted, stages)


def _nothing_in_stage(model: str, stage: str, stages: dict[int, str]) -> int:
    where = ", ".join(f"v{v} {s}" for v, s in sorted(stages.items())) or "no version promoted"
    raise ExportError(
        f"no version of {model} is in {stage} ({where}); promote one with `governance "
        f"promote {model} VERSION --stage {stage}`, or pass --version to export a given one"
    )


def _artifact_bytes(store: GovernanceStore, registered: ModelVersionRecord, user: str) -> bytes:
    """The bytes that verified; a file replaced between hashing and reading is refused too."""
    data = Path(registered.artifact_path).read_bytes()
    if hashlib.sha256(data).hexdigest() != registered.artifact_sha256:
        verified_version(
            store, registered.model_name, registered.version, actor=user, purpose="export"
        )  # refuses, audits and alerts (the file differs now)
        raise ArtifactRefused(
            f"cannot export {registered.model_name} v{registered.version}: its artifact "
            "changed while it was read; export again"
        )
    return data


def _record_document(
    store: GovernanceStore,
    config: GovernanceConfig,
    registered: ModelVersionRecord,
    stage: str | None,
    timeline: list[StageTransition],
    digest: str,
    size: int,
    user: str,
    exported_at: datetime,
) -> dict[str, Any]:
    """What a serving team needs beside the bytes: provenance, release decision, inputs."""
    model, version = registered.model_name, registered.version
    promoted = [t for t in timeline if t.version == version]
    declared = next((m for m in config.models if m.name == model), None)
    return {
        "model": model,
        "version": version,
        "stage": stage,
        "artifact": {"sha256": digest, "bytes": size},
        "registered": {
            "by": registered.created_by,
            "at": registered.created_at.isoformat(),
            "snapshot_id": registered.snapshot_id,
            "fingerprint": registered.fingerprint,
        },
        "stage_history": [
            {"stage": t.stage, "by": t.user, "at": t.created_at.isoformat(), "reason": t.reason}
            for t in promoted
        ],
        "approvals": [
            {"by": a.user, "role": a.role, "at": a.created_at.isoformat(), "note": a.note}
            for a in counted_approvals(store, model, version)
        ],
        "inputs": (
            {
                "features": list(declared.data.features),
                "task": declared.training.task,
                "prediction": (
                    "probability of the positive class"
                    if declared.training.task == "classification"
                    else "predicted value"
                ),
            }
            if declared is not None
            else None
        ),
        "exported": {"by": user, "at": exported_at.isoformat()},
        "record": dict(registered.record),
    }


def _write_atomically(path: Path, data: bytes) -> None:
    """Readers of `path` see the old file or the new one, never half of it."""
    temporary = path.with_name(f".{path.name}.partial")
    temporary.write_bytes(data)
    os.replace(temporary, path)
