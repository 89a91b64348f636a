"""The catalog's records: what a reader of the model service catalog needs about one model.

The catalog is read by people who did not build the model (consumers, risk, audit), so an
entry carries the facts they ask first — who owns it, which version serves production, did
it pass its gates, where is its card and the exact commit — gathered from the store by the
orchestration layer and handed here as plain data. Every record has a ``to_dict`` that is
JSON-safe (no NaN, no Decimal, no datetime) because the same dicts become ``catalog.json``
and are embedded into the static index page, and a ``from_dict`` so consumers of
``catalog.json`` get the records back.

Links are validated on construction: a ``card_href`` of ``javascript:...`` would otherwise
become a clickable script on a page the whole organisation opens.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from governance_pipelines.catalog.scm import redact_credentials

__all__ = [
    "GATE_STATUSES",
    "MODEL_NAME_PATTERN",
    "CatalogEntryError",
    "CatalogField",
    "CatalogModel",
    "CatalogVersion",
    "json_safe",
]

MODEL_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
GATE_STATUSES = ("passed", "failed", "pending")
PRODUCTION = "production"


class CatalogEntryError(ValueError):
    """A catalog record that would render a wrong or unsafe page; the message names the field."""


def json_safe(value: Any) -> Any:
    """``value`` as plain JSON types, because the catalog is embedded in pages and files.

    Non-finite floats become None (JSON has no NaN, and ``JSON.parse`` rejects it), Decimals
    become strings so amounts keep every digit, dates become ISO strings, and sets are
    sorted so the output is the same bytes every run.
    """
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return str(value) if value.is_finite() else None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, set | frozenset):
        return sorted((json_safe(item) for item in value), key=str)
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    return str(value)


def _check_http_url(value: str | None, where: str) -> None:
    """Only http(s) links are allowed where a page puts a URL into an ``href``."""
    if value is None:
        return
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise CatalogEntryError(
            f"{where}: expected an absolute http(s) URL, got {value!r}; "
            "leave it None when there is no link"
        )
    if parts.username or parts.password:
        raise CatalogEntryError(f"{where}: the URL carries credentials; pass it without them")


def _check_card_href(value: str | None, where: str) -> None:
    """A card link is an http(s) URL or a path inside the catalog folder, nothing else."""
    if value is None:
        return
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or value.startswith(("/", "\\")):
        if parts.scheme in ("http", "https") and parts.netloc:
            return
        raise CatalogEntryError(
            f"{where}: expected an absolute http(s) URL or a path relative to the catalog "
            f"root (such as 'cards/credit_default/v3.html'), got {value!r}"
        )
    if not value.strip():
        raise CatalogEntryError(f"{where}: empty card link; use None when there is no card")


@dataclass(frozen=True)
class CatalogField:
    """One input or output column of a model's interface, with its validation rules."""

    name: str
    dtype: str | None
    rules: dict[str, Any] = field(default_factory=dict)
    description: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "dtype": self.dtype,
            "rules": json_safe(self.rules),
            "description": self.description,
        }

    @classmethod
    def from_dict(cls, record: Mapping[str, Any]) -> CatalogField:
        return cls(
            name=str(record["name"]),
            dtype=record.get("dtype"),
            rules=dict(record.get("rules") or {}),
            description=record.get("description"),
        )


@dataclass(frozen=True)
class CatalogVersion:
    """One registered version: where it stands, whether it passed its gates, where it came from.

    ``commit`` and ``repository_url`` may be ``"unknown"`` (a version trained outside a
    checkout); ``scm_url`` is then None and the pages say so instead of linking nowhere.
    """

    version: int
    stage: str
    gate_status: str
    created_at: str
    metric: str | None
    metric_value: float | None
    artifact_sha256: str
    commit: str = "unknown"
    repository_url: str = "unknown"
    scm_url: str | None = None
    card_href: str | None = None

    def __post_init__(self) -> None:
        where = f"CatalogVersion {self.version}"
        # The record never holds a credential, so no page or file made from it can leak one.
        object.__setattr__(self, "repository_url", redact_credentials(self.repository_url))
        if self.gate_status not in GATE_STATUSES:
            raise CatalogEntryError(
                f"{where}: gate_status must be one of {', '.join(GATE_STATUSES)}, "
                f"got {self.gate_status!r}"
            )
        _check_http_url(self.scm_url, f"{where}: scm_url")
        _check_card_href(self.card_href, f"{where}: card_href")

    @property
    def card_is_relative(self) -> bool:
        """A relative card lives in the catalog folder; pages one level down need ``../``."""
        return self.card_href is not None and not urlsplit(self.card_href).scheme

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "stage": self.stage,
            "gate_status": self.gate_status,
            "created_at": self.created_at,
            "metric": self.metric,
            "metric_value": json_safe(self.metric_value),
            "artifact_sha256": self.artifact_sha256,
            "commit": self.commit,
            "repository_url": self.repository_url,
            "scm_url": self.scm_url,
            "card_href": self.card_href,
        }

    @classmethod
    def from_dict(cls, record: Mapping[str, Any]) -> CatalogVersion:
        value = record.get("metric_value")
        return cls(
            version=int(record["version"]),
            stage=str(record["stage"]),
            gate_status=str(record["gate_status"]),
            created_at=str(record["created_at"]),
            metric=record.get("metric"),
            metric_value=None if value is None else float(value),
            artifact_sha256=str(record["artifact_sha256"]),
            commit=str(record.get("commit") or "unknown"),
            repository_url=str(record.get("repository_url") or "unknown"),
            scm_url=record.get("scm_url"),
            card_href=record.get("card_href"),
        )


