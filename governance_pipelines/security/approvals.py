"""The promotion workflow's write side: maker–checker approvals and release gates.

Rules, as enforced by `approve` and `promote`:

* Approving (or rejecting) needs `model.approve`; approving a version whose blocking checks
  failed is refused (a rejection is still recorded); the version's author — `created_by` of
  its `model_versions` row and the `author` in its record, if any — can never approve it
  (maker–checker), whatever their roles. One decision per approver per version and artifact.
* An approval stores the version's `artifact_sha256` and counts only while it matches the
  version's current digest: approving one artifact never vouches for another.
* `required_approvals(config, model)` is the model's `required_approvals` (default 1),
  raised to at least 2 when `labels.risk_tier` is `high`.
* Promotion needs `model.promote`. To `production` it also needs every blocking check
  passed (see `blocking_checks_passed`) — always including the validation gates in
  `REQUIRED_VERSION_CHECKS`, whatever the caller passes as `required_checks` (which can only
  add requirements) — at least the required approvals and no standing rejection. To `staging` (where candidates are reviewed) no blocking check may have
  failed, but checks may still be missing and approvals are not needed. To `archived`
  (withdrawing a version is always safe) only the permission is needed.
* Production holds one version: promoting to it appends an `archived` transition for the
  previous one. `stage_transitions` is append-only, so the timeline is the history; a
  rollback is a promotion of an earlier version, never an edit.
* Every attempt, allowed or refused, is written to `access_log` and the audit chain in the
  same transaction as the action; a refusal commits its record, then raises.

The read side — check gates, approval status and the stage timeline — is
`promotion_state.py`; re-hashing the artifact first is `artifact_check.py`. The checks every
action opens with (permission, version, record binding, artifact digest) are
`version_guard.py`, and the state-dependent rules, phrased as refusal reasons, are
`approval_rules.py`; this module decides, records and raises.

No dagster import: the CLI, the Dagster assets and tests all call these functions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from governance_pipelines.security.approval_rules import (
    failed_checks_refusal,
    maker_checker_refusal,
    promotion_problems,
    repeat_decision_refusal,
)
from governance_pipelines.security.artifact_check import (
    ArtifactTampered,
    alert_tampered_artifact,
    measure_artifact,
)
from governance_pipelines.security.promotion_state import (
    APPROVE,
    ARCHIVED,
    PRODUCTION,
    REJECT,
    STAGES,
    Approval,
    StageTransition,
    _approval_status,
    _transitions,
    current_stages,
)
from governance_pipelines.security.rbac import AccessAttempt, PermissionDenied
from governance_pipelines.security.version_guard import guarded_version
from governance_pipelines.store import GovernanceStore, approval_records

if TYPE_CHECKING:
    from governance_pipelines.config import GovernanceConfig

__all__ = ["Promotion", "PromotionBlocked", "approve", "promote"]


class PromotionBlocked(Exception):
    """The version may not enter the stage yet; the message lists every missing condition."""


@dataclass(frozen=True)
class Promotion:
    transition: StageTransition
    archived: tuple[int, ...]  # versions moved out of production by this promotion
    approvals: tuple[Approval, ...]


# --- actions ----------------------------------------------------------------------------


def approve(
    store: GovernanceStore,
    config: GovernanceConfig,
    model: str,
    version: int,
    user: str,
    note: str | None = None,
    decision: str = APPROVE,
) -> Approval:
    """Record `user`'s decision on a version, bound to its artifact digest."""
    _check_decision_arguments(decision, note)
    resource = f"{model} v{version}"
    artifact = measure_artifact(store, model, version)

    def work(connection: sa.Connection) -> Approval | Exception:
        refused = f"cannot {decision} {resource}"
        details = {"decision": decision, "note": note}
        guard, row = guarded_version(
            connection,
            config,
            user,
            "model.approve",
            model,
            version,
            resource,
            refused,
            details,
            artifact,
        )
        if isinstance(row, Exception):
            return row
        refusal = _refuse_decision(
            guard, config, row, refused, model=model, version=version, user=user, decision=decision
        )
        if refusal is not None:
            return refusal
        return _record_decision(
            guard, config, row, note, model=model, version=version, user=user, decision=decision
        )

    return _attempt(store, config, work)


def _check_decision_arguments(decision: str, note: str | None) -> None:
    """Malformed requests fail before anything is hashed or recorded: they are usage
    errors, not refusals, so they do not belong in the access log."""
    if decision not in (APPROVE, REJECT):
        raise ValueError(f"decision must be {APPROVE!r} or {REJECT!r}, got {decision!r}")
    if decision == REJECT and not (note and note.strip()):
        raise ValueError("a rejection needs a note saying what must change (--note)")


