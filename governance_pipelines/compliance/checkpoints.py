"""Signed checkpoints of the audit chain, kept outside the governance store.

The hash chain detects an edit *inside* the log, but not an insider with database write
access who truncates the tail or rehashes the whole chain consistently: the rewritten chain
verifies. A checkpoint closes that gap. It signs (Ed25519) the chain's head — seq and hash —
and is written somewhere the database credentials cannot reach. Later, every checkpoint is
checked against the store: the event it signed must still be there with the same hash. Since
each hash covers every event before it, one matching checkpoint vouches for the whole prefix
up to its seq; rewriting it needs the signing key, not just database access.

Environment (read when a function is called, never at import):

- ``GOVERNANCE_CHECKPOINT_KEY_FILE`` — path of a PEM (PKCS8) Ed25519 private key, or
- ``GOVERNANCE_CHECKPOINT_KEY`` — the PEM text itself, or base64 of the 32-byte raw seed.
  Only the writer needs it (`governance audit keygen` creates one).
- ``GOVERNANCE_CHECKPOINT_PUBLIC_KEY`` — for verifiers: one or more public keys (PEM, or
  base64 of the 32 raw bytes), comma-separated, so checkpoints signed before a key rotation
  stay verifiable. The public half of the private key, when set, is always accepted too.
- ``GOVERNANCE_CHECKPOINT_DIR`` — a folder or any fsspec URL (``s3://bucket/prefix``…).
  Default ``<GOVERNANCE_HOME>/checkpoints``, which is convenient but sits next to the
  database: production should point it elsewhere (an object store with object lock, another
  host), so that whoever can rewrite the database cannot also delete or replace checkpoints.

One location belongs to one store: a checkpoint records the store's identity (the hash of its
first audit event), so checkpoints of another store are recognised as foreign.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from governance_pipelines.canonical import canonical_json
from governance_pipelines.compliance.checkpoint_files import (
    DIR_ENV,
    _filesystem,
    _list_checkpoints,
    checkpoint_file_name,
    checkpoint_location,
)
from governance_pipelines.compliance.signing_keys import (
    KEY_FILE_ENV,
    PUBLIC_KEY_ENV,
    CheckpointError,
    _load_keys,
)
from governance_pipelines.store import audit

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

    from governance_pipelines.store import GovernanceStore

FORMAT = "governance-audit-checkpoint/1"
CHECKPOINT_WRITTEN = "audit.checkpoint_written"


@dataclass(frozen=True)
class Checkpoint:
    """One signed statement "this store's chain had head `head_hash` at event #`seq`"."""

    store_id: str
    seq: int
    head_hash: str
    events: int
    created_at: str
    signature: str
    key_fingerprint: str
    format: str = FORMAT
    location: str = ""
    file_name: str = ""

    @property
    def signed_body(self) -> dict[str, Any]:
        """The exact content the signature covers (its canonical JSON)."""
        return {
            "format": self.format,
            "store_id": self.store_id,
            "seq": self.seq,
            "head_hash": self.head_hash,
            "events": self.events,
            "created_at": self.created_at,
        }

    @property
    def file(self) -> str:
        """Where the checkpoint is, for messages (never includes credentials)."""
        return f"{self.location.rstrip('/')}/{self.file_name}" if self.location else self.file_name

    def to_dict(self) -> dict[str, Any]:
        return {
            "signed": self.signed_body,
            "signature": self.signature,
            "key_fingerprint": self.key_fingerprint,
        }

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], *, location: str = "", file_name: str = ""
    ) -> Checkpoint:
        body = data["signed"]
        return cls(
            format=str(body["format"]),
            store_id=str(body["store_id"]),
            seq=int(body["seq"]),
            head_hash=str(body["head_hash"]),
            events=int(body["events"]),
            created_at=str(body["created_at"]),
            signature=str(data["signature"]),
            key_fingerprint=str(data["key_fingerprint"]),
            location=location,
            file_name=file_name,
        )


@dataclass(frozen=True)
class CheckpointVerification:
    """What the checkpoints at one location say about the store's chain.

    `ok` is False only when a checkpoint contradicts the chain or cannot be trusted (bad or
    unknown signature, unreadable file, recorded checkpoint missing); `note` explains an
    inconclusive but acceptable state (no key configured, no checkpoint yet, foreign files).
    """

    ok: bool
    checked: int
    latest_seq: int | None
    problem: str | None = None
    note: str | None = None
    problems: tuple[str, ...] = ()
    foreign: int = 0
    location: str = ""


# --- verifying -------------------------------------------------------------------------


def verify_checkpoints(
    store: GovernanceStore,
    *,
    location: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> CheckpointVerification:
    """Check every checkpoint at the location against the store's chain.

    Each must carry a valid signature under a configured public key; each of this store
    must name an event that is still in the chain with the signed hash. Run it after
    `verify_audit_chain()`: together they show the chain is intact up to the latest
    checkpoint. Only the events named by checkpoints are read, never the whole log.
    """
    environ = os.environ if environ is None else environ
    keys = _load_keys(environ).public
    fs, root, shown = _filesystem(checkpoint_location(store, location, environ))
    try:
        names = _list_checkpoints(fs, root)
    except OSError as error:
        raise CheckpointError(
            f"cannot list checkpoints at {shown}: {error}; check {DIR_ENV} and read access"
        ) from None
    if not keys:
        found = f"{len(names)} checkpoint file(s) at {shown} not verified" if names else ""
        return CheckpointVerification(
            ok=True,
            checked=0,
            latest_seq=None,
            note=(
                f"no checkpoint key configured: set {PUBLIC_KEY_ENV} (or {KEY_FILE_ENV}) to "
                "verify signed checkpoints" + (f"; {found}" if found else "")
            ),
            location=shown,
        )

    problems: list[str] = []
    trusted: list[Checkpoint] = []
    for name in names:
        checkpoint, problem = _read_and_check_signature(fs, root, name, shown, keys)
        if problem is not None:
            problems.append(problem)
        elif checkpoint is not None:
            trusted.append(checkpoint)

    with store.engine.connect() as connection:
        store_id = _hashes_at(connection, [1]).get(1)
        own = [c for c in trusted if c.store_id == store_id]
        foreign = [c for c in trusted if c.store_id != store_id]
        stored = _hashes_at(connection, [c.seq for c in own])
        last_seq = audit.last_seq(connection)
        recorded = _latest_recorded_checkpoint(connection, after=max(stored, default=0))
    problems += _contradictions(own, stored, last_seq)
    problems += _foreign_problems(foreign, own, store_id, shown)
    if recorded is not None and recorded[1] == shown:
        seq = recorded[0]
        if checkpoint_file_name(seq) not in names:
            problems.append(
                f"the audit log records checkpoint {shown.rstrip('/')}/"
                f"{checkpoint_file_name(seq)} of #{seq}, but it is not there: checkpoint files "
                "were removed; restore them from the location's versioning or backup"
            )
    return _verification(problems, own, foreign, shown)


def _contradictions(own: list[Checkpoint], stored: dict[int, str], last_seq: int) -> list[str]:
    """Each of this store's checkpoints against the event it signed."""
    problems = []
    for checkpoint in own:  # newest first
        if checkpoint.seq not in stored:
            problems.append(
                f"the chain ends at #{last_seq} but checkpoint {checkpoint.file} signed "
                f"#{checkpoint.seq}: events were removed; restore the store from a backup that "
                "matches the checkpoint and find out who had write access"
            )
        elif stored[checkpoint.seq] != checkpoint.head_hash:
            problems.append(
                f"event #{checkpoint.seq} differs from the signed checkpoint {checkpoint.file}: "
                "the chain was rewritten; restore the store from a backup that matches the "
                "checkpoint and find out who had write access"
            )
    return problems


