"""A small governance file for endpoint and token tests: two teams, an admin, a plain user,
a data scientist, and two models; plus helpers that read what was audited."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from governance_pipelines.config import GovernanceConfig, parse_config
from governance_pipelines.security.endpoint_management import create_endpoint
from governance_pipelines.security.endpoint_rules import define_endpoint
from governance_pipelines.store import GovernanceStore
from governance_pipelines.store.endpoint_records import EndpointRecord
from governance_pipelines.store.schema import access_log

ENDPOINTS_CONFIG_YAML = """
teams: [{name: risk}, {name: web}, {name: mobile}]
people:
  - {name: frank, team: risk, roles: [admin]}
  - {name: alice, team: risk, roles: [data_scientist]}
  - {name: uma, team: web, roles: [user]}
models:
  - name: credit
    owner: alice
    team: risk
    description: Default risk.
    data: {source: {kind: file, path: x.csv}, target: y, features: [a]}
    training: {estimator: {class: sklearn.linear_model.LogisticRegression}, min_metric: 0.5}
  - name: churn
    owner: alice
    team: risk
    description: Churn.
    data: {source: {kind: file, path: x.csv}, target: y, features: [a]}
    training: {estimator: {class: sklearn.linear_model.LogisticRegression}, min_metric: 0.5}
"""
ADMIN, DATA_SCIENTIST, USER = "frank", "alice", "uma"


def endpoints_config() -> GovernanceConfig:
    return parse_config(ENDPOINTS_CONFIG_YAML)


def make_endpoint(
    store: GovernanceStore,
    config: GovernanceConfig,
    name: str = "credit-api",
    *,
    teams: str = "risk,web",
    **options: Any,
) -> EndpointRecord:
    """A production endpoint of `credit` (or per `options`), created by the admin."""
    definition = define_endpoint(
        name,
        model=options.pop("model", "credit"),
        teams=teams,
        rate_limit=options.pop("rate_limit", 600),
        **options,
    )
    return create_endpoint(store, config, definition, ADMIN)


def access_rows(store: GovernanceStore) -> list[sa.Row[Any]]:
    with store.engine.connect() as connection:
        return list(connection.execute(sa.select(access_log).order_by(access_log.c.id)).all())


def last_access(store: GovernanceStore) -> sa.Row[Any]:
    return access_rows(store)[-1]
