"""From `governance.yaml` and the store to catalog records: the facts, never restated by hand.

Every field of a catalog entry is read from where it is governed: versions, stages and gate
status from the registry's bound records, the commit from the version's run record, usage
from the daily counts, cost from the ledger, open alerts from the latest check results.
A catalog that copied these by hand would be wrong by the next promotion.
"""

from __future__ import annotations

import contextlib
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from governance_pipelines import check_names
from governance_pipelines.catalog.entries import CatalogField, CatalogModel, CatalogVersion
from governance_pipelines.catalog.samples import Sample, ensure_sample
from governance_pipelines.catalog.scm import commit_url
from governance_pipelines.config import GovernanceConfig, ModelConfig
from governance_pipelines.development.run_record import RunRecord, RunRecordError
from governance_pipelines.security.promotion_state import (
    blocking_checks_passed,
    current_stages,
    stage_timeline,
)
from governance_pipelines.store import GovernanceStore
from governance_pipelines.store.model_records import ModelVersionRecord

__all__ = ["USAGE_WINDOW_DAYS", "catalog_models", "sample_version"]

USAGE_WINDOW_DAYS = 30
_RULE_KEYS = ("ge", "le", "gt", "lt", "isin", "str_matches", "unique", "nullable")


def catalog_models(
    config: GovernanceConfig, store: GovernanceStore, *, today: date, actor: str
) -> list[CatalogModel]:
    return [_catalog_model(config, store, model, today, actor) for model in config.models]


def sample_version(store: GovernanceStore, model: str) -> int | None:
    """The version a consumer would call: production if any, else the latest."""
    stages = current_stages(stage_timeline(store, model))
    production = [v for v, stage in stages.items() if stage == "production"]
    versions = [v.version for v in store.list_model_versions(model)]
    return max(production) if production else max(versions, default=None)


def _catalog_model(
    config: GovernanceConfig,
    store: GovernanceStore,
    model: ModelConfig,
    today: date,
    actor: str,
) -> CatalogModel:
    registered = store.list_model_versions(model.name)
    stages = current_stages(stage_timeline(store, model.name))
    versions = [
        _catalog_version(config, store, model, r, stages.get(r.version, "registered"))
        for r in registered
    ]
    served = sample_version(store, model.name)
    sample: Sample | None = None
    if served is not None:
        sample = ensure_sample(store, model.name, served, model.training.task, actor=actor)
    return CatalogModel(
        name=model.name,
        description=model.description,
        owner=model.owner,
        team=model.team,
        labels=dict(model.labels),
        categories=list(model.categories),
        risk_tier=model.labels.get("risk_tier"),
        task=model.training.task,
        inputs=_inputs(model, registered[-1] if registered else None),
        outputs=[_output(model)],
        versions=versions,
        sample_request=sample.request if sample else None,
        sample_response=sample.response if sample else None,
        usage=_usage(store, model.name, today),
        cost=_cost(config, store, model.name),
        open_alerts=_open_alerts(store, model.name),
        dagster_asset_url=f"{config.dagster_url.rstrip('/')}/assets/{model.name}/model_version",
    )


def _catalog_version(
    config: GovernanceConfig,
    store: GovernanceStore,
    model: ModelConfig,
    registered: ModelVersionRecord,
    stage: str,
) -> CatalogVersion:
    gate = blocking_checks_passed(
        store, model.name, registered.version, required=check_names.REQUIRED_VERSION_CHECKS
    )
    status = "passed" if gate.passed else "failed" if gate.failed else "pending"
    try:
        record = RunRecord.from_dict(registered.record)
        metric, value = record.evaluation.primary_metric, record.primary_value
        commit = str(record.code.get("commit") or "unknown")
        remote = str(record.code.get("remote_url") or "unknown")
    except RunRecordError:
        metric, value, commit, remote = None, None, "unknown", "unknown"
    return CatalogVersion(
        version=registered.version,
        stage=stage,
        gate_status=status,
        created_at=registered.created_at.isoformat(),
        metric=metric,
        metric_value=value,
        artifact_sha256=registered.artifact_sha256,
        commit=commit,
        repository_url=remote,
        scm_url=commit_url(remote, commit),
        card_href=_card_href(config, store.home, model.name, registered.version),
    )


def _card_href(config: GovernanceConfig, home: Path, model: str, version: int) -> str | None:
    """The published card when documentation_base_url is set, else the rendered file
    beside the catalog folder (both live under the governance home)."""
    relative = f"{model}/v{version}/model_card.html"
    if config.documentation_base_url:
        return f"{config.documentation_base_url}/{relative}"
    if (home / "model_cards" / relative).is_file():
        return f"../model_cards/{relative}"
    return None


def _inputs(model: ModelConfig, latest: ModelVersionRecord | None) -> list[CatalogField]:
    categorical: set[str] = set()
    if latest is not None:
        with contextlib.suppress(RunRecordError):  # a foreign record: types from the config
            categorical = set(RunRecord.from_dict(latest.record).features.categorical)
    fields = []
    for name in model.data.features:
        column = model.data.columns.get(name)
        dtype = column.dtype if column and column.dtype else None
        dtype = dtype or ("category" if name in categorical else "float" if latest else None)
        rules = {}
        if column is not None:
            declared = column.model_dump(exclude_none=True)
            rules = {
                k: declared[k] for k in _RULE_KEYS if k in declared and declared[k] is not False
            }
        fields.append(CatalogField(name, dtype, rules, column.description if column else None))
    return fields


def _output(model: ModelConfig) -> CatalogField:
    if model.training.task == "classification":
        return CatalogField(
            "prediction",
            "float",
            {"ge": 0, "le": 1},
            f"Probability that {model.data.target} is the positive class",
        )
    return CatalogField("prediction", "float", {}, f"Predicted {model.data.target}")


def _usage(store: GovernanceStore, model: str, today: date) -> dict[str, object]:
    start = today - timedelta(days=USAGE_WINDOW_DAYS)
    rows = store.usage(model, start=start, end=today + timedelta(days=1))
    return {
        "period": f"{start} to {today}",
        "requests": sum(int(r["requests"]) for r in rows),
        "errors": sum(int(r["errors"]) for r in rows),
        "consumers": sorted({str(r["consumer_team"]) for r in rows}),
        "days": len({r["day"] for r in rows}),
    }


def _cost(config: GovernanceConfig, store: GovernanceStore, model: str) -> dict[str, object]:
    latest = store.latest_cost_day()
    if latest is None:
        return {}
    start = latest.replace(day=1)
    rows = store.cost_rows(start, latest + timedelta(days=1))
    total = sum((Decimal(r["amount"]) for r in rows if r["model_name"] == model), Decimal(0))
    return {"month": f"{start:%Y-%m}", "total": str(total), "currency": config.costs.currency}


def _open_alerts(store: GovernanceStore, model: str) -> list[dict[str, object]]:
    """Checks whose latest result fails: open until a newer result passes."""
    return [
        {
            "check": r.check_name,
            "severity": r.severity,
            "summary": r.summary,
            "since": r.created_at.isoformat(),
        }
        for r in store.latest_check_results(model)
        if not r.passed
    ]
