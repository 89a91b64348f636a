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
`promotion_state.py`; re-hashing the artifact first is `artifact_check.py`.

No dagster import: the CLI, the Dagster assets and tests all call these functions.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from governance_pipelines.check_names import REQUIRED_VERSION_CHECKS
from governance_pipelines.reporting import clauses
from governance_pipelines.security.artifact_check import (
    ArtifactTampered,
    MeasuredArtifact,
    alert_tampered_artifact,
    measure_artifact,
)
from governance_pipelines.security.promotion_state import (
    APPROVE,
    ARCHIVED,
    HIGH_RISK_MIN_APPROVALS,
    MAX_VERSION,
    PRODUCTION,
    REJECT,
    STAGES,
    STAGING,
    Approval,
    StageTransition,
    _approval_status,
    _approvals,
    _check_gate,
    _transitions,
    _unknown_version,
    _version_row,
    current_stages,
    required_approvals,
)
from governance_pipelines.security.rbac import (
    AccessAttempt,
    PermissionDenied,
    authorize,
    people_with,
)
from governance_pipelines.store import GovernanceStore, UnknownRecordError, approval_records
from governance_pipelines.store.errors import RecordIntegrityError

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
    if decision not in (APPROVE, REJECT):
        raise ValueError(f"decision must be {APPROVE!r} or {REJECT!r}, got {decision!r}")
    if decision == REJECT and not (note and note.strip()):
        raise ValueError("a rejection needs a note saying what must change (--note)")
    resource = f"{model} v{version}"
    artifact = measure_artifact(store, model, version)

    def work(connection: sa.Connection) -> Approval | Exception:
        refused = f"cannot {decision} {resource}"
        details = {"decision": decision, "note": note}
        guard, row = _guarded_version(
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
        if user in _authors(row):
            others = people_with(config, "model.approve", _authors(row))
            reason = (
                f"{user} is an author of {resource} and can never approve it (maker–checker); "
                f"ask another approver ({others}) to review it"
            )
            return guard.deny(reason, PermissionDenied(f"{refused}: {reason}"))
        earlier = [
            a
            for a in _approvals(connection, model, version)
            if a.user == user and a.artifact_sha256 == row.artifact_sha256
        ]
        if earlier:
            reason = (
                f"{user} already recorded {earlier[0].decision!r} for {resource} on "
                f"{earlier[0].created_at:%Y-%m-%d %H:%M} UTC; one decision per approver per "
                "version — further approvals must come from other approvers"
            )
            return guard.deny(reason, PermissionDenied(f"{refused}: {reason}"))
        failed = _check_gate(connection, row, ()).failures(version) if decision == APPROVE else []
        if failed:
            reason = (
                "its blocking checks failed, so an approval could not count towards production: "
                + clauses(failed)
                + " — or record a rejection with a note (`--reject --note …`)"
            )
            return guard.deny(reason, PromotionBlocked(f"{refused}: {reason}"))
        person = config.person(user)
        assert person is not None  # authorize() allowed the user, so the person is declared
        role = next(r for r in person.roles if "model.approve" in config.roles.get(r, ()))
        approval = Approval(model, version, row.artifact_sha256, user, role, decision, note, _now())
        guard.allow()
        action = "approval.recorded" if decision == APPROVE else "approval.rejected"
        approval_records.insert_approval(
            connection,
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

    return _attempt(store, config, work)


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
        guard, row = _guarded_version(
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
            problems = _promotion_problems(connection, config, row, stage, required_checks)
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


def _guarded_version(
    connection: sa.Connection,
    config: GovernanceConfig,
    user: str,
    permission: str,
    model: str,
    version: int,
    resource: str,
    refused: str,
    details: Mapping[str, Any],
    artifact: MeasuredArtifact | None = None,
) -> tuple[AccessAttempt, sa.Row[Any] | Exception]:
    """Every action's opening: `user` needs `permission`, the version must exist, its record
    must be bound to the audit chain and its artifact (when measured) must match the record.

    Returns the guard and the version's row, or the refusal (already recorded) to return.
    """
    # A number past the column's range is recorded in the resource text, not the column.
    recorded = version if 1 <= version <= MAX_VERSION else None
    access = authorize(config, user, permission)
    guard = AccessAttempt(connection, access, resource, model, recorded)
    guard.details.update(details)
    if not guard.access.allowed:
        return guard, guard.deny(None, PermissionDenied(f"{refused}: {guard.access.reason}"))
    try:
        row = _version_row(connection, model, version)
    except RecordIntegrityError as error:
        return guard, guard.deny(str(error), RecordIntegrityError(f"{refused}: {error}"))
    if row is None:
        missing = _unknown_version(connection, model, version)
        return guard, guard.deny(missing, UnknownRecordError(missing))
    if artifact is not None and artifact.sha256 != row.artifact_sha256:
        problem = artifact.mismatch(row.artifact_sha256)
        guard.details["artifact_measured_sha256"] = artifact.sha256
        return guard, guard.deny(problem, ArtifactTampered(f"{refused}: {problem}", row))
    return guard, row


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


def _promotion_problems(
    connection: sa.Connection,
    config: GovernanceConfig,
    row: sa.Row[Any],
    stage: str,
    required_checks: tuple[str, ...],
) -> list[str]:
    model, version = row.model_name, row.version
    if stage == ARCHIVED:
        return []
    if stage == STAGING:
        return _check_gate(connection, row, required_checks).failures(version)
    # Production always needs the validation gates; a caller can add checks, never drop them.
    gate = _check_gate(connection, row, (*REQUIRED_VERSION_CHECKS, *required_checks))
    problems = gate.problems(model, version)
    try:
        required = required_approvals(config, model)
    except KeyError:
        declared = ", ".join(m.name for m in config.models)
        return [
            *problems,
            f"model {model!r} is not declared in governance.yaml (declared: {declared}), so "
            "its required approvals are unknown; declare it under `models:`",
        ]
    status = _approval_status(connection, row, required)
    for rejection in status.rejections:
        problems.append(
            f"{rejection.user} rejected v{version} on {rejection.created_at:%Y-%m-%d}: "
            f"{rejection.note}; a rejection stands for this artifact — register a new version "
            "that addresses it"
        )
    if len(status.approvals) < required:
        have = ", ".join(a.user for a in status.approvals) or "none"
        rule = f"required_approvals for {model}"
        if required > config.model(model).required_approvals:
            rule = f"at least {HIGH_RISK_MIN_APPROVALS} for a model labelled risk_tier: high"
        voted = {a.user for a in (*status.approvals, *status.rejections)}
        ask = people_with(config, "model.approve", _authors(row) | voted)
        message = (
            f"needs {required} approval{'s' if required > 1 else ''} ({rule}) bound to "
            f"artifact sha256 {row.artifact_sha256[:12]}…, has {len(status.approvals)} "
            f"({have}); ask {ask} to run `governance approve {model} {version} --user NAME`"
        )
        if status.stale:
            stale = ", ".join(sorted({a.user for a in status.stale}))
            message += (
                f" (approvals by {stale} were for a different artifact digest and no longer count)"
            )
        problems.append(message)
    return problems


def _authors(row: sa.Row[Any]) -> set[str]:
    record = json.loads(row.record_json)
    authors = {row.created_by}
    if isinstance(record, Mapping) and isinstance(record.get("author"), str):
        authors.add(record["author"])
    return authors


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
