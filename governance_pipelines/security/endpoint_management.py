"""Endpoint management: create, change and delete serving endpoints, for designated people.

Rules, as enforced here:

* Only people whose roles grant `endpoint.manage` (by default `admin`) may create, update or
  delete an endpoint — or issue and revoke tokens (`tokens.py` uses `guarded_change` too).
  A `user` may call models (`model.call`) but never change what serves them.
* Every attempt, allowed or refused, is written to the access log and the audit chain in the
  same transaction as the change; a refusal commits its record, then raises. Each change is
  an `endpoint.*` event carrying the settings before and after.
* An endpoint's model must be declared in governance.yaml, its consumer teams too, and a
  canary's or shadow's candidate version registered in the store (`endpoint_rules.py`).
* Deleting only marks the endpoint deleted; its name is never reused, so a token scoped to
  it can never reach a different endpoint later.

No dagster import: the CLI, the gateway and tests all call these functions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa

from governance_pipelines.security.endpoint_rules import (
    EndpointDefinition,
    reference_problems,
    revise,
    shape_problems,
)
from governance_pipelines.security.rbac import AccessAttempt, PermissionDenied, authorize
from governance_pipelines.store import GovernanceStore
from governance_pipelines.store import endpoint_records as records
from governance_pipelines.store.endpoint_records import EndpointRecord
from governance_pipelines.store.errors import RecordIntegrityError

if TYPE_CHECKING:
    from governance_pipelines.config import GovernanceConfig

__all__ = [
    "MANAGE",
    "EndpointRejected",
    "create_endpoint",
    "delete_endpoint",
    "guarded_change",
    "update_endpoint",
]

MANAGE = "endpoint.manage"
T = TypeVar("T")


class EndpointRejected(ValueError):
    """The change is allowed for this user but not valid; the message lists each problem."""


def guarded_change(
    store: GovernanceStore,
    config: GovernanceConfig,
    user: str,
    *,
    resource: str,
    refused: str,
    details: Mapping[str, Any],
    change: Callable[[AccessAttempt], T | Exception],
    model: str | None = None,
) -> T:
    """Run `change` in one transaction if `user` holds `endpoint.manage`.

    The decision is recorded either way; `change` records the allowance (`guard.allow()`)
    with its write, or returns a refusal made by `guard.deny(...)`, which commits, then
    raises. Nothing in `details` may be secret: it goes into the access log.
    """

    def work(connection: sa.Connection) -> T | Exception:
        guard = AccessAttempt(
            connection, authorize(config, user, MANAGE), resource, model, None, dict(details)
        )
        if not guard.access.allowed:
            return guard.deny(None, PermissionDenied(f"{refused}: {guard.access.reason}"))
        return change(guard)

    outcome = store.unit_of_work(work)
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


def rejection(guard: AccessAttempt, refused: str, problems: list[str]) -> Exception:
    """Record the attempt as refused for `problems` and return the error to raise."""
    message = f"{refused}:\n  - " + "\n  - ".join(problems)
    return guard.deny(message, EndpointRejected(message))


def _check_shape(definition: EndpointDefinition, refused: str) -> None:
    """Malformed settings are usage errors, not refusals: nothing is recorded for them."""
    problems = shape_problems(definition)
    if problems:
        raise EndpointRejected(f"{refused}:\n  - " + "\n  - ".join(problems))


def create_endpoint(
    store: GovernanceStore, config: GovernanceConfig, definition: EndpointDefinition, user: str
) -> EndpointRecord:
    """Create the endpoint `definition` describes (see `endpoint_rules.define_endpoint`)."""
    refused = f"cannot create endpoint {definition.name!r}"
    _check_shape(definition, refused)

    def change(guard: AccessAttempt) -> EndpointRecord | Exception:
        connection = guard.connection
        try:
            existing = records.read_endpoint(connection, definition.name)
        except RecordIntegrityError as error:
            return rejection(guard, refused, [str(error)])
        problems = [] if existing is None else [_name_taken(existing)]
        problems += reference_problems(connection, config, definition)
        if problems:
            return rejection(guard, refused, problems)
        guard.allow()
        return records.insert_endpoint(
            connection, definition.name, definition.settings(), actor=user
        )

    return guarded_change(
        store,
        config,
        user,
        resource=f"endpoint {definition.name}",
        refused=refused,
        details={"operation": "create", "endpoint": definition.name, **definition.settings()},
        change=change,
        model=definition.model_name,
    )


def _name_taken(existing: EndpointRecord) -> str:
    if existing.deleted:
        assert existing.deleted_at is not None
        return (
            f"the name {existing.name!r} belonged to an endpoint deleted on "
            f"{existing.deleted_at:%Y-%m-%d %H:%M} UTC by {existing.deleted_by}; names are never "
            "reused (tokens issued for it must not reach a new endpoint): choose another name"
        )
    return (
        f"endpoint {existing.name!r} already exists (model {existing.model_name}); change it "
        f"with `governance endpoints update {existing.name}`"
    )


def update_endpoint(
    store: GovernanceStore,
    config: GovernanceConfig,
    name: str,
    user: str,
    **changes: Any,
) -> EndpointRecord:
    """Change an endpoint's settings; `changes` are `endpoint_rules.revise`'s keywords
    (model, teams, rate_limit, stage, mode, version, traffic_share), None meaning unchanged."""
    refused = f"cannot update endpoint {name!r}"
    given = {key: value for key, value in changes.items() if value is not None}
    if not given:
        raise EndpointRejected(
            f"{refused}: nothing to change; give at least one of --model, --teams, "
            "--rate-limit, --stage, --mode, --version, --traffic-share"
        )

    def change(guard: AccessAttempt) -> EndpointRecord | Exception:
        current, problem = _current(guard.connection, name)
        if current is None:
            return rejection(guard, refused, [problem])
        definition = revise(current, **given)
        guard.details.update(settings=definition.settings())
        problems = shape_problems(definition)
        problems += reference_problems(guard.connection, config, definition)
        if definition.settings() == current.settings():
            problems.append("it already has these settings: nothing would change")
        if problems:
            return rejection(guard, refused, problems)
        guard.allow()
        delta = {
            key: value
            for key, value in definition.settings().items()
            if value != current.settings()[key]
        }
        return records.change_endpoint(guard.connection, current, delta, actor=user)

    return guarded_change(
        store,
        config,
        user,
        resource=f"endpoint {name}",
        refused=refused,
        details={"operation": "update", "endpoint": name, "requested": given},
        change=change,
        model=changes.get("model"),
    )


def delete_endpoint(
    store: GovernanceStore, config: GovernanceConfig, name: str, user: str
) -> EndpointRecord:
    """Mark an endpoint deleted: it stops answering, its row and history stay."""
    refused = f"cannot delete endpoint {name!r}"

    def change(guard: AccessAttempt) -> EndpointRecord | Exception:
        current, problem = _current(guard.connection, name)
        if current is None:
            return rejection(guard, refused, [problem])
        guard.allow()
        return records.change_endpoint(guard.connection, current, {}, actor=user, delete=True)

    return guarded_change(
        store,
        config,
        user,
        resource=f"endpoint {name}",
        refused=refused,
        details={"operation": "delete", "endpoint": name},
        change=change,
    )


def _current(connection: sa.Connection, name: str) -> tuple[EndpointRecord | None, str]:
    """The live endpoint `name`, or None and why it cannot be changed."""
    try:
        current = records.read_endpoint(connection, name)
    except RecordIntegrityError as error:
        return None, str(error)
    if current is None:
        known = ", ".join(e.name for e in records.read_endpoints(connection, include_deleted=False))
        return None, f"there is no endpoint {name!r} (endpoints: {known or 'none yet'})"
    if current.deleted:
        assert current.deleted_at is not None
        return None, (
            f"endpoint {name!r} was deleted on {current.deleted_at:%Y-%m-%d %H:%M} UTC by "
            f"{current.deleted_by}; deleted endpoints stay deleted: create one under a new name"
        )
    return current, ""
