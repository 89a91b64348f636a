"""The `governance` command.

Sub-commands live in sibling modules and are imported only when invoked, so that
`governance --help` and `governance drift` never pay for importing Dagster.
"""

from __future__ import annotations

import importlib

import click

# command name -> ("module:attribute" of the click command, one-line help for --help)
_COMMANDS: dict[str, tuple[str, str]] = {
    "audit": (
        "governance_pipelines.cli.audit:audit",
        "Verify and read the tamper-evident audit log.",
    ),
    "costs": (
        "governance_pipelines.cli.costs:costs",
        "Showback and chargeback of a month, reconciled to the cent.",
    ),
    "serve": (
        "governance_pipelines.cli.serve:serve",
        "Serve the endpoints: token auth, validation, logging.",
    ),
    "usage": (
        "governance_pipelines.cli.usage:usage",
        "Usage per model, version, consumer team or day; adoption.",
    ),
    "config": ("governance_pipelines.cli.config:config", "Check a governance.yaml file."),
    "db": ("governance_pipelines.cli.db:db", "Manage the governance store's schema."),
    "demo": (
        "governance_pipelines.cli.demo:demo",
        "Run the whole governance graph on demo models.",
    ),
    "drift": ("governance_pipelines.cli.drift:drift", "Compare two data files for drift."),
    "endpoints": (
        "governance_pipelines.cli.endpoints:endpoints",
        "Create, change, delete and list serving endpoints.",
    ),
    "shadow": (
        "governance_pipelines.cli.shadow:shadow",
        "Compare a shadow endpoint's candidate with production.",
    ),
    "tokens": (
        "governance_pipelines.cli.endpoints:tokens",
        "Issue, list and revoke API tokens for the gateway.",
    ),
    "models": (
        "governance_pipelines.cli.approvals:models",
        "List models and versions; export a verified version.",
    ),
    "log": (
        "governance_pipelines.cli.log_ingest:log",
        "Append requests to the inference log from a file.",
    ),
    "labels": (
        "governance_pipelines.cli.log_ingest:labels",
        "Append late ground truth (labels) from a file.",
    ),
    "approve": (
        "governance_pipelines.cli.approvals:approve",
        "Approve (or reject) a model version.",
    ),
    "promote": ("governance_pipelines.cli.approvals:promote", "Move a model version to a stage."),
    "history": (
        "governance_pipelines.cli.approvals:history",
        "Which version was in which stage, when, and why.",
    ),
    "metrics": (
        "governance_pipelines.cli.metrics:metrics",
        "Print governance metrics for Prometheus.",
    ),
    "reproduce": (
        "governance_pipelines.cli.development:reproduce",
        "Retrain a version from its record and compare.",
    ),
    "abtest": (
        "governance_pipelines.cli.development:abtest",
        "Judge an online A/B test of two versions.",
    ),
    "alerts": (
        "governance_pipelines.cli.alerts:alerts",
        "List alerts and their delivery state; resend failed ones.",
    ),
}


class _LazyGroup(click.Group):
    """A click group whose sub-commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(_COMMANDS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in _COMMANDS:
            module_name, attribute = _COMMANDS[cmd_name][0].split(":")
            return getattr(importlib.import_module(module_name), attribute)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, _COMMANDS[name][1]) for name in sorted(_COMMANDS)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """ML governance control plane: snapshots, checks, audits and monitoring on Dagster.

    The store is SQLite under GOVERNANCE_HOME (default ./.governance) unless
    GOVERNANCE_DATABASE_URL names another database; the config file is GOVERNANCE_CONFIG
    (default ./governance.yaml).
    """


if __name__ == "__main__":
    main()
