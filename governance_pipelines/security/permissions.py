"""The permissions the package checks, and the roles a governance file gets by default.

They live with the code that enforces them (`rbac.py`); `governance.yaml` validation reads
them to name an unknown permission, and the README lists the default roles.
"""

from __future__ import annotations

PERMISSIONS = (
    "model.view",
    "model.call",
    "model.register",
    "model.approve",
    "model.promote",
    "endpoint.manage",
    "logs.read",
    "audit.read",
    "config.manage",
)

DEFAULT_ROLES: dict[str, list[str]] = {
    "viewer": ["model.view"],
    "user": ["model.view", "model.call"],
    "data_scientist": ["model.view", "model.call", "model.register", "logs.read"],
    "approver": ["model.view", "model.approve", "logs.read", "audit.read"],
    "auditor": ["model.view", "logs.read", "audit.read"],
    "admin": list(PERMISSIONS),
}
