"""Capture the context of a training run: code version, environment, content fingerprints.

A run record is only verifiable if it names the exact code (commit, and whether the
working tree differed from it), the exact libraries and the exact data it saw. Everything here degrades to
``"unknown"`` instead of failing, because training outside a git checkout (a wheel in a
container, a notebook) is legitimate — the record then says honestly what is not known.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import math
import platform
import re
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

UNKNOWN = "unknown"

_GIT_TIMEOUT_SECONDS = 10
_CREDENTIALS_IN_URL = re.compile(r"^(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@]+@")


@dataclass(frozen=True)
class CodeVersion:
    """Where the code came from.

    ``dirty`` is ``None`` when it could not be determined. Untracked files count as dirty:
    a new, uncommitted module can change what a run does just as an edit can.
    """

    commit: str = UNKNOWN
    dirty: bool | None = None
    remote_url: str = UNKNOWN
    branch: str = UNKNOWN

    @property
    def is_verifiable(self) -> bool:
        """True when the commit alone reproduces the code (known commit, clean tree)."""
        return self.commit != UNKNOWN and self.dirty is False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class EnvironmentSnapshot:
    """Interpreter and installed distributions at training time.

    ``packages`` is every installed distribution (normalised name → version), sorted by
    name, so two snapshots can be diffed to explain a failed reproduction.
    """

    python_version: str
    python_implementation: str
    platform: str
    packages: dict[str, str] = field(default_factory=dict)
    container_image: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "python_version": self.python_version,
            "python_implementation": self.python_implementation,
            "platform": self.platform,
            "container_image": self.container_image,
            "packages": dict(self.packages),
        }


def _default_repo_path() -> Path:
    # The code that trains is this package; in an editable install that is the checkout.
    return Path(__file__).resolve().parent


def _git(args: list[str], cwd: Path) -> str | None:
    try:
        completed = subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=_GIT_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if completed.returncode != 0:
        return None
    return completed.stdout.strip()


def redact_url(url: str) -> str:
    """Drop ``user:token@`` from a remote URL: a record must never carry a credential."""
    return _CREDENTIALS_IN_URL.sub(r"\g<scheme>", url)


def capture_code_version(repo_path: Path | str | None = None) -> CodeVersion:
    """Commit, dirty flag, remote URL and branch of the checkout containing ``repo_path``.

    Defaults to the directory of this package. Returns ``"unknown"`` fields when git is
    not installed, the path is not in a repository, or the repository has no commits.
    """
    cwd = Path(repo_path) if repo_path is not None else _default_repo_path()
    if not cwd.is_dir():
        return CodeVersion()
    if _git(["rev-parse", "--is-inside-work-tree"], cwd) != "true":
        return CodeVersion()
    commit = _git(["rev-parse", "HEAD"], cwd) or UNKNOWN
    status = _git(["status", "--porcelain"], cwd)
    dirty = None if status is None else bool(status)
    remote = _git(["config", "--get", "remote.origin.url"], cwd)
    if not remote:
        remotes = (_git(["remote"], cwd) or "").split()
        remote = _git(["config", "--get", f"remote.{remotes[0]}.url"], cwd) if remotes else None
    branch = _git(["rev-parse", "--abbrev-ref", "HEAD"], cwd) or UNKNOWN
    return CodeVersion(
        commit=commit,
        dirty=dirty,
        remote_url=redact_url(remote) if remote else UNKNOWN,
        branch=branch,
    )


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def installed_packages() -> dict[str, str]:
    """Every installed distribution and its exact version, sorted by normalised name."""
    packages: dict[str, str] = {}
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"] if dist.metadata else None
        if not name:
            continue
        packages.setdefault(_normalise(name), dist.version)
    return dict(sorted(packages.items()))


def capture_environment(container_image: str | None = None) -> EnvironmentSnapshot:
    """The running interpreter and installed packages.

    The container image is an argument rather than read from the environment: only the
    orchestrator knows which image (by digest) it launched.
    """
    return EnvironmentSnapshot(
        python_version=platform.python_version(),
        python_implementation=sys.implementation.name,
        platform=platform.platform(),
        packages=installed_packages(),
        container_image=container_image,
    )


def diff_environments(recorded: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """Human-readable differences between two ``EnvironmentSnapshot.to_dict()`` records.

    Used to explain, not to fail: a different patch release rarely changes a model, but a
    reader investigating a failed reproduction needs to see it first.
    """
    differences: list[str] = []
    for key in ("python_version", "python_implementation", "container_image"):
        if recorded.get(key) != current.get(key):
            differences.append(f"{key}: recorded {recorded.get(key)!r}, now {current.get(key)!r}")
    old = recorded.get("packages") or {}
    new = current.get("packages") or {}
    for name in sorted(set(old) | set(new)):
        if name not in new:
            differences.append(f"package {name}: recorded {old[name]}, now not installed")
        elif name not in old:
            differences.append(f"package {name}: not recorded, now {new[name]}")
        elif old[name] != new[name]:
            differences.append(f"package {name}: recorded {old[name]}, now {new[name]}")
    return differences


def output_sha256(output: np.ndarray) -> str:
    """Content hash of test-set output, so a record alone can prove identical predictions."""
    array = np.ascontiguousarray(output)
    if array.dtype.kind in "biuf":
        return hashlib.sha256(array.astype(np.float64).tobytes()).hexdigest()
    return hashlib.sha256(json.dumps([str(v) for v in array.ravel()]).encode()).hexdigest()


def positions_sha256(positions: np.ndarray) -> str:
    return hashlib.sha256(np.asarray(positions, dtype=np.int64).tobytes()).hexdigest()


def data_fingerprint(frame: pd.DataFrame, columns: Sequence[str]) -> str:
    """sha256 of the used columns' contents (row order matters, index does not)."""
    hashed = pd.util.hash_pandas_object(frame[list(columns)], index=False).to_numpy()
    return hashlib.sha256(hashed.tobytes()).hexdigest()


def json_safe(value: Any) -> Any:
    """JSON-safe rendering for the record: NaN/inf become None, objects their ``repr``."""
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return repr(value)
