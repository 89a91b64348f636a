"""Re-verification of every stored record that can be verified: the nightly integrity audit.

Hashes were taken when records were written; an audit recomputes them from the bytes that
are there now. Snapshot files and model artifacts are streamed, so memory stays flat.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from governance_pipelines.canonical import file_sha256
from governance_pipelines.store import GovernanceStore
from governance_pipelines.store.schema import data_snapshots, model_versions


@dataclass(frozen=True)
class IntegrityReport:
    chain_ok: bool
    chain_events: int
    chain_problem: str | None
    snapshots_checked: int
    artifacts_checked: int
    damaged: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.chain_ok and not self.damaged

    @property
    def summary(self) -> str:
        chain = (
            f"audit chain intact ({self.chain_events} events)"
            if self.chain_ok
            else f"AUDIT CHAIN BROKEN: {self.chain_problem}"
        )
        files = f"{self.snapshots_checked} snapshots and {self.artifacts_checked} model artifacts"
        if not self.damaged:
            return f"{chain}; {files} verified"
        return f"{chain}; {len(self.damaged)} of {files} FAILED verification: " + "; ".join(
            self.damaged
        )


def verify_store(store: GovernanceStore) -> IntegrityReport:
    chain = store.verify_audit_chain()
    damaged: list[str] = []
    with store.engine.connect() as connection:
        snapshots = connection.execute(
            sa.select(
                data_snapshots.c.snapshot_id, data_snapshots.c.model_name, data_snapshots.c.path
            )
        ).all()
        artifacts = connection.execute(
            sa.select(
                model_versions.c.model_name,
                model_versions.c.version,
                model_versions.c.artifact_sha256,
                model_versions.c.artifact_path,
            )
        ).all()
    for snapshot in snapshots:
        actual = file_sha256(snapshot.path)
        if actual != snapshot.snapshot_id:
            state = "missing" if actual is None else "altered"
            damaged.append(
                f"snapshot {snapshot.snapshot_id[:12]} of {snapshot.model_name} is {state} ({snapshot.path})"
            )
    for artifact in artifacts:
        actual = file_sha256(artifact.artifact_path)
        if actual != artifact.artifact_sha256:
            state = "missing" if actual is None else "altered"
            damaged.append(
                f"artifact of {artifact.model_name} v{artifact.version} is {state} ({artifact.artifact_path})"
            )
    return IntegrityReport(
        chain_ok=chain.ok,
        chain_events=chain.verified,
        chain_problem=chain.problem,
        snapshots_checked=len(snapshots),
        artifacts_checked=len(artifacts),
        damaged=damaged,
    )
