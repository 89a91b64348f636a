"""The Dagster code location: `dagster dev` (via workspace.yaml) loads `defs` from here."""

from __future__ import annotations

import dagster as dg

from governance_pipelines.config import resolve_config_path
from governance_pipelines.development.declarations import load_checked_config
from governance_pipelines.orchestration.definitions_builder import build_definitions


@dg.definitions
def defs() -> dg.Definitions:
    """Built when the code location loads, from the file every `governance` command reads.

    Without governance.yaml or GOVERNANCE_CONFIG, the packaged demo's models are shown (and
    the log says so), so a fresh clone's `dagster dev` opens on the graph `governance demo` ran.
    """
    return build_definitions(load_checked_config(resolve_config_path()))
