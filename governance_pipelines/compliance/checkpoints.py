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
import hashlib
import json
import os
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import sqlalchemy as sa
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from governance_pipelines.canonical import canonical_json
from governance_pipelines.store import audit

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

    from governance_pipelines.store import GovernanceStore

FORMAT = "governance-audit-checkpoint/1"
KEY_FILE_ENV = "GOVERNANCE_CHECKPOINT_KEY_FILE"
KEY_ENV = "GOVERNANCE_CHECKPOINT_KEY"
PUBLIC_KEY_ENV = "GOVERNANCE_CHECKPOINT_PUBLIC_KEY"
DIR_ENV = "GOVERNANCE_CHECKPOINT_DIR"
CHECKPOINT_WRITTEN = "audit.checkpoint_written"
_KEYGEN_HINT = "create one with `governance audit keygen --out FILE`"
_NAME = re.compile(r"^checkpoint-(\d{12})\.json$")


class CheckpointError(Exception):
    """A checkpoint cannot be written or read; the message says what to do."""


class CheckpointKeyError(CheckpointError):
    """The signing or verification key is missing or cannot be parsed."""


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


@dataclass(frozen=True)
class _Keys:
    signing: Ed25519PrivateKey | None
    public: Mapping[str, Ed25519PublicKey] = field(default_factory=dict)


# --- keys ------------------------------------------------------------------------------


