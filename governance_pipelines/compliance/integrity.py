"""Re-verification of everything the store vouches for: `governance audit verify` and the
nightly integrity audit.

Hashes were taken when records were written; an audit recomputes them from what is there
now, in one pass each: the audit chain (and, as it streams, the record bindings its events
carry), every governed row against its binding, every sealed slice of the inference log,
and the bytes of every snapshot file and model artifact (streamed, so memory stays flat).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from governance_pipelines.canonical import file_sha256
from governance_pipelines.reporting import clauses
from governance_pipelines.store import GovernanceStore
from governance_pipelines.store.bindings import BindingProblem, describe
from governance_pipelines.store.verification import RecordedFile, verify_records


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
    bookings_checked: int = 0
    booking_problems: list[str] = field(default_factory=list)
    emptied: str | None = None  # an empty chain over a store that holds records
    head_hash: str = ""

    @property
    def passed(self) -> bool:
        return (
            self.chain_ok
            and not self.damaged
            and not self.record_problems
            and not self.seal_problems
            and not self.booking_problems
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
        lines += self.booking_problems
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
            f"seals, {self.bookings_checked} cost bookings, {self.snapshots_checked} snapshots "
            f"and {self.artifacts_checked} model artifacts"
        )
        if self.passed:
            return f"{chain}; {checked} verified"
        found = [p for p in self.problems if not p.startswith("audit chain broken")]
        return f"{chain}; {checked} checked, {len(found)} FAILED: " + clauses(found)


def verify_store(store: GovernanceStore, *, files: bool = True) -> IntegrityReport:
    """Everything at once; `files=False` skips re-hashing snapshot and artifact bytes."""
    with store.reading() as connection:
        found = verify_records(connection)
    chain = found.chain
    record_problems = found.record_problems
    emptied = None
    if chain.ok and chain.verified == 0 and found.records_checked:
        emptied = (
            f"the audit chain is empty but the store holds {found.records_checked} governed "
            "records: the log was truncated or reset; restore it from a backup and compare "
            "with the latest signed checkpoint"
        )
        record_problems = []  # every row would be listed as forged: one finding says it
    recorded = [*found.snapshot_files, *found.artifact_files]
    damaged = _damaged_files(recorded) if files else []
    return IntegrityReport(
        chain_ok=chain.ok,
        chain_events=chain.verified,
        chain_problem=chain.problem,
        snapshots_checked=len(found.snapshot_files) if files else 0,
        artifacts_checked=len(found.artifact_files) if files else 0,
        damaged=damaged,
        records_checked=found.records_checked,
        record_problems=record_problems,
        seals_checked=found.seals_checked,
        seal_problems=found.seal_problems,
        bookings_checked=found.bookings_checked,
        booking_problems=found.booking_problems,
        emptied=emptied,
        head_hash=chain.head_hash,
    )


def _damaged_files(recorded: list[RecordedFile]) -> list[str]:
    """Re-hash every file a record vouches for (streamed: memory stays flat)."""
    damaged: list[str] = []
    for file in recorded:
        actual = file_sha256(file.path)
        if actual != file.sha256:
            state = "missing" if actual is None else "altered"
            damaged.append(f"{file.what} is {state} ({file.path})")
    return damaged
