"""Everything the store's own records can prove about themselves, in one consistent read.

The audit chain (and, as it streams, the record bindings its events carry), every governed
row against its binding, every sealed slice of the inference log
and every booked batch of the cost ledger; plus where the files the
records vouch for are, so that `compliance/` can re-hash them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from governance_pipelines.store.audit import ChainVerification, verify_chain
from governance_pipelines.store.bindings import BindingCollector, BindingProblem
from governance_pipelines.store.cost_records import verify_cost_batches
from governance_pipelines.store.inference_log import verify_seals
from governance_pipelines.store.schema import model_snapshots, model_versions


@dataclass(frozen=True)
class RecordedFile:
    """A file a record vouches for: `what` names it in a finding."""

    what: str
    path: str
    sha256: str


@dataclass(frozen=True)
class RecordsVerification:
    chain: ChainVerification
    records_checked: int
    record_problems: list[BindingProblem] = field(default_factory=list)
    seals_checked: int = 0
    seal_problems: list[str] = field(default_factory=list)
    bookings_checked: int = 0
    booking_problems: list[str] = field(default_factory=list)
    snapshot_files: list[RecordedFile] = field(default_factory=list)
    artifact_files: list[RecordedFile] = field(default_factory=list)


def verify_records(connection: sa.Connection) -> RecordsVerification:
    collector = BindingCollector()
    chain = verify_chain(connection, on_event=collector.see)
    records_checked, record_problems = collector.check(connection)
    if not chain.ok:
        # Events after the break were not read, so rows they recorded would all look
        # forged: report the break, and only what the verified part contradicts.
        record_problems = [p for p in record_problems if p.kind != "forged"]
    seals_checked, seal_problems = verify_seals(connection)
    bookings_checked, booking_problems = verify_cost_batches(connection)
    snapshots = [
        RecordedFile(f"snapshot {r.snapshot_id[:12]} of {r.model_name}", r.path, r.snapshot_id)
        for r in connection.execute(
            sa.select(
                model_snapshots.c.snapshot_id, model_snapshots.c.model_name, model_snapshots.c.path
            )
        )
    ]
    artifacts = [
        RecordedFile(f"artifact of {r.model_name} v{r.version}", r.artifact_path, r.artifact_sha256)
        for r in connection.execute(
            sa.select(
                model_versions.c.model_name,
                model_versions.c.version,
                model_versions.c.artifact_sha256,
                model_versions.c.artifact_path,
            )
        )
    ]
    return RecordsVerification(
        chain=chain,
        records_checked=records_checked,
        record_problems=record_problems,
        seals_checked=seals_checked,
        seal_problems=seal_problems,
        bookings_checked=bookings_checked,
        booking_problems=booking_problems,
        snapshot_files=snapshots,
        artifact_files=artifacts,
    )
