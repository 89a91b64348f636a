"""What a valid endpoint is: its settings' shape, and what they must refer to.

An endpoint binds a URL name to a model and what of it is served:

* `production` / `live` — whatever version is in production now (a promotion or rollback
  changes what it serves, never the endpoint);
* `candidate` / `canary` — production answers, except a `traffic_share` in (0, 1) of the
  requests, which the named `candidate_version` answers;
* `candidate` / `shadow` — production answers every request; the candidate also scores a
  `traffic_share` in (0, 1] of them (default: all), for comparison only.

A named version is never served live: live traffic reaches unreleased versions only as a
share, which is what canaries are for. Shape problems (`shape_problems`) are usage errors,
reported before anything is recorded; reference problems (`reference_problems`) depend on
governance.yaml and the store, and are recorded as refusals of the attempt.

No dagster import: the CLI, the gateway and tests share these rules.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from governance_pipelines.store import approval_records
from governance_pipelines.store.endpoint_records import EndpointRecord

if TYPE_CHECKING:
    from governance_pipelines.config import GovernanceConfig

PRODUCTION, CANDIDATE = "production", "candidate"
STAGES = (PRODUCTION, CANDIDATE)
LIVE, CANARY, SHADOW = "live", "canary", "shadow"
MODES = (LIVE, CANARY, SHADOW)
ENDPOINT_NAME = re.compile(r"[a-z][a-z0-9-]{0,62}")
TEAM_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
MAX_RATE_LIMIT = 1_000_000  # requests per minute per consumer team
MAX_VERSION = 2**31 - 1  # a 32-bit integer column on every backend


@dataclass(frozen=True)
class EndpointDefinition:
    """The settings an endpoint should have (what `create` writes, what `update` arrives at)."""

    name: str
    model_name: str
    allowed_teams: tuple[str, ...]
    rate_limit_per_minute: int
    stage: str = PRODUCTION
    mode: str = LIVE
    candidate_version: int | None = None
    traffic_share: float | None = None

    def settings(self) -> dict[str, Any]:
        """The stored settings (`store.endpoint_records.ENDPOINT_SETTINGS`)."""
        return {
            "model_name": self.model_name,
            "stage": self.stage,
            "candidate_version": self.candidate_version,
            "mode": self.mode,
            "traffic_share": self.traffic_share,
            "allowed_teams": list(self.allowed_teams),
            "rate_limit_per_minute": self.rate_limit_per_minute,
        }


def _teams(teams: str | tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """`a,b` or a sequence → names in order, blanks and repeats dropped."""
    names = teams.split(",") if isinstance(teams, str) else list(teams)
    return tuple(dict.fromkeys(n.strip() for n in names if n.strip()))


def define_endpoint(
    name: str,
    *,
    model: str,
    teams: str | tuple[str, ...] | list[str],
    rate_limit: int,
    stage: str | None = None,
    mode: str | None = None,
    version: int | None = None,
    traffic_share: float | None = None,
) -> EndpointDefinition:
    """A new endpoint's definition; the stage follows from the mode or a named version."""
    if stage is None:
        named = version is not None or mode in (CANARY, SHADOW)
        stage = CANDIDATE if named else PRODUCTION
    if mode is None and stage == PRODUCTION:
        mode = LIVE
    return _defaults(
        EndpointDefinition(
            name=name,
            model_name=model,
            allowed_teams=_teams(teams),
            rate_limit_per_minute=rate_limit,
            stage=stage,
            mode=mode or "",
            candidate_version=version,
            traffic_share=traffic_share,
        )
    )


def revise(
    current: EndpointRecord,
    *,
    model: str | None = None,
    teams: str | tuple[str, ...] | list[str] | None = None,
    rate_limit: int | None = None,
    stage: str | None = None,
    mode: str | None = None,
    version: int | None = None,
    traffic_share: float | None = None,
) -> EndpointDefinition:
    """`current` with the given changes. Going to production (or live) drops the candidate;
    settings not given are kept from a current candidate when they still apply."""
    revised = EndpointDefinition(
        name=current.name,
        model_name=current.model_name if model is None else model,
        allowed_teams=current.allowed_teams if teams is None else _teams(teams),
        rate_limit_per_minute=current.rate_limit_per_minute if rate_limit is None else rate_limit,
        stage=current.stage,
        mode=current.mode,
        candidate_version=current.candidate_version,
        traffic_share=current.traffic_share,
    )
    if all(v is None for v in (stage, mode, version, traffic_share)):
        return revised
    if stage == PRODUCTION or mode == LIVE:
        return replace(
            revised,
            stage=stage or PRODUCTION,
            mode=mode or LIVE,
            candidate_version=version,
            traffic_share=traffic_share,
        )
    was = current if current.stage == CANDIDATE else None
    chosen_mode = mode or (was.mode if was else "")
    same_mode = was is not None and chosen_mode == was.mode
    return _defaults(
        replace(
            revised,
            stage=stage or CANDIDATE,
            mode=chosen_mode,
            candidate_version=version if version is not None or not was else was.candidate_version,
            traffic_share=(
                traffic_share
                if traffic_share is not None or not same_mode or was is None
                else was.traffic_share
            ),
        )
    )


