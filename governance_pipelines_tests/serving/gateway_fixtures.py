"""A trained, approved and promoted model behind the gateway, for the serving tests.

Two versions of one small model are trained through the real development job; v1 goes to
production, v2 is a registered candidate. Endpoints and tokens are created through the
governed API (`security.endpoint_management`, `security.tokens`), as an admin would.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from governance_pipelines.config import GovernanceConfig, parse_config
from governance_pipelines.orchestration.definitions_builder import (
    DEVELOPMENT_JOB,
    build_definitions,
)
from governance_pipelines.orchestration.resources import GovernanceStoreResource
from governance_pipelines.security.approvals import approve, promote
from governance_pipelines.security.endpoint_management import create_endpoint
from governance_pipelines.security.endpoint_rules import define_endpoint
from governance_pipelines.security.tokens import issue_token
from governance_pipelines.store import GovernanceStore

CONFIG = """
teams: [{name: risk}, {name: lending}, {name: marketing}]
people:
  - {name: alice, team: risk, roles: [data_scientist]}
  - {name: bob, team: risk, roles: [approver]}
  - {name: frank, team: risk, roles: [admin]}
  - {name: uma, team: lending, roles: [user]}
models:
  - name: applicants
    owner: alice
    team: risk
    description: Test model.
    data:
      source:
        kind: python
        callable: governance_pipelines_tests.orchestration.synthetic:applicants
      target: label
      features: [income, debt, region]
      columns:
        region: {dtype: str, isin: [north, south, east]}
        income: {dtype: float, ge: -10, le: 10}
    training:
      estimator: {class: sklearn.linear_model.LogisticRegression, params: {C: %s}}
      min_metric: 0.7
      seed: 1
"""


def gateway_config(c: float = 1.0) -> GovernanceConfig:
    return parse_config(CONFIG % c)


@dataclass(frozen=True)
class Served:
    home: Path
    config: GovernanceConfig
    lending_token: str  # scoped to both endpoints
    narrow_token: str  # lending, scoped to `scorer` only
    marketing_token: str  # marketing, on `marketing-api`


def train_and_serve(home: Path) -> Served:
    """v1 in production, v2 registered; endpoints `scorer` (live), `scorer-canary` (v2 on
    half the traffic), `marketing-api` (live, 2 requests a minute); three tokens."""
    config = gateway_config()
    resource = GovernanceStoreResource(home=str(home))
    with dg.instance_for_test() as instance:
        for c in (1.0, 0.05):  # a second estimator setting registers v2
            definitions = build_definitions(gateway_config(c), governance_store=resource)
            job = definitions.resolve_job_def(DEVELOPMENT_JOB)
            assert job.execute_in_process(instance=instance).success
    store = resource.store
    try:
        approve(store, config, "applicants", 1, "bob", note="ok")
        promote(store, config, "applicants", 1, "production", "frank", reason="first release")
        approve(store, config, "applicants", 2, "bob", note="candidate")
        for definition in (
            define_endpoint("scorer", model="applicants", teams="lending", rate_limit=6000),
            define_endpoint(
                "scorer-canary",
                model="applicants",
                teams="lending",
                rate_limit=6000,
                mode="canary",
                version=2,
                traffic_share=0.5,
            ),
            define_endpoint("marketing-api", model="applicants", teams="marketing", rate_limit=2),
        ):
            create_endpoint(store, config, definition, "frank")
        tokens = [
            issue_token(store, config, team=team, endpoints=scope, expires="30d", user="frank")
            for team, scope in (
                ("lending", "scorer,scorer-canary"),
                ("lending", "scorer"),
                ("marketing", "marketing-api"),
            )
        ]
    finally:
        store.dispose()
    (home / "governance.yaml").write_text(CONFIG % 1.0)
    return Served(home, config, *(t.secret for t in tokens))


def open_store(home: Path) -> GovernanceStore:
    return GovernanceStore.open_existing(None, str(home))
