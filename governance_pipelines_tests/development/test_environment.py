from __future__ import annotations

import math
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from governance_pipelines.development.environment import (
    UNKNOWN,
    capture_code_version,
    capture_environment,
    diff_environments,
    installed_packages,
    json_safe,
    redact_url,
)

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


@needs_git
def test_clean_then_dirty_checkout(tmp_path: Path) -> None:
    _git(tmp_path, "init", "-q")
    (tmp_path / "train.py").write_text("print('v1')\n")
    _git(tmp_path, "add", "train.py")
    _git(tmp_path, "commit", "-q", "-m", "v1")
    _git(tmp_path, "remote", "add", "origin", "https://user:s3cret@example.com/org/repo.git")
    clean = capture_code_version(tmp_path)
    assert len(clean.commit) == 40
    assert clean.dirty is False
    assert clean.is_verifiable
    assert clean.remote_url == "https://example.com/org/repo.git"  # no credential recorded
    (tmp_path / "train.py").write_text("print('v2')\n")
    dirty = capture_code_version(tmp_path)
    assert dirty.commit == clean.commit
    assert dirty.dirty is True
    assert not dirty.is_verifiable


@needs_git
def test_repository_without_commits(tmp_path: Path) -> None:
    _git(tmp_path, "init", "-q")
    version = capture_code_version(tmp_path)
    assert version.commit == UNKNOWN
    assert version.remote_url == UNKNOWN


def test_outside_a_repository_is_unknown_not_an_error(tmp_path: Path) -> None:
    outside = tmp_path / "not-a-repo"
    outside.mkdir()
    version = capture_code_version(outside)
    if version.commit != UNKNOWN:  # tmp inside some checkout on this machine
        pytest.skip("temporary directory is inside a git checkout")
    assert version.dirty is None
    assert not version.is_verifiable
    assert capture_code_version(tmp_path / "missing").commit == UNKNOWN


def test_redact_url() -> None:
    assert redact_url("https://tok@github.com/a/b.git") == "https://github.com/a/b.git"
    assert redact_url("git@github.com:a/b.git") == "git@github.com:a/b.git"


def test_environment_lists_exact_versions() -> None:
    packages = installed_packages()
    assert packages["numpy"] == np.__version__
    assert list(packages) == sorted(packages)
    env = capture_environment(container_image="registry/img@sha256:abc").to_dict()
    assert env["container_image"] == "registry/img@sha256:abc"
    assert env["packages"] == packages


def test_diff_environments() -> None:
    old = {"python_version": "3.11.1", "packages": {"numpy": "1.0", "gone": "2"}}
    new = {"python_version": "3.11.2", "packages": {"numpy": "1.1", "added": "3"}}
    differences = diff_environments(old, new)
    assert any("python_version" in d for d in differences)
    assert "package numpy: recorded 1.0, now 1.1" in differences
    assert any("gone" in d and "not installed" in d for d in differences)
    assert any("added" in d for d in differences)
    assert diff_environments(old, old) == []


def test_json_safe() -> None:
    value = json_safe({"a": np.float64(1.5), "b": math.nan, "c": (1, np.int64(2)), "d": object})
    assert value == {"a": 1.5, "b": None, "c": [1, 2], "d": repr(object)}
