"""The model service catalog: one place where anyone finds every model we serve.

A static site (searchable ``index.html``, ``catalog.json``, a page per model) plus the same
entries as Backstage ``catalog-info.yaml`` and Hugging Face README front matter, built from
plain :class:`CatalogModel` records. The orchestration layer gathers the records from the
store and calls :func:`write_catalog_site`; nothing here imports dagster.
"""

from governance_pipelines.catalog.backstage import (
    catalog_info,
    catalog_info_yaml,
    huggingface_front_matter,
    huggingface_metadata,
)
from governance_pipelines.catalog.entries import (
    CatalogEntryError,
    CatalogField,
    CatalogModel,
    CatalogVersion,
)
from governance_pipelines.catalog.scm import commit_url, repository_web_url
from governance_pipelines.catalog.site import CatalogSite, CatalogSiteError, write_catalog_site

__all__ = [
    "CatalogEntryError",
    "CatalogField",
    "CatalogModel",
    "CatalogSite",
    "CatalogSiteError",
    "CatalogVersion",
    "catalog_info",
    "catalog_info_yaml",
    "commit_url",
    "huggingface_front_matter",
    "huggingface_metadata",
    "repository_web_url",
    "write_catalog_site",
]
