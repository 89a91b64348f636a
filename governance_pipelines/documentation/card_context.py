"""The template context: :class:`ModelCardInputs` normalised into the shape templates use.

Every optional value is present (as None or empty) because templates run under
``StrictUndefined``; the templates stay free of data-cleaning logic, and this module is
the one place that decides how a record's loose JSON becomes rows, tables and badges.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from governance_pipelines.documentation.algorithms import (
    algorithm_display_name,
    explain_algorithm,
    resolve_task,
)
from governance_pipelines.documentation.card_filters import param_value
from governance_pipelines.documentation.card_inputs import ModelCardInputs, text_or_none

__all__ = ["card_context"]

_APPROVAL_KEYS = ("user", "role", "decision", "at", "note")
_STAGE_KEYS = ("stage", "at", "by", "note")


def card_context(
    inputs: ModelCardInputs,
    gaps: list[str],
    figures: dict[str, dict[str, Any]],
    figures_note: str | None,
) -> dict[str, Any]:
    """Everything the templates show, keyed by card section.

    The larger sections are built by one helper each, so a template change points at the
    one place that shapes that section's data.
    """
    return {
        "card": _overview(inputs),
        "algorithm": _algorithm(inputs),
        "features": _features(inputs.features),
        "customisations": _customisations(inputs.customisations),
        "customisations_stated": inputs.customisations is not None,
        "reproduce": {
            "command": text_or_none(inputs.reproduce_command),
            "source": _source(inputs.source),
            "environment": _environment_info(inputs.environment),
        },
        "examples": {
            "training": _table(inputs.training_examples),
            "request": _json_block(inputs.prediction_request),
            "response": _json_block(inputs.prediction_response),
        },
        "performance": _performance(inputs),
        "validation": _validation(inputs.validation_results),
        "fairness": {
            "table": _table(inputs.fairness),
            "disparities": _disparities(inputs.fairness),
        },
        "importances": _importances(inputs.feature_importances),
        "figures": figures,
        "figures_note": figures_note,
        "data": {
            "snapshot": _snapshot(inputs.data_snapshot),
            "lineage": [_lineage_item(item) for item in inputs.lineage],
        },
        "governance": _governance(inputs.approvals, inputs.stage_history),
        "gaps": gaps,
    }


def _overview(inputs: ModelCardInputs) -> dict[str, Any]:
    """The header block: who owns the model, why it exists, and where it stands now."""
    status = _status(inputs)
    return {
        "model_name": inputs.model_name,
        "version": inputs.version,
        "owner": text_or_none(inputs.owner),
        "team": text_or_none(inputs.team),
        "status": status,
        "status_tone": _status_tone(status),
        "description": text_or_none(inputs.description),
        "business_context": text_or_none(inputs.business_context),
        "business_justification": text_or_none(inputs.business_justification),
        "labels": [{"key": str(k), "value": text_or_none(v)} for k, v in inputs.labels.items()],
        "generated_at": text_or_none(inputs.generated_at),
    }


def _status(inputs: ModelCardInputs) -> str:
    """The declared status, else the latest stage: a badge is never blank, even for old records."""
    status = text_or_none(inputs.status)
    if status is None and inputs.stage_history:
        status = text_or_none(inputs.stage_history[-1].get("stage"))
    return status or "unregistered"


def _algorithm(inputs: ModelCardInputs) -> dict[str, Any]:
    """The algorithm section; the explanation says whether it is the built-in default so the
    card can tell a reader that nobody wrote one for this model."""
    task = resolve_task(inputs)
    explanation, explanation_is_default = explain_algorithm(inputs, task)
    return {
        "name": algorithm_display_name(inputs),
        "estimator_class": text_or_none(inputs.estimator_class),
        "task": task,
        "explanation": explanation,
        "explanation_is_default": explanation_is_default,
        "parameters": [
            {"name": str(k), "value": param_value(v)} for k, v in sorted(inputs.parameters.items())
        ],
    }


def _features(features: Sequence[Mapping[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Features split by role, because the card lists what goes in apart from what comes out."""
    rows = [
        {
            "name": str(f["name"]),
            "dtype": text_or_none(f.get("dtype")),
            "description": text_or_none(f.get("description")),
            "role": f.get("role", "input"),
        }
        for f in features
    ]
    return {
        "inputs": [f for f in rows if f["role"] == "input"],
        "outputs": [f for f in rows if f["role"] == "output"],
        "all": rows,
    }


