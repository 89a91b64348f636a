"""Why a decision or a promotion is refused, in words an operator can act on.

These are the rules of `approvals.py`'s docstring that depend on a version's state — its
authors, the decisions already recorded for its artifact, its check results and approvals.
Each function only reads, inside the caller's transaction, and returns reasons; recording
a refusal (access log, audit chain) and raising stays with `approvals.py`, so the write
side can be reviewed as a whole and the rules can be read in one place.

No dagster import: the write side that calls these is shared by the CLI, Dagster and tests.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from governance_pipelines.check_names import REQUIRED_VERSION_CHECKS
from governance_pipelines.reporting import clauses
from governance_pipelines.security.promotion_state import (
    ARCHIVED,
    HIGH_RISK_MIN_APPROVALS,
    STAGING,
    _approval_status,
    _approvals,
    _check_gate,
    required_approvals,
)
from governance_pipelines.security.rbac import people_with

if TYPE_CHECKING:
    from governance_pipelines.config import GovernanceConfig


def authors(row: sa.Row[Any]) -> set[str]:
    """Everyone who made the version: whoever registered it and the `author` its record
    names, since maker–checker must hold against either."""
    record = json.loads(row.record_json)
    made_by = {row.created_by}
    if isinstance(record, Mapping) and isinstance(record.get("author"), str):
        made_by.add(record["author"])
    return made_by


def maker_checker_refusal(
    config: GovernanceConfig, row: sa.Row[Any], user: str, resource: str
) -> str | None:
    """An author can never approve their own version, whatever their roles."""
    if user not in authors(row):
        return None
    others = people_with(config, "model.approve", authors(row))
    return (
        f"{user} is an author of {resource} and can never approve it (maker–checker); "
        f"ask another approver ({others}) to review it"
    )


def repeat_decision_refusal(
    connection: sa.Connection,
    row: sa.Row[Any],
    model: str,
    version: int,
    user: str,
    resource: str,
) -> str | None:
    """One decision per approver per version and artifact, so one person cannot make up
    the required count alone."""
    earlier = [
        a
        for a in _approvals(connection, model, version)
        if a.user == user and a.artifact_sha256 == row.artifact_sha256
    ]
    if not earlier:
        return None
    return (
        f"{user} already recorded {earlier[0].decision!r} for {resource} on "
        f"{earlier[0].created_at:%Y-%m-%d %H:%M} UTC; one decision per approver per "
        "version — further approvals must come from other approvers"
    )


def failed_checks_refusal(connection: sa.Connection, row: sa.Row[Any], version: int) -> str | None:
    """An approval of a version whose blocking checks failed could never count towards
    production, so it is refused rather than recorded (a rejection still is)."""
    failed = _check_gate(connection, row, ()).failures(version)
    if not failed:
        return None
    return (
        "its blocking checks failed, so an approval could not count towards production: "
        + clauses(failed)
        + " — or record a rejection with a note (`--reject --note …`)"
    )


def promotion_problems(
    connection: sa.Connection,
    config: GovernanceConfig,
    row: sa.Row[Any],
    stage: str,
    required_checks: tuple[str, ...],
) -> list[str]:
    """Every condition the version misses for `stage`, listed together so one refusal
    tells the operator everything left to do."""
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
        ask = people_with(config, "model.approve", authors(row) | voted)
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