def new_signing_key() -> tuple[bytes, str]:
    """A fresh Ed25519 key: (PEM PKCS8 private key, base64 of the raw public key)."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return pem, public_key_base64(key.public_key())


def public_key_base64(key: Ed25519PublicKey) -> str:
    return base64.b64encode(_raw(key)).decode("ascii")


def key_fingerprint(key: Ed25519PublicKey) -> str:
    """A short, stable name for a public key, so a checkpoint says which key signed it."""
    return "sha256:" + hashlib.sha256(_raw(key)).hexdigest()[:32]


def signing_configured(environ: Mapping[str, str] | None = None) -> bool:
    """Whether this process is meant to sign checkpoints (a key variable is set)."""
    environ = os.environ if environ is None else environ
    return bool(environ.get(KEY_FILE_ENV, "").strip() or environ.get(KEY_ENV, "").strip())


def load_signing_key(environ: Mapping[str, str] | None = None) -> Ed25519PrivateKey:
    """The private key from the environment; a missing or bad key raises with the fix."""
    key = _signing_key(os.environ if environ is None else environ)
    if key is None:
        raise CheckpointKeyError(
            f"no checkpoint signing key: set {KEY_FILE_ENV} (a PEM key file) or {KEY_ENV}; "
            + _KEYGEN_HINT
        )
    return key


def _load_keys(environ: Mapping[str, str]) -> _Keys:
    signing = _signing_key(environ)
    public: dict[str, Ed25519PublicKey] = {}
    entries = [e.strip() for e in environ.get(PUBLIC_KEY_ENV, "").split(",") if e.strip()]
    for position, entry in enumerate(entries, start=1):
        key = _parse_public_key(entry, f"{PUBLIC_KEY_ENV} (entry {position} of {len(entries)})")
        public[key_fingerprint(key)] = key
    if signing is not None:
        public.setdefault(key_fingerprint(signing.public_key()), signing.public_key())
    return _Keys(signing, public)


def _signing_key(environ: Mapping[str, str]) -> Ed25519PrivateKey | None:
    path = environ.get(KEY_FILE_ENV, "").strip()
    text = environ.get(KEY_ENV, "").strip()
    if path and text:
        raise CheckpointKeyError(
            f"both {KEY_FILE_ENV} and {KEY_ENV} are set: unset one, so it is clear which key signs"
        )
    if path:
        try:
            text = Path(path).expanduser().read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            raise CheckpointKeyError(
                f"{KEY_FILE_ENV}={path}: no such file; {_KEYGEN_HINT}"
            ) from None
        except (OSError, UnicodeDecodeError) as error:
            raise CheckpointKeyError(
                f"{KEY_FILE_ENV}={path}: cannot read the key file ({type(error).__name__}); "
                "check the path and its permissions"
            ) from None
        return _parse_private_key(text, f"{KEY_FILE_ENV}={path}")
    if text:
        return _parse_private_key(text, KEY_ENV)
    return None


def _parse_private_key(text: str, source: str) -> Ed25519PrivateKey:
    # Messages name the source but never echo the key material. CI secrets often hold a PEM
    # on one line with literal "\\n"s: accept that too.
    text = text.replace("\\n", "\n")
    if text.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_private_key(text.encode("ascii"), password=None)
        except TypeError:
            raise CheckpointKeyError(
                f"{source}: the PEM key is password-protected; use an unencrypted PKCS8 key "
                f"kept in a secret manager ({_KEYGEN_HINT})"
            ) from None
        except (ValueError, UnicodeEncodeError, UnsupportedAlgorithm):
            raise CheckpointKeyError(
                f"{source}: not a readable PEM private key; {_KEYGEN_HINT}"
            ) from None
        if not isinstance(key, Ed25519PrivateKey):
            raise CheckpointKeyError(
                f"{source}: a {type(key).__name__.lstrip('_')} key, but checkpoints are signed "
                f"with Ed25519; {_KEYGEN_HINT}"
            )
        return key
    seed = _base64_32(text)
    if seed is None:
        raise CheckpointKeyError(
            f"{source}: expected a PEM private key or base64 of a 32-byte Ed25519 seed; "
            + _KEYGEN_HINT
        )
    return Ed25519PrivateKey.from_private_bytes(seed)


def _parse_public_key(text: str, source: str) -> Ed25519PublicKey:
    hint = "the key `governance audit keygen` printed, or the PEM of the public key"
    text = text.replace("\\n", "\n")
    if text.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_public_key(text.encode("ascii"))
        except (ValueError, UnicodeEncodeError, UnsupportedAlgorithm):
            raise CheckpointKeyError(
                f"{source}: not a readable PEM public key; set it to {hint}"
            ) from None
        if not isinstance(key, Ed25519PublicKey):
            raise CheckpointKeyError(f"{source}: not an Ed25519 public key; set it to {hint}")
        return key
    raw = _base64_32(text)
    if raw is None:
        raise CheckpointKeyError(
            f"{source}: expected PEM or base64 of 32 raw bytes; set it to {hint}"
        )
    return Ed25519PublicKey.from_public_bytes(raw)


def _base64_32(text: str) -> bytes | None:
    try:
        raw = base64.b64decode("".join(text.split()), validate=True)
    except ValueError:
        return None
    return raw if len(raw) == 32 else None


def _raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


# --- location --------------------------------------------------------------------------


def checkpoint_location(
    store: GovernanceStore, location: str | None = None, environ: Mapping[str, str] | None = None
) -> str:
    """The argument, else `GOVERNANCE_CHECKPOINT_DIR`, else `<store home>/checkpoints`."""
    environ = os.environ if environ is None else environ
    return location or environ.get(DIR_ENV, "").strip() or str(store.home / "checkpoints")


def public_location(location: str) -> str:
    """The location for messages and the audit log: no user, password or query token."""
    try:
        parts = urlsplit(location)
    except ValueError:  # unparseable: show nothing that could be a secret
        return location.split("://", 1)[0] + "://***" if "://" in location else "***"
    if not parts.scheme or len(parts.scheme) == 1:  # a plain path (or a Windows drive)
        return location
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def checkpoint_file_name(seq: int) -> str:
    """Zero-padded, so a plain listing sorts checkpoints by seq."""
    return f"checkpoint-{seq:012d}.json"


def _filesystem(location: str) -> tuple[AbstractFileSystem, str, str]:
    """(filesystem, root path in it, the location as messages show it)."""
    import fsspec

    try:
        fs, root = fsspec.core.url_to_fs(location)
    except (ImportError, ValueError) as error:
        raise CheckpointError(
            f"checkpoint location {public_location(location)}: {error}; set {DIR_ENV} (or --to) "
            "to a folder or an fsspec URL whose filesystem package is installed"
        ) from None
    # Local folders are shown absolute, so the audit log names the same place from any cwd.
    return fs, root, (root if _is_local(fs) else public_location(location))


def _is_local(fs: AbstractFileSystem) -> bool:
    from fsspec.implementations.local import LocalFileSystem

    return isinstance(fs, LocalFileSystem)


def _write_new_file(fs: AbstractFileSystem, root: str, name: str, data: bytes) -> None:
    """Create `root/name`, never replacing an existing file, never leaving half a file."""
    path = f"{root.rstrip('/')}/{name}"
    if _is_local(fs):
        # A temp file hard-linked into place: atomic, and the link fails if the name exists.
        Path(root).mkdir(parents=True, exist_ok=True)
        temp = Path(root) / f".{name}.{uuid.uuid4().hex}.tmp"
        try:
            with open(temp, "xb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.link(temp, path)
        finally:
            temp.unlink(missing_ok=True)
        return
    # Object stores: one PUT is atomic (all or nothing). "xb" asks for create-only where the
    # filesystem supports it; otherwise check first (a race only with a second writer of the
    # same seq, which signs the same head).
    fs.makedirs(root, exist_ok=True)
    try:
        with fs.open(path, "xb") as handle:
            handle.write(data)
    except (ValueError, NotImplementedError):
        if fs.exists(path):
            raise FileExistsError(path) from None
        fs.pipe_file(path, data)


def _list_checkpoints(fs: AbstractFileSystem, root: str) -> list[str]:
    try:
        entries = fs.ls(root, detail=False)
    except FileNotFoundError:
        return []
    names = (str(entry).rstrip("/").rsplit("/", 1)[-1] for entry in entries)
    return sorted((n for n in names if _NAME.match(n)), reverse=True)


# --- writing ---------------------------------------------------------------------------


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
    body = {
        "format": FORMAT,
        "store_id": store_id,
        "seq": chain.verified,
        "head_hash": chain.head_hash,
        "events": chain.verified,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    signature = key.sign(canonical_json(body).encode("utf-8"))
    checkpoint = Checkpoint(
        store_id=store_id,
        seq=chain.verified,
        head_hash=chain.head_hash,
        events=chain.verified,
        created_at=body["created_at"],
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

    if foreign and store_id is None:
        newest = foreign[0]
        problems.append(
            f"the audit log is empty but checkpoint {newest.file} signed #{newest.seq}: events "
            "were removed (or this is not the store these checkpoints belong to); restore the "
            "store from a backup that matches the checkpoint"
        )
    elif foreign and not own:
        problems.append(
            f"none of the {len(foreign)} checkpoint(s) at {shown} is of this store: they sign "
            f"another store's chain (first event {foreign[0].store_id[:12]}…, this store's "
            f"{(store_id or '')[:12]}…). Give each store its own {DIR_ENV}; if {shown} "
            "is this store's, its chain was rewritten from event #1"
        )

    own_seqs = {c.seq for c in own}
    if (
        recorded is not None
        and recorded[1] == shown
        and checkpoint_file_name(recorded[0]) not in names
    ):
        problems.append(
            f"the audit log records checkpoint {shown.rstrip('/')}/{checkpoint_file_name(recorded[0])} "
            f"of #{recorded[0]}, but it is not there: checkpoint files were removed; restore "
            "them from the location's versioning or backup"
        )

    foreign_note = (
        f"{len(foreign)} checkpoint(s) of another store ignored" if foreign and own else None
    )
    latest = max(own_seqs) if own_seqs else None
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
