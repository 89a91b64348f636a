"""Where checkpoints live: a folder or any fsspec URL, written once and never overwritten."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from governance_pipelines.compliance.signing_keys import CheckpointError

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

    from governance_pipelines.store import GovernanceStore

DIR_ENV = "GOVERNANCE_CHECKPOINT_DIR"
_NAME = re.compile(r"^checkpoint-(\d{12})\.json$")


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
