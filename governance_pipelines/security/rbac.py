"""Role-based access control over the people and roles declared in `governance.yaml`.

Dagster's open-source UI has no authentication, so the controls that matter (who may
approve or promote a model) live here, in the package's own API and CLI. A decision is a
value: `authorize` never raises and never writes, so a caller can record the decision in
the same transaction as the action it guards (`record_access`) — a denied attempt is as
much a fact for the auditor as an allowed one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from governance_pipelines.store import access_records
from governance_pipelines.store.audit import AuditEvent

if TYPE_CHECKING:
    from governance_pipelines.config import GovernanceConfig


class PermissionDenied(Exception):
    """The user may not do this; the message names what is missing and how to get it."""


@dataclass(frozen=True)
class Decision:
    """The outcome of one authorization question, kept whole so it can be logged as-is."""

    allowed: bool
    reason: str
    user: str
    permission: str
    roles: tuple[str, ...] = ()

    def refuse(self, reason: str) -> Decision:
        """The same question answered 'no' for a reason beyond roles (e.g. maker–checker)."""
        return Decision(False, reason, self.user, self.permission, self.roles)


def roles_granting(config: GovernanceConfig, permission: str) -> list[str]:
    """The declared roles that carry `permission`, for 'ask someone with …' hints."""
    return sorted(role for role, granted in config.roles.items() if permission in granted)


def people_with(config: GovernanceConfig, permission: str, exclude: Iterable[str] = ()) -> str:
    """Who could do it instead, for the 'ask …' part of a refusal."""
    excluded = set(exclude)
    names = [
        p.name
        for p in config.people
        if p.name not in excluded and permission in permissions_of(config, p.name)
    ]
    return ", ".join(names) if names else f"a person holding {permission!r} (none is declared)"


def permissions_of(config: GovernanceConfig, user: str) -> frozenset[str]:
    person = config.person(user)
    if person is None:
        return frozenset()
    return frozenset(p for role in person.roles for p in config.roles.get(role, ()))


def authorize(config: GovernanceConfig, user: str, permission: str) -> Decision:
    """May `user` exercise `permission`? Pure: nothing is written (see `record_access`)."""
    person = config.person(user)
    if person is None:
        declared = ", ".join(sorted(p.name for p in config.people))
        return Decision(
            False,
            f"unknown user {user!r}: not among the people declared in governance.yaml "
            f"(declared: {declared}); use one of those names or add the person under "
            "`people:` with a role",
            user,
            permission,
        )
    roles = tuple(person.roles)
    granting = [role for role in roles if permission in config.roles.get(role, ())]
    if granting:
        return Decision(
            True, f"{user} has {permission!r} through role {granting[0]}", user, permission, roles
        )
    holders = roles_granting(config, permission)
    who = f"roles {', '.join(holders)}" if holders else "no declared role"
    return Decision(
        False,
        f"{user} (roles: {', '.join(roles)}) lacks the permission {permission!r}, which "
        f"{who} grant; ask someone with "
        f"{' or '.join(holders) if holders else 'an updated roles: section'} to do it, or "
        f"give {user} such a role in governance.yaml (people[].roles)",
        user,
        permission,
        roles,
    )


def record_access(
    connection: sa.Connection,
    decision: Decision,
    *,
    resource: str,
    model_name: str | None = None,
    version: int | None = None,
    details: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Write `decision` to the access log and the audit chain, inside the caller's unit of
    work (`GovernanceStore.unit_of_work`), so it commits with the action it guards."""
    return access_records.record_access(
        connection,
        user=decision.user,
        permission=decision.permission,
        resource=resource,
        allowed=decision.allowed,
        reason=decision.reason,
        model_name=model_name,
        version=version,
        payload={
            **dict(details or {}),  # first: the decision's own fields can never be overridden
            "permission": decision.permission,
            "resource": resource,
            "roles": list(decision.roles),
            "reason": decision.reason,
        },
    )


@dataclass(frozen=True)
class AccessAttempt:
    """One guarded action inside its transaction: records its outcome, allowed or denied.

    A refusal is returned, not raised, by the action's transaction body (see
    `approvals._attempt`), so the denial record commits before the exception reaches the
    caller.
    """

    connection: sa.Connection
    access: Decision
    resource: str
    model: str | None = None
    version: int | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def deny(self, reason: str | None, error: Exception) -> Exception:
        """Record a denial (the RBAC one, or `reason` when a later rule refused) → `error`."""
        self._record(self.access if reason is None else self.access.refuse(reason))
        return error

    def allow(self) -> None:
        self._record(self.access)

    def event(self, action: str, version: int | None, **payload: Any) -> None:
        """An audit event for what the allowed action did, attributed to the user."""
        access_records.record_action(
            self.connection,
            user=self.access.user,
            action=action,
            model_name=self.model,
            version=version,
            payload=payload,
        )

    def _record(self, decision: Decision) -> None:
        record_access(
            self.connection,
            decision,
            resource=self.resource,
            model_name=self.model,
            version=self.version,
            details=self.details,
        )
