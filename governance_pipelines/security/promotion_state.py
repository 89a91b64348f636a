"""The read side of the promotion workflow: check gates, approval status, stage timeline.

Nothing here writes. `approvals.py` (the write side: `approve`, `promote`) enforces its rules
with these readers, calling the connection-level helpers (`_version_row`, `_check_gate`,
`_approval_status`, `_transitions`, …) inside its own transaction so that a decision and the
state it was based on are read and written atomically. Those helpers are shared with
the write side only (`approvals.py`, `approval_rules.py`, `version_guard.py`); they are not API.

* A check is blocking when its latest result has severity ERROR (`blocking_checks_passed`).
* An approval counts only while the artifact digest it was bound to is the version's current
  one (`approval_status`, `counted_approvals`).
* `stage_transitions` is append-only, so the timeline is the history (`stage_timeline`,
  `current_stages`, `version_in_stage_at`).

No dagster import: the CLI, the Dagster assets and tests all call these functions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

import sqlalchemy as sa

from governance_pipelines.store import GovernanceStore, UnknownRecordError, approval_records
from governance_pipelines.store.errors import RecordIntegrityError
from governance_pipelines.store.repository import ModelVersionRecord

if TYPE_CHECKING:
    from governance_pipelines.config import GovernanceConfig

STAGING, PRODUCTION, ARCHIVED = "staging", "production", "archived"
STAGES = (STAGING, PRODUCTION, ARCHIVED)
APPROVE, REJECT = "approve", "reject"
BLOCKING_SEVERITY = "ERROR"  # a failing WARN check informs, it never blocks
HIGH_RISK_MIN_APPROVALS = 2
MAX_VERSION = 2**31 - 1  # model_versions.version is a 32-bit integer on every backend


@dataclass(frozen=True)
class Approval:
    model_name: str
    version: int
    artifact_sha256: str
    user: str
    role: str
    decision: str
    note: str | None
    created_at: datetime


@dataclass(frozen=True)
class StageTransition:
    id: int
    model_name: str
    version: int
    stage: str
    user: str
    reason: str | None
    created_at: datetime


@dataclass(frozen=True)
class FailedCheck:
    name: str
    summary: str


@dataclass(frozen=True)
class CheckGate:
    """Blocking checks of one version: the latest ERROR-severity result of each check."""

    failed: tuple[FailedCheck, ...]
    missing: tuple[str, ...]
    evaluated: tuple[str, ...]

    @property
    def passed(self) -> bool:
        # No evidence is not a pass: a version nobody checked cannot reach production.
        return bool(self.evaluated) and not self.failed and not self.missing

    def failures(self, version: int) -> list[str]:
        return [
            f"blocking check {f.name!r} failed for v{version}: {f.summary}; fix the cause and "
            f"re-run the check (a newer result for v{version} supersedes this one)"
            for f in self.failed
        ]

    def problems(self, model: str, version: int) -> list[str]:
        problems = self.failures(version)
        problems += [
            f"blocking check {name!r} has no result for v{version}; run the model's checks "
            "for this version (materialize its assets in Dagster)"
            for name in self.missing
        ]
        if not self.evaluated and not self.missing:
            problems.append(
                f"no blocking check (severity {BLOCKING_SEVERITY}) has been evaluated for "
                f"{model} v{version}; run its checks before promoting it to production"
            )
        return problems


@dataclass(frozen=True)
class ApprovalStatus:
    required: int
    artifact_sha256: str
    approvals: tuple[Approval, ...]  # 'approve' decisions bound to the current artifact
    rejections: tuple[Approval, ...]  # 'reject' decisions bound to the current artifact
    stale: tuple[Approval, ...]  # decisions about a different artifact digest: not counted

    @property
    def satisfied(self) -> bool:
        return len(self.approvals) >= self.required and not self.rejections


class StageAt(NamedTuple):
    version: ModelVersionRecord
    transition: StageTransition
    approvals: tuple[Approval, ...]


# --- rules ------------------------------------------------------------------------------


def required_approvals(config: GovernanceConfig, model: str) -> int:
    """The model's `required_approvals`, and at least 2 for `labels.risk_tier: high`.

    The floor exists because a high-risk model with a single checker is a single point of
    failure that regulators' model-risk guidance (e.g. SR 11-7) asks firms to avoid.
    """
    declared = config.model(model)
    if declared.labels.get("risk_tier", "").lower() == "high":
        return max(declared.required_approvals, HIGH_RISK_MIN_APPROVALS)
    return declared.required_approvals


# --- readers ----------------------------------------------------------------------------


def blocking_checks_passed(
    store: GovernanceStore, model: str, version: int, *, required: Iterable[str] = ()
) -> CheckGate:
    """Which blocking checks failed or are missing for a version (`required` names extras).

    A check is blocking when its latest result has severity ERROR. Results recorded for the
    version count, and so do results recorded for its training snapshot (a schema check):
    a model trained on data that failed validation must not reach production either.
    """
    with store.engine.connect() as connection:
        row = _version_row(connection, model, version)
        if row is None:
            raise UnknownRecordError(_unknown_version(connection, model, version))
        return _check_gate(connection, row, required)


def approval_status(
    store: GovernanceStore, config: GovernanceConfig, model: str, version: int
) -> ApprovalStatus:
    with store.engine.connect() as connection:
        row = _version_row(connection, model, version)
        if row is None:
            raise UnknownRecordError(_unknown_version(connection, model, version))
        return _approval_status(connection, row, required_approvals(config, model))


def stage_timeline(store: GovernanceStore, model: str) -> list[StageTransition]:
    """Every stage transition of a model, oldest first: the registry's history."""
    with store.engine.connect() as connection:
        return _transitions(connection, model)


