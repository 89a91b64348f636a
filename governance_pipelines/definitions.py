"""The Dagster code location: `dagster dev` (via workspace.yaml) loads `defs` from here."""

from __future__ import annotations

import dagster as dg

from governance_pipelines.config import load_config
from governance_pipelines.orchestration.definitions_builder import build_definitions


@dg.definitions
def defs() -> dg.Definitions:
    """Built when the code location loads, from GOVERNANCE_CONFIG or ./governance.yaml."""
    return build_definitions(load_config())
