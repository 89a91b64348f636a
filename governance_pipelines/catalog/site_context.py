"""The catalog records shaped for the page templates: links resolved, values made readable.

Templates stay declarative when every decision (which card to link, how a relative link is
seen from a model page, what a missing commit says) is made here, in plain Python that the
unit tests reach without parsing HTML.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from governance_pipelines.catalog.entries import CatalogField, CatalogModel, CatalogVersion

__all__ = [
    "MODELS_DIR",
    "NO_RISK_TIER",
    "filter_options",
    "index_entry",
    "model_page_context",
    "model_paths",
]

MODELS_DIR = "models"
# The value of the risk filter that selects models without a risk tier.
NO_RISK_TIER = "(not set)"
_SHORT_SHA = 12


def model_paths(name: str) -> dict[str, str]:
    """Where a model's files live, relative to the catalog root (also used as index links)."""
    return {
        "page": f"{MODELS_DIR}/{name}.html",
        "catalog_info": f"{MODELS_DIR}/{name}/catalog-info.yaml",
        "readme": f"{MODELS_DIR}/{name}/README.md",
    }


def card_href(version: CatalogVersion | None, *, depth: int) -> str | None:
    """The card link as seen from a page ``depth`` folders below the catalog root."""
    if version is None or version.card_href is None:
        return None
    if version.card_is_relative:
        return "../" * depth + version.card_href
    return version.card_href


def _featured_version(model: CatalogModel) -> CatalogVersion | None:
    """The version a reader most likely means: the one serving, else the newest."""
    return model.production_version or model.latest_version


def _version_row(version: CatalogVersion, *, depth: int) -> dict[str, Any]:
    commit_text = None if version.scm_url else version.commit
    if commit_text is not None and commit_text.strip().lower() in ("", "unknown"):
        commit_text = "commit unknown"
    return {
        "version": version.version,
        "stage": version.stage,
        "gate_status": version.gate_status,
        "created_at": version.created_at,
        "metric": version.metric,
        "metric_value": _number(version.metric_value),
        "artifact_sha256": version.artifact_sha256,
        "card_href": card_href(version, depth=depth),
        "scm_url": version.scm_url,
        "commit_short": version.commit[:_SHORT_SHA],
        "commit_text": commit_text,
        "repository_url": version.repository_url,
    }


def _number(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _rules_text(rules: Mapping[str, Any]) -> str:
    """Rules as ``key: value`` pairs with JSON values, so lists and strings read unambiguously."""
    return ", ".join(
        f"{key}: {json.dumps(value, default=str, ensure_ascii=False)}"
        for key, value in rules.items()
    )


def _field_rows(fields: Sequence[CatalogField]) -> list[dict[str, Any]]:
    return [
        {
            "name": f.name,
            "dtype": f.dtype,
            "rules": _rules_text(f.rules),
            "description": f.description,
        }
        for f in fields
    ]


def _pretty_json(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def _display(value: Any) -> str:
    """One figure for a key/value table: lists joined, mappings as JSON."""
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value) or "—"
    if isinstance(value, Mapping):
        return json.dumps(value, ensure_ascii=False, default=str)
    if value is None:
        return "—"
    return str(value)


def _alerts_table(alerts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Alerts as one table whose columns are every key any alert has, in first-seen order."""
    columns: list[str] = []
    for alert in alerts:
        columns.extend(key for key in alert if key not in columns)
    rows = [[_display(alert.get(column)) for column in columns] for alert in alerts]
    return {"columns": columns, "rows": rows}


def _usage_summary(usage: Mapping[str, Any]) -> str | None:
    requests = usage.get("requests")
    if requests is None:
        return None
    errors = usage.get("errors")
    period = usage.get("period")
    text = f"{requests:,} requests" if isinstance(requests, int) else f"{requests} requests"
    if isinstance(errors, int) and isinstance(requests, int) and requests > 0:
        text += f", {errors / requests:.2%} errors"
    return f"{text} ({period})" if period else text


def _cost_summary(cost: Mapping[str, Any]) -> str | None:
    total = cost.get("total")
    if total is None:
        return None
    currency = cost.get("currency") or ""
    month = cost.get("month")
    text = f"{total} {currency}".strip()
    return f"{text} in {month}" if month else text


def _common(model: CatalogModel, *, depth: int) -> dict[str, Any]:
    """What both the index card and the model page show about a model."""
    featured = _featured_version(model)
    latest = model.latest_version
    production = model.production_version
    return {
        "name": model.name,
        "description": model.description,
        "owner": model.owner,
        "team": model.team,
        "labels": sorted(model.labels.items()),
        "categories": list(model.categories),
        "risk_tier": model.risk_tier,
        "task": model.task,
        "stages": sorted(model.stages),
        "latest": None if latest is None else _version_row(latest, depth=depth),
        "production": None if production is None else _version_row(production, depth=depth),
        "card_href": card_href(featured, depth=depth),
        "usage_summary": _usage_summary(model.usage),
        "cost_summary": _cost_summary(model.cost),
        "alert_count": len(model.open_alerts),
        "dagster_asset_url": model.dagster_asset_url,
    }


def index_entry(model: CatalogModel) -> dict[str, Any]:
    """One card of the index page, links relative to the catalog root."""
    return {**_common(model, depth=0), "paths": model_paths(model.name)}


def model_page_context(model: CatalogModel) -> dict[str, Any]:
    """Everything ``models/<name>.html`` shows; links are seen from the ``models/`` folder."""
    versions = sorted(model.versions, key=lambda v: v.version, reverse=True)
    return {
        **_common(model, depth=1),
        "files": {
            "index": "../index.html",
            "catalog_info": f"{model.name}/catalog-info.yaml",
            "readme": f"{model.name}/README.md",
        },
        "inputs": _field_rows(model.inputs),
        "outputs": _field_rows(model.outputs),
        "versions": [_version_row(v, depth=1) for v in versions],
        "sample_request": _pretty_json(model.sample_request),
        "sample_response": _pretty_json(model.sample_response),
        "usage": [(key, _display(value)) for key, value in model.usage.items()],
        "cost": [(key, _display(value)) for key, value in model.cost.items()],
        "alerts": _alerts_table(model.open_alerts),
    }


def filter_options(models: Sequence[CatalogModel]) -> dict[str, list[str]]:
    """The choices of each filter select: only values some model actually has."""
    risks = {m.risk_tier for m in models if m.risk_tier}
    if any(not m.risk_tier for m in models):
        risks.add(NO_RISK_TIER)
    return {
        "label": sorted({f"{k}={v}" for m in models for k, v in m.labels.items()}),
        "team": sorted({m.team for m in models}),
        "stage": sorted({stage for m in models for stage in m.stages}),
        "risk": sorted(risks),
    }
