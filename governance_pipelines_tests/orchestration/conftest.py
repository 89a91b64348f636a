"""A small governance config over a CSV file, for real Dagster executions."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from governance_pipelines.config import GovernanceConfig, parse_config

CONFIG_TEMPLATE = """
teams: [{{name: risk, slack_channel: "#risk"}}]
people: [{{name: alice, team: risk, roles: [data_scientist], email: alice@example.com}}]
models:
  - name: loans
    owner: alice
    team: risk
    description: Loan default model for tests.
    data:
      source: {{kind: file, path: "{path}"}}
      target: default
      features: [income, region]
      columns:
        income: {{dtype: float, ge: 0}}
        region: {{dtype: str, isin: [north, south]}}
        default: {{dtype: int, isin: [0, 1]}}
    training:
      estimator: {{class: sklearn.linear_model.LogisticRegression}}
      min_metric: 0.6
"""


def loans_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "income": [40_000.0, 52_000.0, 61_000.0, 38_000.0, 75_000.0, 44_000.0],
            "region": ["north", "south", "north", "south", "north", "south"],
            "default": [1, 0, 0, 1, 0, 0],
        }
    )


@pytest.fixture
def loans_config(tmp_path: Path) -> Callable[[pd.DataFrame], GovernanceConfig]:
    """Writes the frame as the model's CSV source and returns the config that reads it."""

    def make(frame: pd.DataFrame | None = None) -> GovernanceConfig:
        path = tmp_path / "loans.csv"
        (loans_frame() if frame is None else frame).to_csv(path, index=False)
        return parse_config(CONFIG_TEMPLATE.format(path=path))

    return make
