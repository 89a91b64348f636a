"""Writing signed checkpoints of the audit chain, and the nightly anchoring of it.

Nothing is signed over a chain that is broken, that contradicts a checkpoint already at
the location, or (nightly) over a store that failed verification: a signature must never
vouch for tampered history. See `checkpoints.py` for what a checkpoint is and how it is
verified.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from governance_pipelines.canonical import canonical_json
from governance_pipelines.compliance.checkpoint_files import (
    DIR_ENV,
    _filesystem,
    _write_new_file,
    checkpoint_file_name,
    checkpoint_location,
)
from governance_pipelines.compliance.checkpoints import (
    CHECKPOINT_WRITTEN,
    FORMAT,
    Checkpoint,
    _hashes_at,
    verify_checkpoints,
)
from governance_pipelines.compliance.signing_keys import (
    KEY_FILE_ENV,
    CheckpointError,
    key_fingerprint,
    load_signing_key,
    signing_configured,
)

if TYPE_CHECKING:
    from governance_pipelines.store import GovernanceStore


def write_checkpoint(
    store: GovernanceStore,
    *,
    actor: str,
    location: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Checkpoint:
    """Sign the chain's current head and write it outside the store.

    Refuses when the chain is broken, or when it contradicts a checkpoint already at the
    location: a signature must never vouch for a chain that was tampered with. The write is
    itself an audit event (`audit.checkpoint_written`), so the next checkpoint covers it and a
    checkpoint that later goes missing from the location is noticed.
    """
    environ = os.environ if environ is None else environ
    key = load_signing_key(environ)
    where = checkpoint_location(store, location, environ)
    fs, root, shown = _filesystem(where)
    chain = store.verify_audit_chain()
    if not chain.ok:
        raise CheckpointError(
            f"refusing to sign a broken audit chain: {chain.problem}; run `governance audit verify`"
        )
    if chain.verified == 0:
        raise CheckpointError("the audit log is empty: there is nothing to checkpoint yet")
    earlier = verify_checkpoints(store, location=where, environ=environ)
    if not earlier.ok:
        raise CheckpointError(f"refusing to sign: {earlier.problem}")
    with store.engine.connect() as connection:
        store_id = _hashes_at(connection, [1]).get(1)
    if store_id is None:  # pragma: no cover - the chain just verified with ≥ 1 event
        raise CheckpointError("the audit log has no event #1: run `governance audit verify`")
    public = key.public_key()
    created_at = datetime.now(UTC).isoformat(timespec="seconds")
    body = {
        "format": FORMAT,
        "store_id": store_id,
        "seq": chain.verified,
        "head_hash": chain.head_hash,
        "events": chain.verified,
        "created_at": created_at,
    }
    signature = key.sign(canonical_json(body).encode("utf-8"))
    checkpoint = Checkpoint(
        store_id=store_id,
        seq=chain.verified,
        head_hash=chain.head_hash,
        events=chain.verified,
        created_at=created_at,
        signature=base64.b64encode(signature).decode("ascii"),
        key_fingerprint=key_fingerprint(public),
        location=shown,
        file_name=checkpoint_file_name(chain.verified),
    )
    try:
        _write_new_file(
            fs, root, checkpoint.file_name, canonical_json(checkpoint.to_dict()).encode("utf-8")
        )
    except FileExistsError:
        raise CheckpointError(
            f"checkpoint {checkpoint.file} already exists: event #{checkpoint.seq} was already "
            "signed there; checkpoints are never overwritten"
        ) from None
    except OSError as error:
        raise CheckpointError(
            f"cannot write checkpoint {checkpoint.file}: {error}; check {DIR_ENV} (or --to) and "
            "that this process may create files there"
        ) from None
    store.record_event(
        actor=actor,
        action=CHECKPOINT_WRITTEN,
        payload={
            "seq": checkpoint.seq,
            "head_hash": checkpoint.head_hash,
            "location": shown,
            "file": checkpoint.file_name,
            "key_fingerprint": checkpoint.key_fingerprint,
        },
    )
    return checkpoint


@dataclass(frozen=True)
class Anchoring:
    """What the nightly audit did about checkpoints, in one line for its summary."""

    ok: bool
    text: str


def anchor_chain(
    store: GovernanceStore,
    *,
    verified: bool,
    actor: str,
    environ: Mapping[str, str] | None = None,
) -> Anchoring:
    """Check the chain against every checkpoint, then sign a new one if all is intact.

    Nothing is signed over a store that failed verification: a signature must never vouch
    for tampered history. Without a key configured this only verifies what is there.
    """
    environ = os.environ if environ is None else environ
    try:
        checked = verify_checkpoints(store, environ=environ)
    except CheckpointError as error:
        return Anchoring(False, f"checkpoints FAILED: {error}")
    if not checked.ok:
        return Anchoring(False, f"checkpoints FAILED: {checked.problem}")
    earlier = f"{checked.checked} checkpoint(s) verified" if checked.checked else checked.note
    if not signing_configured(environ):
        return Anchoring(True, f"{earlier}; no checkpoint signed ({KEY_FILE_ENV} is not set)")
    if not verified:
        return Anchoring(True, f"{earlier}; no checkpoint signed over a store that failed")
    try:
        written = write_checkpoint(store, actor=actor, environ=environ)
    except CheckpointError as error:
        return Anchoring(False, f"checkpoint NOT written: {error}")
    return Anchoring(
        True, f"{earlier}; signed checkpoint of event #{written.seq} written to {written.file}"
    )
