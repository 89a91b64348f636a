"""Canonical hashing: the one JSON serialisation and the one file digest records rely on."""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

_CHUNK = 8 << 20


def canonical_json(value: Any) -> str:
    """Key order and spacing fixed, so equal content always gives equal bytes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def canonical_sha256(value: Any) -> str:
    return hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()


def file_sha256(path: str | os.PathLike[str]) -> str | None:
    """The sha256 of a file's bytes, streamed in constant memory; None when it is missing."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
    except FileNotFoundError:
        return None
    return digest.hexdigest()
