"""The catalog entry in the formats other catalogs import: Backstage and Hugging Face.

Organisations rarely read a second catalog: the models should show up where services
already live (a Backstage ``catalog-info.yaml``) and where ML people look (the YAML front
matter of a Hugging Face model card). Both formats validate their fields strictly —
Backstage rejects an entity whose name or tag breaks its character rules, and the whole
file with it — so every user-supplied string is sanitised here rather than trusted.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any
from urllib.parse import urljoin, urlsplit

import yaml

from governance_pipelines.catalog.entries import CatalogModel, CatalogVersion
from governance_pipelines.catalog.site_context import model_paths

__all__ = [
    "backstage_lifecycle",
    "backstage_name",
    "backstage_tag",
    "catalog_info",
    "catalog_info_yaml",
    "huggingface_front_matter",
    "huggingface_metadata",
    "pipeline_tag",
]

API_VERSION = "backstage.io/v1alpha1"
ANNOTATION_PREFIX = "governance"
_NAME_MAX = 63
_TAG_MAX = 63
_NAME_INVALID = re.compile(r"[^a-z0-9._-]+")
_NAME_SEPARATORS = re.compile(r"[._-]{2,}")
_TAG_INVALID = re.compile(r"[^a-z0-9:+#]+")
_EXPERIMENTAL_STAGES = ("staging", "candidate")


def backstage_name(text: str) -> str:
    """``text`` as a valid Backstage entity name (``[a-z0-9]+([-_.][a-z0-9]+)*``, ≤63).

    A name that has to be shortened keeps a hash of the original, so two long names that
    share a prefix do not collapse into one entity.
    """
    name = _NAME_INVALID.sub("-", text.strip().lower())
    name = _NAME_SEPARATORS.sub(lambda m: m.group(0)[0], name).strip("._-")
    if len(name) > _NAME_MAX:
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]
        name = f"{name[: _NAME_MAX - 9].rstrip('._-')}-{digest}"
    return name or "unnamed"


def backstage_tag(text: str) -> str | None:
    """``text`` as a Backstage tag (``^[a-z0-9:+#]+(-[a-z0-9:+#]+)*$``, ≤63), or None if empty."""
    tag = _TAG_INVALID.sub("-", text.strip().lower()).strip("-")
    tag = tag[:_TAG_MAX].rstrip("-")
    return tag or None


def _tags(model: CatalogModel) -> list[str]:
    """Labels as ``key-value`` then categories; de-duplicated, order kept for readability."""
    raw = [f"{key}-{value}" for key, value in sorted(model.labels.items())] + list(model.categories)
    tags: list[str] = []
    for text in raw:
        tag = backstage_tag(text)
        if tag is not None and tag not in tags:
            tags.append(tag)
    return tags


def backstage_lifecycle(model: CatalogModel) -> str:
    """Backstage's lifecycle from the stages: serving wins, all-archived is deprecated.

    Anything else (staging, candidates, registered-but-unpromoted, no version yet) is
    ``experimental``: not something a consumer should depend on.
    """
    stages = {stage.lower() for stage in model.stages}
    if "production" in stages:
        return "production"
    if stages & set(_EXPERIMENTAL_STAGES):
        return "experimental"
    if stages and stages == {"archived"}:
        return "deprecated"
    return "experimental"


def _absolute(href: str | None, catalog_url: str | None) -> str | None:
    """An absolute http(s) URL for ``href`` (relative ones resolve against the catalog root)."""
    if href is None:
        return None
    if urlsplit(href).scheme in ("http", "https"):
        return href
    if catalog_url is None:
        return None  # Backstage cannot follow a path into a folder it has never seen
    return urljoin(catalog_url if catalog_url.endswith("/") else f"{catalog_url}/", href)


def _featured(model: CatalogModel) -> CatalogVersion | None:
    return model.production_version or model.latest_version


def _links(model: CatalogModel, catalog_url: str | None) -> list[dict[str, str]]:
    featured = _featured(model)
    candidates = [
        (
            _absolute(featured.card_href if featured else None, catalog_url),
            f"Model card (v{featured.version})" if featured else "Model card",
            "docs",
        ),
        (_absolute(model_paths(model.name)["page"], catalog_url), "Model catalog page", "catalog"),
        (model.dagster_asset_url, "Dagster asset", "dashboard"),
        (featured.scm_url if featured else None, "Training commit", "github"),
    ]
    return [{"url": url, "title": title, "icon": icon} for url, title, icon in candidates if url]


def _annotations(model: CatalogModel) -> dict[str, str]:
    """Facts Backstage plugins can query; values are strings because Backstage requires it."""
    annotations = {
        f"{ANNOTATION_PREFIX}/model-name": model.name,
        f"{ANNOTATION_PREFIX}/task": model.task,
        f"{ANNOTATION_PREFIX}/owner": model.owner,
    }
    if model.risk_tier:
        annotations[f"{ANNOTATION_PREFIX}/risk-tier"] = model.risk_tier
    if (latest := model.latest_version) is not None:
        annotations[f"{ANNOTATION_PREFIX}/latest-version"] = str(latest.version)
        annotations[f"{ANNOTATION_PREFIX}/latest-gate-status"] = latest.gate_status
    if (production := model.production_version) is not None:
        annotations[f"{ANNOTATION_PREFIX}/production-version"] = str(production.version)
        annotations[f"{ANNOTATION_PREFIX}/artifact-sha256"] = production.artifact_sha256
    return annotations


def catalog_info(
    model: CatalogModel, *, catalog_url: str | None, system: str | None = None
) -> dict[str, Any]:
    """A Backstage ``Component`` entity for ``model``.

    ``catalog_url`` is the public root URL of the catalog site (None when it is not
    published); relative card links and the model page are linked through it, because a
    Backstage link must be absolute.
    """
    metadata: dict[str, Any] = {
        "name": backstage_name(model.name),
        "title": model.name,
        "description": " ".join(model.description.split()),
        "tags": _tags(model),
        "annotations": _annotations(model),
    }
    if links := _links(model, catalog_url):
        metadata["links"] = links
    spec: dict[str, Any] = {
        "type": "ml-model",
        "lifecycle": backstage_lifecycle(model),
        "owner": f"group:{backstage_name(model.team)}",
    }
    if system:
        spec["system"] = backstage_name(system)
    return {"apiVersion": API_VERSION, "kind": "Component", "metadata": metadata, "spec": spec}


def catalog_info_yaml(
    model: CatalogModel, *, catalog_url: str | None, system: str | None = None
) -> str:
    """:func:`catalog_info` as the ``catalog-info.yaml`` file Backstage discovers."""
    entity = catalog_info(model, catalog_url=catalog_url, system=system)
    return yaml.safe_dump(entity, sort_keys=False, allow_unicode=True, default_flow_style=False)


def pipeline_tag(task: str) -> str | None:
    """Hugging Face's pipeline tag for a tabular task, None when there is no fitting one."""
    task = task.lower()
    if "classif" in task:
        return "tabular-classification"
    if "regress" in task:
        return "tabular-regression"
    return None


def _model_index(model: CatalogModel, tag: str | None) -> list[dict[str, Any]] | None:
    """The latest version's evaluation in Hugging Face's ``model-index`` shape, if measured."""
    latest = model.latest_version
    if latest is None or latest.metric is None or latest.metric_value is None:
        return None
    if latest.metric_value != latest.metric_value:  # NaN: no result to report
        return None
    task = {"type": tag or model.task}
    return [
        {
            "name": model.name,
            "results": [
                {
                    "task": task,
                    "dataset": {
                        "type": model.name,
                        "name": f"{model.name} validation data (version {latest.version})",
                    },
                    "metrics": [
                        {
                            "type": latest.metric,
                            "name": latest.metric,
                            "value": float(latest.metric_value),
                        }
                    ],
                }
            ],
        }
    ]


def huggingface_metadata(model: CatalogModel) -> dict[str, Any]:
    """The YAML front matter of a Hugging Face model card for ``model``.

    ``license`` appears only when a ``license`` label states it: guessing a licence is a
    legal statement nobody made.
    """
    tag = pipeline_tag(model.task)
    tags = ["sklearn", "tabular"] + ([tag] if tag else []) + _tags(model)
    metadata: dict[str, Any] = {}
    if license_ := model.labels.get("license"):
        metadata["license"] = license_
    metadata["library_name"] = "sklearn"
    if tag:
        metadata["pipeline_tag"] = tag
    metadata["tags"] = list(dict.fromkeys(tags))
    if (index := _model_index(model, tag)) is not None:
        metadata["model-index"] = index
    return metadata


def huggingface_front_matter(model: CatalogModel) -> str:
    """:func:`huggingface_metadata` between ``---`` lines, ready to start a README.md."""
    body = yaml.safe_dump(
        huggingface_metadata(model), sort_keys=False, allow_unicode=True, default_flow_style=False
    )
    return f"---\n{body}---\n"