def _refuse_decision(
    guard: AccessAttempt,
    config: GovernanceConfig,
    row: sa.Row[Any],
    refused: str,
    *,
    model: str,
    version: int,
    user: str,
    decision: str,
) -> Exception | None:
    """The approval rules past the permission, in order; the first broken one is recorded
    as the refusal. Only an approval needs passed checks: a rejection is always welcome."""
    reason = maker_checker_refusal(config, row, user, guard.resource)
    if reason is not None:
        return guard.deny(reason, PermissionDenied(f"{refused}: {reason}"))
    reason = repeat_decision_refusal(guard.connection, row, model, version, user, guard.resource)
    if reason is not None:
        return guard.deny(reason, PermissionDenied(f"{refused}: {reason}"))
    reason = failed_checks_refusal(guard.connection, row, version) if decision == APPROVE else None
    if reason is not None:
        return guard.deny(reason, PromotionBlocked(f"{refused}: {reason}"))
    return None


def _record_decision(
    guard: AccessAttempt,
    config: GovernanceConfig,
    row: sa.Row[Any],
    note: str | None,
    *,
    model: str,
    version: int,
    user: str,
    decision: str,
) -> Approval:
    """Allow the attempt and store the decision with its event, in the same transaction,
    bound to the digest that was just verified against the file on disk."""
    person = config.person(user)
    assert person is not None  # authorize() allowed the user, so the person is declared
    role = next(r for r in person.roles if "model.approve" in config.roles.get(r, ()))
    approval = Approval(model, version, row.artifact_sha256, user, role, decision, note, _now())
    guard.allow()
    action = "approval.recorded" if decision == APPROVE else "approval.rejected"
    approval_records.insert_approval(
        guard.connection,
        user=user,
        action=action,
        values={
            "model_name": model,
            "version": version,
            "artifact_sha256": row.artifact_sha256,
            "user_name": user,
            "role": role,
            "decision": decision,
            "note": note,
            "created_at": approval.created_at,
        },
        payload={"artifact_sha256": row.artifact_sha256, "role": role, "note": note},
    )
    return approval


def promote(
    store: GovernanceStore,
    config: GovernanceConfig,
    model: str,
    version: int,
    stage: str,
    user: str,
    reason: str | None = None,
    *,
    required_checks: Iterable[str] = (),
) -> Promotion:
    """Move a version to `stage` if every rule allows it; a rollback is just this, again."""
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}; expected one of {', '.join(STAGES)}")
    required_checks = tuple(required_checks)
    resource = f"{model} v{version} -> {stage}"
    # Withdrawing a version is always safe; entering staging or production needs the bytes
    # that were approved. Hashed before the transaction so the chain's lock is not held.
    artifact = None if stage == ARCHIVED else measure_artifact(store, model, version)

    def work(connection: sa.Connection) -> Promotion | Exception:
        refused = f"cannot promote {model} v{version} to {stage}"
        details = {"stage": stage, "promotion_reason": reason}
        guard, row = guarded_version(
            connection,
            config,
            user,
            "model.promote",
            model,
            version,
            resource,
            refused,
            details,
            artifact,
        )
        if isinstance(row, Exception):
            return row
        stages = current_stages(_transitions(connection, model))
        if stages.get(version) == stage:
            problems = [f"it is already in {stage}"]
        else:
            problems = promotion_problems(connection, config, row, stage, required_checks)
        if problems:
            message = f"{refused}:\n  - " + "\n  - ".join(problems)
            return guard.deny(message, PromotionBlocked(message))
        now = _now()
        archived = tuple(
            v for v, s in sorted(stages.items()) if s == PRODUCTION and stage == PRODUCTION
        )
        guard.allow()
        for previous in archived:
            why = f"replaced in production by v{version}"
            _insert_transition(
                guard, previous, ARCHIVED, why, now, "model_version.archived", replaced_by=version
            )
        counted = _approval_status(connection, row, 0).approvals
        transition = _insert_transition(
            guard,
            version,
            stage,
            reason,
            now,
            "model_version.promoted",
            from_stage=stages.get(version),
            artifact_sha256=row.artifact_sha256,
            approved_by=[a.user for a in counted],
            archived=list(archived),
        )
        return Promotion(transition, archived, counted)

    return _attempt(store, config, work)


# --- internals --------------------------------------------------------------------------


def _now() -> datetime:
    """The clock of every approval and transition (tests replace it to build a history)."""
    return datetime.now(UTC)


def _attempt(
    store: GovernanceStore, config: GovernanceConfig, work: Callable[[sa.Connection], Any]
) -> Any:
    """Run `work`; a refusal it returns (not raises) commits its audit record, then raises.

    A tampered artifact is also an alert to the model's owners: someone replaced a file
    that a release decision depends on.
    """
    outcome = store.unit_of_work(work)
    if isinstance(outcome, ArtifactTampered):
        alert_tampered_artifact(store, config, outcome)
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


def _insert_transition(
    guard: AccessAttempt,
    version: int,
    stage: str,
    reason: str | None,
    at: datetime,
    action: str,
    **payload: Any,
) -> StageTransition:
    """A stage transition row and the event that records it, bound together."""
    assert guard.model is not None
    row = approval_records.insert_transition(
        guard.connection,
        user=guard.access.user,
        action=action,
        model=guard.model,
        version=version,
        stage=stage,
        reason=reason,
        at=at,
        payload={"stage": stage, "reason": reason, **payload},
    )
    return StageTransition(row.id, guard.model, version, stage, row.user_name, reason, at)