def current_stages(transitions: Iterable[StageTransition]) -> dict[int, str]:
    """Each version's stage after `transitions` (in order); unpromoted versions are absent."""
    stages: dict[int, str] = {}
    for transition in transitions:
        stages[transition.version] = transition.stage
    return stages


def version_in_stage_at(
    store: GovernanceStore, model: str, stage: str, at: datetime
) -> StageAt | None:
    """Which version was in `stage` at `at`, the transition that put it there, its approvals.

    The approvals are those that counted at that moment: 'approve' decisions made before the
    transition and bound to the version's artifact digest. None when the stage was empty.
    """
    at = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    before = [t for t in stage_timeline(store, model) if t.created_at <= at]
    stages = current_stages(before)
    entered = [t for t in before if t.stage == stage and stages.get(t.version) == stage]
    if not entered:
        return None
    transition = entered[-1]
    counted = counted_approvals(store, model, transition.version, before=transition.created_at)
    return StageAt(store.get_model_version(model, transition.version), transition, counted)


def counted_approvals(
    store: GovernanceStore, model: str, version: int, *, before: datetime | None = None
) -> tuple[Approval, ...]:
    """The 'approve' decisions that count for a version (bound to its digest), up to `before`."""
    with store.engine.connect() as connection:
        row = _version_row(connection, model, version)
        if row is None:
            raise UnknownRecordError(_unknown_version(connection, model, version))
        approvals = _approval_status(connection, row, 0).approvals
    return tuple(a for a in approvals if before is None or a.created_at <= before)


# --- connection-level helpers (shared with the write side) -------------------------------


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _version_row(connection: sa.Connection, model: str, version: int) -> sa.Row[Any] | None:
    """The version's row, only if its audit binding verifies (else RecordIntegrityError)."""
    if not 1 <= version <= MAX_VERSION:
        return None  # no such version (a number past the column's range never was one)
    row = approval_records.version_row(connection, model, version)
    if row is not None:
        problem = approval_records.version_problem(connection, row)
        if problem is not None:
            raise RecordIntegrityError(
                f"{model} v{version} cannot be trusted: {problem}; no decision is made on it. "
                "Run `governance audit verify` and restore the store from a verified backup"
            )
    return row


def _unknown_version(connection: sa.Connection, model: str, version: int) -> str:
    listed = ", ".join(str(v) for v in approval_records.registered_versions(connection, model))
    if not listed:
        return f"model {model!r} has no registered versions; train and register one first"
    return f"model {model!r} has no version {version} (registered versions: {listed})"


def _check_gate(connection: sa.Connection, row: sa.Row[Any], required: Iterable[str]) -> CheckGate:
    results = approval_records.gate_check_rows(
        connection, row.model_name, row.version, row.snapshot_id
    )
    latest = {result.check_name: result for result in results}
    blocking = {name: r for name, r in latest.items() if r.severity.upper() == BLOCKING_SEVERITY}
    failed = tuple(
        FailedCheck(name, r.summary) for name, r in sorted(blocking.items()) if not r.passed
    )
    missing = tuple(sorted(set(required) - set(blocking)))
    return CheckGate(failed, missing, tuple(sorted(blocking)))


def _approvals(connection: sa.Connection, model: str, version: int) -> list[Approval]:
    return [
        Approval(
            r.model_name,
            r.version,
            r.artifact_sha256,
            r.user_name,
            r.role,
            r.decision,
            r.note,
            _utc(r.created_at),
        )
        for r in approval_records.approval_rows(connection, model, version)
    ]


def _approval_status(connection: sa.Connection, row: sa.Row[Any], required: int) -> ApprovalStatus:
    decisions = _approvals(connection, row.model_name, row.version)
    current = [a for a in decisions if a.artifact_sha256 == row.artifact_sha256]
    return ApprovalStatus(
        required=required,
        artifact_sha256=row.artifact_sha256,
        approvals=tuple(a for a in current if a.decision == APPROVE),
        rejections=tuple(a for a in current if a.decision == REJECT),
        stale=tuple(a for a in decisions if a.artifact_sha256 != row.artifact_sha256),
    )


def _transitions(connection: sa.Connection, model: str) -> list[StageTransition]:
    return [
        StageTransition(
            r.id, r.model_name, r.version, r.stage, r.user_name, r.reason, _utc(r.created_at)
        )
        for r in approval_records.transition_rows(connection, model)
    ]
