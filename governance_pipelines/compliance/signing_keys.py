"""The Ed25519 keys that sign audit checkpoints: from the environment, never logged.

- ``GOVERNANCE_CHECKPOINT_KEY_FILE`` — path of a PEM (PKCS8) Ed25519 private key, or
- ``GOVERNANCE_CHECKPOINT_KEY`` — the PEM text itself, or base64 of the 32-byte raw seed.
- ``GOVERNANCE_CHECKPOINT_PUBLIC_KEY`` — for verifiers: public keys (PEM or base64 of the 32
  raw bytes), comma-separated, so checkpoints signed before a rotation stay verifiable.

Read when a function is called, never at import; messages name the variable, never the key.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

KEY_FILE_ENV = "GOVERNANCE_CHECKPOINT_KEY_FILE"
KEY_ENV = "GOVERNANCE_CHECKPOINT_KEY"
PUBLIC_KEY_ENV = "GOVERNANCE_CHECKPOINT_PUBLIC_KEY"
_KEYGEN_HINT = "create one with `governance audit keygen --out FILE`"


class CheckpointError(Exception):
    """A checkpoint cannot be written or read; the message says what to do."""


class CheckpointKeyError(CheckpointError):
    """The signing or verification key is missing or cannot be parsed."""


@dataclass(frozen=True)
class _Keys:
    signing: Ed25519PrivateKey | None
    public: Mapping[str, Ed25519PublicKey] = field(default_factory=dict)


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