def _defaults(definition: EndpointDefinition) -> EndpointDefinition:
    """A shadow mirrors every request unless a share says otherwise."""
    if definition.mode == SHADOW and definition.traffic_share is None:
        return replace(definition, traffic_share=1.0)
    return definition


def shape_problems(definition: EndpointDefinition) -> list[str]:
    """What is wrong with the settings themselves, whatever governance.yaml and the store say."""
    d = definition
    problems: list[str] = []
    if not ENDPOINT_NAME.fullmatch(d.name):
        problems.append(
            f"endpoint name {d.name!r} is not a URL name: use 1-63 lower-case letters, digits "
            "and hyphens, starting with a letter (e.g. credit-default)"
        )
    if not d.model_name:
        problems.append("no model given: name a model declared in governance.yaml (--model)")
    problems.extend(_serving_problems(d))
    if not d.allowed_teams:
        problems.append("no consumer team given: list the teams allowed to call it (--teams a,b)")
    problems.extend(
        f"team name {t!r} is not a team name (lower-case letters, digits, underscores)"
        for t in d.allowed_teams
        if not TEAM_NAME.fullmatch(t)
    )
    if not 1 <= d.rate_limit_per_minute <= MAX_RATE_LIMIT:
        problems.append(
            f"rate limit {d.rate_limit_per_minute} is out of range: give requests per minute "
            f"per consumer team, from 1 to {MAX_RATE_LIMIT:,} (--rate-limit)"
        )
    return problems


def _serving_problems(d: EndpointDefinition) -> list[str]:
    if d.stage not in STAGES:
        return [f"stage {d.stage!r} is not one of {', '.join(STAGES)}"]
    if d.stage == PRODUCTION:
        problems = [] if d.mode == LIVE else [f"a production endpoint is live, not {d.mode}"]
        if d.candidate_version is not None:
            problems.append(
                "a production endpoint serves the version in production: --version names a "
                "candidate, which needs --mode canary or shadow"
            )
        if d.traffic_share is not None:
            problems.append("--traffic-share applies to canary and shadow endpoints only")
        return problems
    problems = []
    if d.mode not in (CANARY, SHADOW):
        problems.append(
            "a candidate endpoint needs --mode canary or shadow: live traffic goes only to the "
            "version in production"
        )
    if d.candidate_version is None:
        problems.append("a canary or shadow endpoint needs the candidate's --version")
    elif not 1 <= d.candidate_version <= MAX_VERSION:
        problems.append(f"version {d.candidate_version} is not a version number (1 or more)")
    share = d.traffic_share
    if d.mode == CANARY and (share is None or not math.isfinite(share) or not 0 < share < 1):
        problems.append(
            "a canary needs --traffic-share between 0 and 1 (exclusive), the share of requests "
            f"the candidate answers, e.g. 0.1; got {share}"
        )
    if d.mode == SHADOW and share is not None and (not math.isfinite(share) or not 0 < share <= 1):
        problems.append(
            f"a shadow's --traffic-share is the share of requests mirrored, in (0, 1]; got {share}"
        )
    return problems


def reference_problems(
    connection: sa.Connection, config: GovernanceConfig, definition: EndpointDefinition
) -> list[str]:
    """What the settings name that governance.yaml or the store does not hold."""
    d = definition
    problems: list[str] = []
    models = [m.name for m in config.models]
    if d.model_name not in models:
        problems.append(
            f"model {d.model_name!r} is not declared in governance.yaml (declared: "
            f"{', '.join(models)}); declare it under models: first"
        )
    teams = [t.name for t in config.teams]
    unknown = [t for t in d.allowed_teams if t not in teams]
    if unknown:
        problems.append(
            f"team(s) {', '.join(unknown)} are not declared in governance.yaml (declared: "
            f"{', '.join(teams)}); declare them under teams: or fix --teams"
        )
    if d.stage == CANDIDATE and d.candidate_version is not None and d.model_name in models:
        problems.extend(_candidate_problems(connection, d.model_name, d.candidate_version))
    return problems


def _candidate_problems(connection: sa.Connection, model: str, version: int) -> list[str]:
    if not 1 <= version <= MAX_VERSION:
        return []  # a shape problem, already reported
    row = approval_records.version_row(connection, model, version)
    if row is None:
        listed = approval_records.registered_versions(connection, model)
        known = ", ".join(f"v{v}" for v in listed) or "none yet"
        return [
            f"{model} v{version} is not registered (registered versions: {known}); a canary or "
            "shadow serves a registered candidate"
        ]
    problem = approval_records.version_problem(connection, row)
    if problem is not None:
        return [f"{model} v{version} cannot be trusted: {problem}; run `governance audit verify`"]
    return []
