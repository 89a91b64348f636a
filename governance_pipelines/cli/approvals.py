"""`governance models | approve | promote | history`: the maker–checker workflow from a shell.

Dagster's open-source UI has no authentication, so approving and promoting happen here,
through `governance_pipelines.security.approvals`, which enforces the roles declared in
governance.yaml and audits every attempt. Heavy imports stay inside the commands.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any, TypeVar

import click

from governance_pipelines.cli._common import config_option, open_store, store_options
from governance_pipelines.cli._text import shown, shown_name
from governance_pipelines.cli.model_export import export

if TYPE_CHECKING:
    from governance_pipelines.config import GovernanceConfig
    from governance_pipelines.security.promotion_state import Approval, CheckGate, StageTransition
    from governance_pipelines.store import GovernanceStore

F = TypeVar("F", bound=Callable[..., Any])
_STAGES = ("staging", "production", "archived")  # = approvals.STAGES, kept import-free


class _Version(click.ParamType):
    """A version number, written `3` or `v3`."""

    name = "VERSION"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        text = str(value).strip().lower().removeprefix("v")
        if not text.isdigit() or int(text) < 1:
            self.fail(f"expected a version number like 3 or v3, got {value!r}", param, ctx)
        return int(text)


@contextmanager
def _clean_errors() -> Iterator[None]:
    """Refusals and bad input become `Error: <message>` and exit 1, never a traceback."""
    from governance_pipelines.config import ConfigError
    from governance_pipelines.security.approvals import PromotionBlocked
    from governance_pipelines.security.rbac import PermissionDenied
    from governance_pipelines.store import StoreError

    try:
        yield
    except (PermissionDenied, PromotionBlocked, StoreError, ConfigError, ValueError) as error:
        raise click.ClickException(str(error)) from None
    except KeyError as error:  # GovernanceConfig.model(): an undeclared model
        raise click.ClickException(str(error.args[0] if error.args else error)) from None


def _load(config_path: str | None) -> GovernanceConfig:
    from governance_pipelines.config import load_config

    return load_config(config_path)


@click.group(invoke_without_command=True)
@click.option("--all", "all_versions", is_flag=True, help="Every version, not only the latest.")
@config_option
@store_options
@click.pass_context
def models(
    ctx: click.Context,
    all_versions: bool,
    config_path: str | None,
    database_url: str | None,
    home: str | None,
) -> None:
    """List models and their versions: stage, checks, required checks passed and approvals.

    REQUIRED counts how many of the checks every version needs for production (metric
    threshold, no leakage, reproducible, explainable, fair) passed in their latest result.
    `governance models export` hands out a version's verified artifact.
    """
    if ctx.invoked_subcommand is not None:
        # --config/--home/--database-url typed before the sub-command apply to it too.
        given = {"config_path": config_path, "database_url": database_url, "home": home}
        ctx.obj = {
            name: value
            for name, value in given.items()
            if ctx.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE
        }
        return
    from governance_pipelines.check_names import REQUIRED_VERSION_CHECKS
    from governance_pipelines.security import promotion_state as state
    from governance_pipelines.store.errors import RecordIntegrityError

    rows: list[tuple[str, ...]] = []
    with _clean_errors():
        config = _load(config_path)
        with open_store(database_url, home) as store:
            for name in _model_names(store, config):
                versions = store.list_model_versions(name)
                if not versions:
                    rows.append((name, "-", "-", "no versions yet", "-", "-"))
                    continue
                stages = state.current_stages(state.stage_timeline(store, name))
                declared = name in {m.name for m in config.models}
                for record in versions if all_versions else versions[-1:]:
                    try:
                        gate = state.blocking_checks_passed(
                            store, name, record.version, required=REQUIRED_VERSION_CHECKS
                        )
                    except RecordIntegrityError:
                        untrusted = "UNTRUSTED: its record failed verification (audit verify)"
                        rows.append((name, f"v{record.version}", "-", untrusted, "-", "-"))
                        continue
                    passed = _required_passed(gate, REQUIRED_VERSION_CHECKS)
                    checks = f"{passed}/{len(REQUIRED_VERSION_CHECKS)} checks"
                    gate = replace(gate, missing=())  # REQUIRED reports the missing ones
                    if declared:
                        status = state.approval_status(store, config, name, record.version)
                        approved = f"{len(status.approvals)}/{status.required}"
                        approved += " (rejected)" if status.rejections else ""
                    else:
                        approved = "not in governance.yaml"
                    stage = stages.get(record.version, "-")
                    version = f"v{record.version}"
                    rows.append((name, version, stage, _gate_text(gate), checks, approved))
    _echo_table(("MODEL", "VERSION", "STAGE", "BLOCKING CHECKS", "REQUIRED", "APPROVALS"), rows)


models.add_command(export)


@click.command()
@click.argument("model")
@click.argument("version", type=_Version())
@click.option("--user", required=True, help="Who approves (a person declared in governance.yaml).")
@click.option("--note", help="Why: what was reviewed. Required with --reject.")
@click.option("--reject", is_flag=True, help="Record a rejection instead of an approval.")
@config_option
@store_options
def approve(
    model: str,
    version: int,
    user: str,
    note: str | None,
    reject: bool,
    config_path: str | None,
    database_url: str | None,
    home: str | None,
) -> None:
    """Approve (or reject) VERSION of MODEL, bound to its artifact digest.

    Needs the model.approve permission; a version's author can never approve it.
    """
    from governance_pipelines.security import approvals as workflow
    from governance_pipelines.security import promotion_state as state

    with _clean_errors():
        config = _load(config_path)
        with open_store(database_url, home) as store:
            decision = state.REJECT if reject else state.APPROVE
            recorded = workflow.approve(store, config, model, version, user, note, decision)
            status = state.approval_status(store, config, model, version)
    verb = "approved" if recorded.decision == state.APPROVE else "rejected"
    click.echo(
        f"{user} {verb} {model} v{version} (artifact sha256 {recorded.artifact_sha256[:12]}…)"
    )
    needed = status.required - len(status.approvals)
    if status.rejections:
        click.echo("this version has a standing rejection and cannot go to production")
    elif needed > 0:
        click.echo(f"approvals: {len(status.approvals)}/{status.required}; {needed} more needed")
    else:
        click.echo(f"approvals: {len(status.approvals)}/{status.required}; enough for production")


@click.command()
@click.argument("model")
@click.argument("version", type=_Version())
@click.option("--stage", type=click.Choice(_STAGES), required=True, help="Target stage.")
@click.option("--user", required=True, help="Who promotes (needs the model.promote permission).")
@click.option("--reason", help="Why, for the history (e.g. 'rollback: v4 drifted').")
@config_option
@store_options
def promote(
    model: str,
    version: int,
    stage: str,
    user: str,
    reason: str | None,
    config_path: str | None,
    database_url: str | None,
    home: str | None,
) -> None:
    """Move VERSION of MODEL to a stage; roll back by promoting an earlier version.

    Production needs every blocking check passed — including each of the required version
    checks (metric threshold, no leakage, reproducible, explainable, fair) — and the
    required approvals.
    """
    from governance_pipelines.security import approvals as workflow

    with _clean_errors():
        config = _load(config_path)
        with open_store(database_url, home) as store:
            # The production rule (the validation gates) is enforced by security itself.
            done = workflow.promote(store, config, model, version, stage, user, reason)
    message = f"{user} promoted {model} v{version} to {stage}"
    if done.archived:
        message += f" ({', '.join(f'v{v}' for v in done.archived)} archived)"
    click.echo(message)


@click.command()
@click.argument("model")
@click.option("--at", "at_text", help="A DATE or DATETIME (ISO 8601, UTC unless an offset).")
@click.option("--stage", type=click.Choice(_STAGES), help="Only this stage [--at: production].")
@store_options
def history(
    model: str, at_text: str | None, stage: str | None, database_url: str | None, home: str | None
) -> None:
    """Which version was in which stage, when, who approved it and why.

    With --at: the version in the stage at that moment (a DATE means the end of that day).
    """
    from governance_pipelines.security import promotion_state as state

    with _clean_errors():
        at, label = _parse_at(at_text) if at_text else (None, "")
        with open_store(database_url, home) as store:
            if not store.list_model_versions(model):
                raise click.ClickException(_unknown_model(store, model))
            timeline = state.stage_timeline(store, model)
            if at is not None:
                stage = stage or "production"
                found = state.version_in_stage_at(store, model, stage, at)
                if found is None:
                    click.echo(_nothing_in_stage(model, stage, label, timeline))
                    return
                click.echo(
                    f"v{found.version.version} was in {stage} {label} "
                    f"({_transition_text(found.transition, found.approvals)})"
                )
                return
            if stage:
                timeline = [t for t in timeline if t.stage == stage]
            if not timeline:
                click.echo(
                    f"{model} has no stage transitions"
                    + (f" to {stage}" if stage else "")
                    + f"; promote a version with `governance promote {model} VERSION --stage …`"
                )
                return
            for transition in timeline:
                approvals: Sequence[Approval] = ()
                if transition.stage == "production":
                    approvals = state.counted_approvals(
                        store, model, transition.version, before=transition.created_at
                    )
                click.echo(
                    f"{transition.created_at:%Y-%m-%d %H:%M:%S}  v{transition.version:<4} "
                    f"→ {transition.stage:<10}  by {transition.user}; "
                    f"{_reason(transition)}{_approvals_text(approvals, transition.stage)}"
                )


# --- formatting -------------------------------------------------------------------------


def _parse_at(text: str) -> tuple[datetime, str]:
    """A date means the end of that day (UTC); a datetime is taken as given (naive = UTC)."""
    text = text.strip()
    try:
        day = date.fromisoformat(text)
    except ValueError:
        pass
    else:
        return datetime.combine(day, time.max, tzinfo=UTC), f"on {day.isoformat()}"
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"--at {text!r} is not a date or datetime; use e.g. 2026-03-01 or 2026-03-01T12:00"
        ) from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment, f"at {moment.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"


def _reason(transition: StageTransition) -> str:
    return f"reason: {transition.reason}" if transition.reason else "no reason given"


def _transition_text(transition: StageTransition, approvals: Sequence[Approval]) -> str:
    verb = "promoted" if transition.stage != "archived" else "archived"
    return (
        f"{verb} {transition.created_at:%Y-%m-%d} by {shown_name(transition.user)}: "
        f"{shown(_reason(transition))}{_approvals_text(approvals, transition.stage)}"
    )


def _approvals_text(approvals: Sequence[Approval], stage: str) -> str:
    if stage != "production":
        return ""
    if not approvals:
        return "; no approvals"
    names = ", ".join(shown_name(a.user) for a in approvals)
    notes = "; ".join(f"{shown_name(a.user)}: {shown(a.note)}" for a in approvals if a.note)
    return f"; approved by {names}" + (f" — {notes}" if notes else "")


def _nothing_in_stage(
    model: str, stage: str, label: str, timeline: Sequence[StageTransition]
) -> str:
    first = next((t for t in timeline if t.stage == stage), None)
    hint = (
        f"first in {stage}: v{first.version} on {first.created_at:%Y-%m-%d}"
        if first
        else f"it has never been in {stage}"
    )
    return f"no version of {model} was in {stage} {label} ({hint})"


def _gate_text(gate: CheckGate) -> str:
    if gate.failed:
        return "FAILED: " + ", ".join(f.name for f in gate.failed)
    if gate.missing:
        return "missing: " + ", ".join(gate.missing)
    if not gate.evaluated:
        return "none evaluated"
    return f"passed ({len(gate.evaluated)})"


def _required_passed(gate: CheckGate, required: Sequence[str]) -> int:
    """How many of `required` have a latest ERROR-severity result that passed."""
    failed = {f.name for f in gate.failed}
    return sum(1 for name in required if name in gate.evaluated and name not in failed)


def _unknown_model(store: GovernanceStore, model: str) -> str:
    """`history nope` must not answer as if `nope` were a model without releases."""
    known = ", ".join(n for n in store.model_names() if store.list_model_versions(n)) or "none yet"
    return (
        f"model {model!r} has no registered versions in this store (models with versions: "
        f"{known}); check the name, --home and GOVERNANCE_DATABASE_URL"
    )


def _model_names(store: GovernanceStore, config: GovernanceConfig) -> list[str]:
    """Declared models first, then any the store knows that governance.yaml no longer lists."""
    declared = [m.name for m in config.models]
    return declared + sorted(set(store.model_names()) - set(declared))


def _echo_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    rows = [[shown(cell) for cell in row] for row in rows]
    widths = [max(len(str(r[i])) for r in (header, *rows)) for i in range(len(header))]
    for row in (header, *rows):
        click.echo(
            "  ".join(
                str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)
            ).rstrip()
        )
