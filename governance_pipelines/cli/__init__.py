"""The `governance` command.

Sub-commands live in sibling modules and are imported only when invoked, so that
`governance --help` and `governance drift` never pay for importing Dagster.
"""

from __future__ import annotations

import importlib

import click

# command name -> "module:attribute" of the click command implementing it
_COMMANDS: dict[str, str] = {
    "drift": "governance_pipelines.cli.drift:drift",
}


class _LazyGroup(click.Group):
    """A click group whose sub-commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(_COMMANDS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in _COMMANDS:
            module_name, attribute = _COMMANDS[cmd_name].split(":")
            return getattr(importlib.import_module(module_name), attribute)
        return super().get_command(ctx, cmd_name)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """ML governance control plane: snapshots, checks, audits and monitoring on Dagster."""


if __name__ == "__main__":
    main()