def _governance(
    approvals: Sequence[Mapping[str, Any]], stages: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """Approvals and stages with every key present (templates run under ``StrictUndefined``)."""
    approval_rows = [{k: text_or_none(a.get(k)) for k in _APPROVAL_KEYS} for a in approvals]
    return {
        "approvals": approval_rows,
        "stages": [{k: text_or_none(s.get(k)) for k in _STAGE_KEYS} for s in stages],
        "latest_decision": approval_rows[-1]["decision"] if approval_rows else None,
    }


def _status_tone(status: str) -> str:
    """Colour family for the status badge; unknown stages are neutral."""
    lowered = status.lower()
    if lowered in ("production", "prod", "live", "approved", "deployed"):
        return "good"
    if lowered in ("staging", "canary", "shadow", "pending", "pending_approval", "review"):
        return "warn"
    if lowered in ("rejected", "blocked", "failed", "revoked"):
        return "bad"
    if lowered in ("archived", "retired", "deprecated", "rolled_back", "unregistered"):
        return "muted"
    return "info"


def _customisations(customisations: str | list[str] | None) -> list[str]:
    if customisations is None:
        return []
    if isinstance(customisations, str):
        return [customisations] if customisations.strip() else []
    return [str(c) for c in customisations]


def _performance(inputs: ModelCardInputs) -> dict[str, Any]:
    """Metric rows; the primary metric carries the threshold and whether it is met."""
    metric_rows = []
    primary = None
    for name, value in inputs.metrics.items():
        row = {"name": name, "value": value, "primary": name == inputs.primary_metric}
        row["threshold"] = inputs.metric_threshold if row["primary"] else None
        row["passed"] = (
            _meets(value, inputs.metric_threshold, inputs.higher_is_better)
            if row["threshold"] is not None
            else None
        )
        metric_rows.append(row)
        if row["primary"]:
            primary = row
    return {
        "metrics": metric_rows,
        "primary": primary,
        "higher_is_better": inputs.higher_is_better,
    }


def _meets(value: Any, threshold: float | None, higher_is_better: bool) -> bool | None:
    if threshold is None or not isinstance(value, int | float) or math.isnan(value):
        return None
    return value >= threshold if higher_is_better else value <= threshold


def _validation(results: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    checks = [
        {
            "check": str(r["check"]),
            "passed": r.get("passed"),
            "summary": text_or_none(r.get("summary")),
        }
        for r in results
    ]
    summary = {
        "total": len(checks),
        "passed": sum(1 for c in checks if c["passed"] is True),
        "failed": sum(1 for c in checks if c["passed"] is False),
        "not_run": sum(1 for c in checks if c["passed"] is None),
    }
    return {"checks": checks, "summary": summary}


def _importances(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Feature importances as floats, most important first."""
    return sorted(
        (
            {
                "feature": str(r["feature"]),
                "importance": float(r["importance"]),
                "std": None if r.get("std") is None else float(r["std"]),
            }
            for r in rows
        ),
        key=lambda r: r["importance"],
        reverse=True,
    )


def _json_block(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return value
    return json.dumps(value, indent=2, sort_keys=False, default=str)


def _table(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """Rows of dicts as columns (union of keys, first-seen order) and aligned cells."""
    if not rows:
        return None
    columns: list[str] = []
    for row in rows:
        for key in row:
            if key not in columns:
                columns.append(key)
    numeric = {
        c: all(isinstance(r.get(c), int | float) or r.get(c) is None for r in rows)
        and any(isinstance(r.get(c), int | float) for r in rows)
        for c in columns
    }
    rates = {
        c: numeric[c]
        and all(
            isinstance(r.get(c), float) and 0.0 <= r[c] <= 1.0 for r in rows if r.get(c) is not None
        )
        for c in columns
    }
    return {
        "columns": [{"name": c, "numeric": numeric[c], "rate": rates[c]} for c in columns],
        "rows": [[row.get(c) for c in columns] for row in rows],
    }


def _disparities(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Lowest / highest group for every rate column, and their ratio, per attribute.

    Why: a reader should not have to eyeball a table to see that one group gets half the
    approval rate of another. Ratios below 0.8 are flagged, after the "four-fifths rule"
    commonly used as a first screen for disparate impact; it is a screen, not a verdict.
    Groups are only compared within one sensitive attribute, and groups the assessment
    left out (too small to judge) are not compared at all.
    """
    compared = [r for r in rows if r.get("included", True) not in (False, "no")]
    by_attribute: dict[Any, list[Mapping[str, Any]]] = {}
    for row in compared:
        by_attribute.setdefault(row.get("attribute"), []).append(row)
    out = []
    for attribute, group_rows in by_attribute.items():
        out.extend(_attribute_disparities(attribute, group_rows))
    return out


def _attribute_disparities(
    attribute: Any, rows: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    table = _table(rows)
    if table is None or len(rows) < 2:
        return []
    label_column = "group" if any("group" in r for r in rows) else None
    if label_column is None:
        label_column = next(
            (c["name"] for c in table["columns"] if not c["numeric"] and c["name"] != "attribute"),
            None,
        )
    out = []
    for column in table["columns"]:
        if not column["rate"]:
            continue
        name = column["name"]
        present = [r for r in rows if r.get(name) is not None]
        if len(present) < 2:
            continue
        low = min(present, key=lambda r: r[name])
        high = max(present, key=lambda r: r[name])
        ratio = low[name] / high[name] if high[name] else None
        out.append(
            {
                "metric": name if attribute is None else f"{name} by {attribute}",
                "lowest_group": _group_label(low, label_column),
                "lowest": low[name],
                "highest_group": _group_label(high, label_column),
                "highest": high[name],
                "ratio": ratio,
                "flagged": ratio is not None and ratio < 0.8,
            }
        )
    return out


def _group_label(row: Mapping[str, Any], label_column: str | None) -> str:
    if label_column is None:
        return "?"
    return str(row.get(label_column))


def _snapshot(snapshot: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not snapshot:
        return None
    columns = snapshot.get("columns")
    column_names = [str(c) for c in columns] if isinstance(columns, list | tuple) else []
    column_count = len(column_names) if column_names else columns
    return {
        "id": text_or_none(snapshot.get("id")),
        "sha256": text_or_none(snapshot.get("sha256")),
        "rows": snapshot.get("rows"),
        "columns": column_count,
        "column_names": column_names,
        "created_at": text_or_none(snapshot.get("created_at")),
        "uri": text_or_none(snapshot.get("uri")),
    }


def _lineage_item(item: Mapping[str, Any] | str) -> dict[str, Any]:
    if isinstance(item, str):
        return {"name": item, "kind": None, "ref": None}
    return {
        "name": str(item.get("name") or item.get("ref") or "?"),
        "kind": text_or_none(item.get("kind")),
        "ref": text_or_none(item.get("ref") or item.get("uri") or item.get("sha256")),
    }


def _source(source: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not source:
        return None
    commit = text_or_none(source.get("commit"))
    url = text_or_none(source.get("repository_url"))
    commit_url = None
    if commit and url and url.startswith("https://"):
        commit_url = f"{url.removesuffix('.git').rstrip('/')}/commit/{commit}"
    return {
        "commit": commit,
        "repository_url": url,
        "commit_url": commit_url,
        "branch": text_or_none(source.get("branch")),
        "dirty": source.get("dirty"),
    }


def _environment_info(env: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not env:
        return None
    packages = env.get("packages") or {}
    package_rows: list[dict[str, str | None]]
    if isinstance(packages, Mapping):
        package_rows = [{"name": str(k), "version": str(v)} for k, v in sorted(packages.items())]
    else:
        package_rows = [{"name": str(p), "version": None} for p in packages]
    return {
        "python": text_or_none(env.get("python")),
        "image": text_or_none(env.get("image")),
        "lockfile": text_or_none(env.get("lockfile")),
        "packages": package_rows,
    }
