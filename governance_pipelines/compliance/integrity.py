"""Re-verification of everything the store vouches for: `governance audit verify` and the
nightly integrity audit.

Hashes were taken when records were written; an audit recomputes them from what is there
now, in one pass each: the audit chain (and, as it streams, the record bindings its events
carry), every governed row against its binding, every sealed slice of the inference log,
and the bytes of every snapshot file and model artifact (streamed, so memory stays flat).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from governance_pipelines.canonical import file_sha256
from governance_pipelines.reporting import clauses
from governance_pipelines.store import GovernanceStore
from governance_pipelines.store.audit import verify_chain
from governance_pipelines.store.bindings import BindingCollector, BindingProblem, describe
from governance_pipelines.store.inference_log import verify_seals
from governance_pipelines.store.schema import model_snapshots, model_versions


@dataclass(frozen=True)
class IntegrityReport:
    chain_ok: bool
    chain_events: int
    chain_problem: str | None
    snapshots_checked: int
    artifacts_checked: int
    damaged: list[str] = field(default_factory=list)
    records_checked: int = 0
    record_problems: list[BindingProblem] = field(default_factory=list)
    seals_checked: int = 0
    seal_problems: list[str] = field(default_factory=list)
    emptied: str | None = None  # an empty chain over a store that holds records
    head_hash: str = ""

    @property
    def passed(self) -> bool:
        return (
            self.chain_ok
            and not self.damaged
            and not self.record_problems
            and not self.seal_problems
            and self.emptied is None
        )

    @property
    def problems(self) -> list[str]:
        """Every finding, one line each (records capped at twenty plus counts)."""
        lines = [] if self.chain_ok else [f"audit chain broken: {self.chain_problem}"]
        if self.emptied:
            lines.append(self.emptied)
        if self.record_problems:
            lines += describe(self.record_problems).splitlines()
        lines += self.seal_problems
        lines += self.damaged
        return lines

    @property
    def summary(self) -> str:
        chain = (
            f"audit chain intact ({self.chain_events} events)"
            if self.chain_ok
            else f"AUDIT CHAIN BROKEN: {self.chain_problem}"
        )
        checked = (
            f"{self.records_checked} governed records, {self.seals_checked} inference-log "
            f"seals, {self.snapshots_checked} snapshots and {self.artifacts_checked} model "
            "artifacts"
        )
        if self.passed:
            return f"{chain}; {checked} verified"
        found = [p for p in self.problems if not p.startswith("audit chain broken")]
        return f"{chain}; {checked} checked, {len(found)} FAILED: " + clauses(found)


def verify_store(store: GovernanceStore, *, files: bool = True) -> IntegrityReport:
    """Everything at once; `files=False` skips re-hashing snapshot and artifact bytes."""
    collector = BindingCollector()
    with store.reading() as connection:
        chain = verify_chain(connection, on_event=collector.see)
        records_checked, record_problems = collector.check(connection)
        if not chain.ok:
            # Events after the break were not read, so rows they recorded would all look
            # forged: report the break, and only what the verified part contradicts.
            record_problems = [p for p in record_problems if p.kind != "forged"]
        seals_checked, seal_problems = verify_seals(connection)
        # Every model's own file of a snapshot (shared content lives in one file per model).
        snapshots = connection.execute(
            sa.select(
                model_snapshots.c.snapshot_id, model_snapshots.c.model_name, model_snapshots.c.path
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
    emptied = None
    if chain.ok and chain.verified == 0 and records_checked:
        emptied = (
            f"the audit chain is empty but the store holds {records_checked} governed records: "
            "the log was truncated or reset; restore it from a backup and compare with the "
            "latest signed checkpoint"
        )
        record_problems = []  # every row would be listed as forged: one finding says it
    damaged = _damaged_files(snapshots, artifacts) if files else []
    return IntegrityReport(
        chain_ok=chain.ok,
        chain_events=chain.verified,
        chain_problem=chain.problem,
        snapshots_checked=len(snapshots) if files else 0,
        artifacts_checked=len(artifacts) if files else 0,
        damaged=damaged,
        records_checked=records_checked,
        record_problems=record_problems,
        seals_checked=seals_checked,
        seal_problems=seal_problems,
        emptied=emptied,
        head_hash=chain.head_hash,
    )


def _damaged_files(snapshots: list[sa.Row], artifacts: list[sa.Row]) -> list[str]:
    damaged: list[str] = []
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
    return damaged
