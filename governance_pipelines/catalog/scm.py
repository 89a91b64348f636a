"""Links from a model version to the exact commit it was trained from.

Reproducibility is only as good as a reader's ability to find the code: the store keeps the
``git remote`` URL and the commit of each training run, and the catalog turns them into a
link a browser can open. Remotes come in several shapes (https, ``ssh://``, scp-like
``git@host:org/repo.git``) and sometimes carry credentials (``https://user:token@host/...``
from a CI checkout) — those must never reach a page, so the link is rebuilt from host and
path only. A remote that is a local folder has no web page: no link rather than a broken one.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote, urlsplit

__all__ = ["commit_url", "redact_credentials", "repository_web_url"]

_COMMIT = re.compile(r"^[0-9a-fA-F]{7,40}$")
_HOST = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")
# scp-like syntax: [user@]host:path, where the path does not start with "/" (git's rule
# for telling it apart from ssh://), and the host is not a single letter (a Windows drive).
_SCP_LIKE = re.compile(r"^(?:[^@/\s]+@)?(?P<host>[^:/\s]{2,}):(?!/)(?P<path>\S+)$")
_WEB_SCHEMES = ("http", "https")
_SSH_SCHEMES = ("ssh", "git", "git+ssh", "ssh+git")
_UNKNOWN = ("", "unknown", "none", "null")


def commit_url(remote_url: str, commit: str) -> str | None:
    """A browsable link to ``commit`` in the repository behind ``remote_url``, or None.

    GitHub and generic hosts use ``/commit/<sha>``, GitLab ``/-/commit/<sha>`` and
    Bitbucket ``/commits/<sha>``. None when the remote is unknown or a local path, or the
    commit is not 7–40 hex digits (a branch name is not an exact version).
    """
    sha = (commit or "").strip()
    if not _COMMIT.fullmatch(sha):
        return None
    repository = repository_web_url(remote_url)
    if repository is None:
        return None
    host = urlsplit(repository).hostname or ""
    if "gitlab" in host:
        return f"{repository}/-/commit/{sha.lower()}"
    if "bitbucket" in host:
        return f"{repository}/commits/{sha.lower()}"
    return f"{repository}/commit/{sha.lower()}"


def redact_credentials(remote_url: str) -> str:
    """``remote_url`` with any password or token removed, everything else as given.

    The remote is stored and shown for provenance, so it must stay recognisable; but CI
    checkouts embed tokens (``https://x-access-token:TOKEN@host/...``, or a bare token as
    the user of an https URL), and those must not reach a page or a JSON file. An ssh user
    (``git@``) is not a secret and is kept.
    """
    remote = (remote_url or "").strip()
    if "://" in remote:
        scheme, rest = remote.split("://", 1)
        authority, slash, path = rest.partition("/")
        user, at, host = authority.rpartition("@")
        if not at:
            return remote
        web = scheme.lower() in _WEB_SCHEMES
        if web or ":" in user:
            kept = "" if web else f"{user.split(':', 1)[0]}@"
            return f"{scheme}://{kept}{host}{slash}{path}"
        return remote
    match = re.fullmatch(r"(?P<user>[^@/\s]+)@(?P<rest>[^@\s]+)", remote)
    if match and ":" in match["user"]:
        return f"{match['user'].split(':', 1)[0]}@{match['rest']}"
    return remote


def repository_web_url(remote_url: str) -> str | None:
    """The repository's web page for a git remote, without credentials, port of ssh or ``.git``.

    None for an unknown remote, a local path or ``file://`` URL, or anything that does not
    parse as host plus repository path.
    """
    remote = (remote_url or "").strip()
    if remote.lower() in _UNKNOWN or any(c.isspace() for c in remote):
        return None
    if "://" in remote:
        return _from_url(remote)
    match = _SCP_LIKE.fullmatch(remote)
    if match is None:
        return None  # a local path: /srv/repo, ./repo, ~/repo, C:\repo
    return _web_url("https", match["host"], None, match["path"], from_ssh=True)


def _from_url(remote: str) -> str | None:
    """Web URL of a ``scheme://`` remote; ssh-like schemes map to https on the same host."""
    try:
        parts = urlsplit(remote)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme in _WEB_SCHEMES:
        return _web_url(scheme, parts.hostname, port, parts.path)
    if scheme in _SSH_SCHEMES:
        # The ssh port is not the web server's port: drop it.
        return _web_url("https", parts.hostname, None, parts.path, from_ssh=True)
    return None  # file://, and schemes a browser cannot open


def _web_url(
    scheme: str, host: str | None, port: int | None, path: str, *, from_ssh: bool = False
) -> str | None:
    """Rebuild the URL from parts known to be safe; user and password are never copied.

    An ssh host without a dot is an alias from ``~/.ssh/config`` (``github-work:org/repo``),
    not a web server's name: no link rather than a dead one.
    """
    host = (host or "").lower().strip("[]")
    if not _HOST.fullmatch(host) or (from_ssh and "." not in host):
        return None
    segments = [s for s in unquote(path.split("?", 1)[0].split("#", 1)[0]).split("/") if s]
    if segments and segments[-1].endswith(".git"):
        segments[-1] = segments[-1][: -len(".git")]
    segments = [s for s in segments if s]
    if not segments or any(s in (".", "..") for s in segments):
        return None
    netloc = host if port is None else f"{host}:{port}"
    return f"{scheme}://{netloc}/" + "/".join(quote(s, safe="-._~@+") for s in segments)
