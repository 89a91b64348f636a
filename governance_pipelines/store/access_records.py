"""The access log: every authorization decision, allowed or denied, with its audit event.

Both, because they serve different readers: `access_log` is the queryable table an auditor
filters ("every denied attempt last quarter"), the audit chain is the tamper-evident proof
that the table was not edited afterwards. The decision itself is made in `security/`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from governance_pipelines.store.audit import AuditEvent, append_event
from governance_pipelines.store.bindings import insert_bound
from governance_pipelines.store.schema import access_log

NAME_LIMIT = 64  # access_log.user_name / audit_log.actor
RESOURCE_LIMIT = 255  # access_log.resource


def record_access(
    connection: sa.Connection,
    *,
    user: str,
    permission: str,
    resource: str,
    allowed: bool,
    reason: str,
    model_name: str | None = None,
    version: int | None = None,
    payload: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """One access-log row bound to its `access.allowed` / `access.denied` event, inside the
    caller's unit of work (so it commits with the action it guards)."""
    who = user[:NAME_LIMIT] or "<empty>"
    _row, event = insert_bound(
        connection,
        access_log,
        {
            "at": datetime.now(UTC),
            "user_name": who,
            "action": permission,
            "resource": resource[:RESOURCE_LIMIT],
            "allowed": allowed,
            "reason": reason,
        },
        actor=who,
        action="access.allowed" if allowed else "access.denied",
        model_name=model_name,
        version=version,
        payload=payload,
    )
    return event


def record_action(
    connection: sa.Connection,
    *,
    user: str,
    action: str,
    model_name: str | None,
    version: int | None,
    payload: Mapping[str, Any],
) -> AuditEvent:
    """An audit event for what an allowed action did, attributed to its user."""
    return append_event(
        connection,
        actor=user[:NAME_LIMIT],
        action=action,
        model_name=model_name,
        version=version,
        payload=payload,
    )