def _foreign_problems(
    foreign: list[Checkpoint], own: list[Checkpoint], store_id: str | None, shown: str
) -> list[str]:
    """Checkpoints of another store are harmless only beside this store's own: alone, they
    mean a wrong location or a chain rewritten from event #1."""
    if foreign and store_id is None:
        newest = foreign[0]
        return [
            f"the audit log is empty but checkpoint {newest.file} signed #{newest.seq}: events "
            "were removed (or this is not the store these checkpoints belong to); restore the "
            "store from a backup that matches the checkpoint"
        ]
    if foreign and not own:
        return [
            f"none of the {len(foreign)} checkpoint(s) at {shown} is of this store: they sign "
            f"another store's chain (first event {foreign[0].store_id[:12]}…, this store's "
            f"{(store_id or '')[:12]}…). Give each store its own {DIR_ENV}; if {shown} "
            "is this store's, its chain was rewritten from event #1"
        ]
    return []


def _verification(
    problems: list[str], own: list[Checkpoint], foreign: list[Checkpoint], shown: str
) -> CheckpointVerification:
    foreign_note = (
        f"{len(foreign)} checkpoint(s) of another store ignored" if foreign and own else None
    )
    latest = max((c.seq for c in own), default=None)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        return CheckpointVerification(
            ok=False,
            checked=len(own),
            latest_seq=latest,
            problem=problems[0] + more,
            note=foreign_note,
            problems=tuple(problems),
            foreign=len(foreign),
            location=shown,
        )
    return CheckpointVerification(
        ok=True,
        checked=len(own),
        latest_seq=latest,
        note=foreign_note if own else f"no signed checkpoint yet at {shown}",
        foreign=len(foreign),
        location=shown,
    )


