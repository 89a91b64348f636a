"""Commit links for every remote shape a training run can record, and no leaked tokens."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from governance_pipelines.catalog.scm import commit_url, redact_credentials, repository_web_url

SHA = "0123456789abcdef0123456789abcdef01234567"


@pytest.mark.parametrize(
    ("remote", "expected"),
    [
        # GitHub: https, scp-like ssh, ssh:// with a port, trailing slash, no .git
        ("https://github.com/acme/models.git", "https://github.com/acme/models/commit/"),
        ("https://github.com/acme/models", "https://github.com/acme/models/commit/"),
        ("https://github.com/acme/models/", "https://github.com/acme/models/commit/"),
        ("git@github.com:acme/models.git", "https://github.com/acme/models/commit/"),
        ("ssh://git@github.com/acme/models.git", "https://github.com/acme/models/commit/"),
        ("ssh://git@github.com:22/acme/models.git", "https://github.com/acme/models/commit/"),
        ("git://github.com/acme/models.git", "https://github.com/acme/models/commit/"),
        # GitLab, including subgroups and a self-hosted instance
        ("https://gitlab.com/acme/ml/models.git", "https://gitlab.com/acme/ml/models/-/commit/"),
        ("git@gitlab.com:acme/ml/models.git", "https://gitlab.com/acme/ml/models/-/commit/"),
        (
            "ssh://git@gitlab.acme.internal:2222/ml/models.git",
            "https://gitlab.acme.internal/ml/models/-/commit/",
        ),
        # Bitbucket
        ("https://bitbucket.org/acme/models.git", "https://bitbucket.org/acme/models/commits/"),
        ("git@bitbucket.org:acme/models.git", "https://bitbucket.org/acme/models/commits/"),
        # Generic hosts keep an https port, lose an ssh one
        ("https://git.acme.io:8443/ml/models.git", "https://git.acme.io:8443/ml/models/commit/"),
        ("git@git.acme.io:ml/models.git", "https://git.acme.io/ml/models/commit/"),
        ("http://gitea.local/ml/models.git", "http://gitea.local/ml/models/commit/"),
        ("HTTPS://GitHub.com/acme/models.git", "https://github.com/acme/models/commit/"),
    ],
)
def test_each_remote_shape_links_to_the_commit(remote: str, expected: str) -> None:
    assert commit_url(remote, SHA) == expected + SHA


@pytest.mark.parametrize(
    "remote",
    [
        "https://ci-bot:s3cr3t-t0ken@github.com/acme/models.git",
        "https://s3cr3t-t0ken@github.com/acme/models.git",
        "https://oauth2:s3cr3t-t0ken@gitlab.com/acme/models.git",
        "ssh://git:s3cr3t-t0ken@github.com/acme/models.git",
    ],
)
def test_credentials_never_reach_the_link(remote: str) -> None:
    url = commit_url(remote, SHA)
    assert url is not None
    assert "s3cr3t" not in url
    assert "@" not in url
    assert url.endswith(f"/acme/models/commit/{SHA}") or url.endswith(
        f"/acme/models/-/commit/{SHA}"
    )


@pytest.mark.parametrize(
    "remote",
    [
        "unknown",
        "",
        "   ",
        "/srv/repo",
        "/srv/repo.git",
        "./repo",
        "../repo",
        "~/code/repo",
        "file:///srv/repo.git",
        "C:\\repos\\models",
        "C:/repos/models",
        "https://github.com",
        "https://github.com/",
        "https://exa mple.com/a/b",
        "ftp://example.com/a/b.git",
        "javascript:alert(1)//github.com/a/b",
        "github-work:acme/models.git",
    ],
)
def test_remotes_without_a_web_page_give_no_link(remote: str) -> None:
    assert commit_url(remote, SHA) is None


@pytest.mark.parametrize(
    "commit", ["unknown", "", "main", "abc123", "0123456g", "0" * 41, "HEAD", f" {SHA[:7]}x"]
)
def test_commits_that_are_not_hex_shas_give_no_link(commit: str) -> None:
    assert commit_url("https://github.com/acme/models.git", commit) is None


def test_short_and_upper_case_shas_are_accepted_and_normalised() -> None:
    assert (
        commit_url("https://github.com/a/b", "ABCDEF0") == "https://github.com/a/b/commit/abcdef0"
    )


def test_repository_web_url_is_the_commit_link_without_the_commit() -> None:
    assert repository_web_url("git@github.com:acme/models.git") == "https://github.com/acme/models"


@pytest.mark.parametrize(
    ("remote", "expected"),
    [
        ("https://ci-bot:tok@github.com/a/b.git", "https://github.com/a/b.git"),
        ("https://tok@github.com/a/b.git", "https://github.com/a/b.git"),
        ("ssh://git:tok@host:22/a/b.git", "ssh://git@host:22/a/b.git"),
        ("user:tok@host:a/b.git", "user@host:a/b.git"),
        ("git@github.com:a/b.git", "git@github.com:a/b.git"),
        ("ssh://git@github.com/a/b.git", "ssh://git@github.com/a/b.git"),
        ("/srv/repo", "/srv/repo"),
        ("unknown", "unknown"),
    ],
)
def test_redact_credentials_keeps_the_remote_recognisable(remote: str, expected: str) -> None:
    assert redact_credentials(remote) == expected


@given(token=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-", min_size=8, max_size=40))
def test_no_token_survives_in_a_link_or_a_redacted_remote(token: str) -> None:
    remote = f"https://x-access-token:{token}@github.com/acme/models.git"
    assert token not in redact_credentials(remote)
    url = commit_url(remote, SHA)
    assert url == f"https://github.com/acme/models/commit/{SHA}"
