"""The model service catalog as a static site: one folder anyone can open or publish.

A static folder is the lowest-friction way to put the catalog in front of an organisation:
it opens from ``file://`` (an audit attachment), from any static host (S3, GitHub Pages,
an intranet share), and needs no server to stay up. So ``index.html`` is self-contained —
inline CSS and script, the JSON index embedded rather than fetched (browsers refuse
``fetch`` on ``file://``) — and the list of models is rendered server-side, so a reader
without JavaScript still sees every model; the script only filters what is there.

Every value except the model name is user text and is escaped: jinja2 autoescaping for
the HTML, and the embedded JSON has ``<``, ``>`` and ``&`` as ``\\u`` escapes so a
description containing ``</script>`` cannot end the script element early.

Layout of ``out_dir``::

    index.html  catalog.json
    models/<name>.html  models/<name>/catalog-info.yaml  models/<name>/README.md
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from governance_pipelines.catalog.backstage import catalog_info_yaml, huggingface_front_matter
from governance_pipelines.catalog.entries import CatalogModel
from governance_pipelines.catalog.site_context import (
    MODELS_DIR,
    NO_RISK_TIER,
    filter_options,
    index_entry,
    model_page_context,
)

__all__ = [
    "CATALOG_JSON",
    "INDEX_HTML",
    "CatalogSite",
    "CatalogSiteError",
    "catalog_index",
    "embed_json",
    "readme_markdown",
    "write_catalog_site",
]

INDEX_HTML = "index.html"
CATALOG_JSON = "catalog.json"
_INDEX_TEMPLATE = "index.html.j2"
_MODEL_TEMPLATE = "model.html.j2"
_SCRIPT = "catalog.js"
_PACKAGE = "governance_pipelines.catalog"
_TEMPLATES = "templates"
# Characters that could end a <script> element or open a comment inside one, as JSON escapes.
_SCRIPT_SAFE = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026"}
_MARKDOWN_SAFE = {ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;"}


class CatalogSiteError(ValueError):
    """The catalog cannot be written as asked (duplicate models, a naive timestamp)."""


@dataclass(frozen=True)
class CatalogSite:
    """The files :func:`write_catalog_site` wrote, for the caller to report or link."""

    index_html: Path
    index_json: Path
    model_pages: dict[str, Path]


def catalog_index(
    models: Sequence[CatalogModel], *, organisation: str, generated_at: datetime
) -> dict[str, Any]:
    """The JSON index: models sorted by name so the same catalog gives the same bytes."""
    _check_inputs(models, generated_at)
    return {
        "organisation": organisation,
        "generated_at": generated_at.isoformat(),
        "models": [m.to_dict() for m in sorted(models, key=lambda m: m.name)],
    }


def embed_json(value: Any) -> Markup:
    """``value`` as JSON safe to place verbatim inside a ``<script>`` element.

    HTML-escaping would corrupt the JSON (script text is not entity-decoded), so instead the
    only characters that can end the element are written as JSON ``\\u`` escapes, which
    ``JSON.parse`` turns back into the same text.
    """
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, allow_nan=False)
    return Markup(text.translate(_SCRIPT_SAFE))  # inert: see the translate table


def readme_markdown(model: CatalogModel) -> str:
    """A Hugging Face style README: the front matter and one paragraph a reader can act on."""
    description = " ".join(model.description.split()) or "No description was given."
    if not description.endswith((".", "!", "?")):
        description += "."
    facts = f"Owned by {model.owner} (team {model.team}); task: {model.task}"
    if model.risk_tier:
        facts += f"; risk tier: {model.risk_tier}"
    if (production := model.production_version) is not None:
        facts += f"; version {production.version} is in production"
    paragraph = f"{description} {facts}.".translate(_MARKDOWN_SAFE)
    return f"{huggingface_front_matter(model)}\n# {model.name}\n\n{paragraph}\n"


def write_catalog_site(
    models: Sequence[CatalogModel],
    out_dir: Path,
    *,
    organisation: str,
    generated_at: datetime,
    catalog_url: str | None = None,
) -> CatalogSite:
    """Write the catalog folder: ``index.html``, ``catalog.json`` and each model's files.

    ``catalog_url``, the public root URL of the published folder if there is one, only
    feeds the links of ``catalog-info.yaml`` (Backstage needs absolute URLs); the pages
    themselves link relatively so the folder works wherever it is copied.
    """
    index = catalog_index(models, organisation=organisation, generated_at=generated_at)
    ordered = sorted(models, key=lambda m: m.name)
    env = _environment()
    out_dir = Path(out_dir)
    models_dir = out_dir / MODELS_DIR
    models_dir.mkdir(parents=True, exist_ok=True)

    index_json = out_dir / CATALOG_JSON
    _write(index_json, json.dumps(index, indent=2, sort_keys=True, allow_nan=False) + "\n")
    index_html = out_dir / INDEX_HTML
    _write(index_html, _render_index(env, ordered, index, organisation, generated_at))

    pages: dict[str, Path] = {}
    for model in ordered:
        page = models_dir / f"{model.name}.html"
        context = {
            "model": model_page_context(model),
            "organisation": organisation,
            "generated_at": generated_at.isoformat(),
        }
        _write(page, env.get_template(_MODEL_TEMPLATE).render(context))
        pages[model.name] = page
        own = models_dir / model.name
        own.mkdir(exist_ok=True)
        _write(own / "catalog-info.yaml", catalog_info_yaml(model, catalog_url=catalog_url))
        _write(own / "README.md", readme_markdown(model))
    return CatalogSite(index_html=index_html, index_json=index_json, model_pages=pages)


def _check_inputs(models: Sequence[CatalogModel], generated_at: datetime) -> None:
    names = [m.name for m in models]
    if duplicates := sorted({n for n in names if names.count(n) > 1}):
        raise CatalogSiteError(
            f"models {', '.join(duplicates)} appear more than once; each model gets one page"
        )
    if generated_at.tzinfo is None:
        raise CatalogSiteError(
            "generated_at has no time zone; pass an aware datetime such as datetime.now(UTC) "
            "so readers in other time zones see the right time"
        )


def _render_index(
    env: jinja2.Environment,
    models: Sequence[CatalogModel],
    index: Mapping[str, Any],
    organisation: str,
    generated_at: datetime,
) -> str:
    script_source = resources.files(_PACKAGE).joinpath(_TEMPLATES, _SCRIPT).read_text("utf-8")
    context = {
        "organisation": organisation,
        "generated_at": generated_at.isoformat(),
        "models": [index_entry(m) for m in models],
        "filters": filter_options(models),
        "no_risk_tier": NO_RISK_TIER,
        "catalog_data": embed_json(index),
        "script": Markup(script_source),  # packaged file, no user text
    }
    return env.get_template(_INDEX_TEMPLATE).render(context)


def _environment() -> jinja2.Environment:
    """Autoescape everything, and fail loudly on a typo rather than render an empty section."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader(_PACKAGE, _TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