def _read_and_check_signature(
    fs: AbstractFileSystem,
    root: str,
    name: str,
    shown: str,
    keys: Mapping[str, Ed25519PublicKey],
) -> tuple[Checkpoint | None, str | None]:
    """The checkpoint when its signature holds; otherwise a one-line problem naming the file."""
    file = f"{shown.rstrip('/')}/{name}"
    try:
        with fs.open(f"{root.rstrip('/')}/{name}", "rb") as handle:
            data = json.loads(handle.read().decode("utf-8"))
        signed = canonical_json(data["signed"]).encode("utf-8")
        checkpoint = Checkpoint.from_dict(data, location=shown, file_name=name)
        signature = base64.b64decode(checkpoint.signature, validate=True)
    except (OSError, ValueError, KeyError, TypeError) as error:
        return None, (
            f"checkpoint {file} is not a readable signed checkpoint ({type(error).__name__}): "
            "it was damaged or replaced; restore it from the location's versioning or backup"
        )
    key = keys.get(checkpoint.key_fingerprint)
    if key is None:
        return None, (
            f"checkpoint {file} (#{checkpoint.seq}) is signed by key {checkpoint.key_fingerprint}, "
            f"which is not configured: a forged checkpoint, or add the old public key to "
            f"{PUBLIC_KEY_ENV} after a key rotation"
        )
    try:
        key.verify(signature, signed)
    except InvalidSignature:
        return None, (
            f"checkpoint {file} (#{checkpoint.seq}) has an invalid signature under key "
            f"{checkpoint.key_fingerprint}: the file was altered or forged"
        )
    if checkpoint.format != FORMAT or name != checkpoint_file_name(checkpoint.seq):
        return None, (
            f"checkpoint {file} is a signed {checkpoint.format} checkpoint of #{checkpoint.seq} "
            f"under the wrong name or format (expected {checkpoint_file_name(checkpoint.seq)}, "
            f"{FORMAT}): it was moved or renamed"
        )
    return checkpoint, None


def _hashes_at(connection: sa.Connection, seqs: Iterable[int]) -> dict[int, str]:
    return audit.hashes_at(connection, seqs)


def _latest_recorded_checkpoint(connection: sa.Connection, *, after: int) -> tuple[int, str] | None:
    """(seq, location) of the last checkpoint the log says was written, if any.

    Only events after `after` (the newest checkpoint found that still matches an event) are
    searched: the write of that one, or of any later one, is recorded after it.
    """
    event = audit.latest_event(connection, CHECKPOINT_WRITTEN, after=after)
    if event is None:
        return None
    try:
        return int(event.payload["seq"]), str(event.payload["location"])
    except (ValueError, KeyError, TypeError):
        return None
