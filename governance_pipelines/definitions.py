"""The Dagster code location: `dagster dev` (via workspace.yaml) loads `defs` from here."""

from __future__ import annotations

import logging

import dagster as dg

from governance_pipelines.config import PACKAGED_DEMO_CONFIG, config_path_or_demo
from governance_pipelines.development.declarations import load_checked_config
from governance_pipelines.orchestration.definitions_builder import build_definitions


@dg.definitions
def defs() -> dg.Definitions:
    """Built when the code location loads, from GOVERNANCE_CONFIG or ./governance.yaml.

    Without either, the packaged demo's models are shown (and the log says so), so a fresh
    clone's `dagster dev` opens on the same graph `governance demo` ran.
    """
    path = config_path_or_demo()
    if path == PACKAGED_DEMO_CONFIG:
        logging.getLogger(__name__).warning(
            "no governance.yaml here and GOVERNANCE_CONFIG is unset: loading the demo models from %s",
            path,
        )
    return build_definitions(load_checked_config(path))