@dataclass(frozen=True)
class CatalogModel:
    """Everything the catalog shows about one model, across all its versions."""

    name: str
    description: str
    owner: str
    team: str
    labels: dict[str, str]
    categories: list[str]
    risk_tier: str | None
    task: str
    inputs: list[CatalogField] = field(default_factory=list)
    outputs: list[CatalogField] = field(default_factory=list)
    versions: list[CatalogVersion] = field(default_factory=list)
    sample_request: dict[str, Any] | None = None
    sample_response: dict[str, Any] | None = None
    usage: dict[str, Any] = field(default_factory=dict)
    cost: dict[str, Any] = field(default_factory=dict)
    open_alerts: list[dict[str, Any]] = field(default_factory=list)
    dagster_asset_url: str | None = None

    def __post_init__(self) -> None:
        # The name becomes a file name and a URL path segment: only safe identifiers.
        if not MODEL_NAME_PATTERN.fullmatch(self.name):
            raise CatalogEntryError(
                f"CatalogModel name {self.name!r} must match {MODEL_NAME_PATTERN.pattern} "
                "(lower case letters, digits and underscores, starting with a letter)"
            )
        _check_http_url(self.dagster_asset_url, f"CatalogModel {self.name}: dagster_asset_url")
        numbers = [v.version for v in self.versions]
        if len(numbers) != len(set(numbers)):
            raise CatalogEntryError(
                f"CatalogModel {self.name}: versions repeat a version number {sorted(numbers)}"
            )

    @property
    def latest_version(self) -> CatalogVersion | None:
        return max(self.versions, key=lambda v: v.version, default=None)

    @property
    def production_version(self) -> CatalogVersion | None:
        """The newest version in production (a rollout can briefly have two)."""
        serving = [v for v in self.versions if v.stage.lower() == PRODUCTION]
        return max(serving, key=lambda v: v.version, default=None)

    @property
    def stages(self) -> set[str]:
        return {v.stage for v in self.versions}

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "owner": self.owner,
            "team": self.team,
            "labels": {str(k): str(v) for k, v in sorted(self.labels.items())},
            "categories": list(self.categories),
            "risk_tier": self.risk_tier,
            "task": self.task,
            "inputs": [f.to_dict() for f in self.inputs],
            "outputs": [f.to_dict() for f in self.outputs],
            "versions": [v.to_dict() for v in self.versions],
            "sample_request": json_safe(self.sample_request),
            "sample_response": json_safe(self.sample_response),
            "usage": json_safe(self.usage),
            "cost": json_safe(self.cost),
            "open_alerts": json_safe(self.open_alerts),
            "dagster_asset_url": self.dagster_asset_url,
        }

    @classmethod
    def from_dict(cls, record: Mapping[str, Any]) -> CatalogModel:
        return cls(
            name=str(record["name"]),
            description=str(record.get("description") or ""),
            owner=str(record["owner"]),
            team=str(record["team"]),
            labels={str(k): str(v) for k, v in (record.get("labels") or {}).items()},
            categories=[str(c) for c in record.get("categories") or []],
            risk_tier=record.get("risk_tier"),
            task=str(record.get("task") or "unknown"),
            inputs=[CatalogField.from_dict(f) for f in record.get("inputs") or []],
            outputs=[CatalogField.from_dict(f) for f in record.get("outputs") or []],
            versions=[CatalogVersion.from_dict(v) for v in record.get("versions") or []],
            sample_request=record.get("sample_request"),
            sample_response=record.get("sample_response"),
            usage=dict(record.get("usage") or {}),
            cost=dict(record.get("cost") or {}),
            open_alerts=[dict(a) for a in record.get("open_alerts") or []],
            dagster_asset_url=record.get("dagster_asset_url"),
        )
