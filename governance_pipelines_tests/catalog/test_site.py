"""The static catalog site: what each file says, where each link goes, and what is escaped."""

from __future__ import annotations

import json
import re
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from governance_pipelines.catalog import CatalogSite, CatalogSiteError, write_catalog_site
from governance_pipelines.catalog.site import embed_json

from .fixtures import (
    CARD_V2,
    CARD_V3,
    CREDIT_COMMIT,
    DAGSTER_URL,
    DEMAND_COMMIT,
    GENERATED_AT,
    HOSTILE,
    ORGANISATION,
    all_models,
    credit_default,
)

NAMES = ["churn_predictor", "credit_default", "demand_forecast"]
CREDIT_SCM = f"https://github.com/acme/credit-models/commit/{CREDIT_COMMIT}"


class _Elements(HTMLParser):
    """Every start tag with its attributes, and the text of script elements, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: dict[str, str] = {}
        self._script_id: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._script_id = dict(attrs).get("id") or "inline"
            self.scripts[self._script_id] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._script_id = None

    def handle_data(self, data: str) -> None:
        if self._script_id is not None:
            self.scripts[self._script_id] += data


def _parse(path: Path) -> _Elements:
    parser = _Elements()
    parser.feed(path.read_text(encoding="utf-8"))
    parser.close()
    return parser


def _hrefs(path: Path, css_class: str) -> list[str]:
    return [
        str(attrs["href"])
        for tag, attrs in _parse(path).tags
        if tag == "a" and css_class in (attrs.get("class") or "").split()
    ]


@pytest.fixture
def site(tmp_path: Path) -> CatalogSite:
    return write_catalog_site(
        all_models(),
        tmp_path / "catalog",
        organisation=ORGANISATION,
        generated_at=GENERATED_AT,
        catalog_url="https://catalog.example.com/ml/",
    )


def test_the_json_index_lists_every_model_sorted_and_strict(site: CatalogSite) -> None:
    text = site.index_json.read_text(encoding="utf-8")
    index = json.loads(text, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))
    assert index["organisation"] == ORGANISATION
    assert index["generated_at"] == "2026-11-30T06:00:00+00:00"
    assert [m["name"] for m in index["models"]] == NAMES
    credit = index["models"][1]
    assert credit["cost"] == {"month": "2026-11", "total": "123.45", "currency": "USD"}
    assert credit["labels"]["domain"] == "lending"
    assert [v["stage"] for v in credit["versions"]] == ["archived", "production", "staging"]
    assert index["models"][2]["versions"][0]["metric_value"] is None  # NaN
    assert "s3cr3t" not in text


def test_the_site_is_deterministic(site: CatalogSite, tmp_path: Path) -> None:
    again = write_catalog_site(
        list(reversed(all_models())),
        tmp_path / "again",
        organisation=ORGANISATION,
        generated_at=GENERATED_AT,
        catalog_url="https://catalog.example.com/ml/",
    )
    root = site.index_html.parent
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        twin = again.index_html.parent / path.relative_to(root)
        assert twin.read_bytes() == path.read_bytes(), path


def test_the_written_files_are_where_the_result_says(site: CatalogSite) -> None:
    root = site.index_html.parent
    assert site.index_html == root / "index.html"
    assert site.index_json == root / "catalog.json"
    assert site.model_pages == {name: root / "models" / f"{name}.html" for name in NAMES}
    for name in NAMES:
        assert (root / "models" / name / "catalog-info.yaml").is_file()
        assert (root / "models" / name / "README.md").is_file()


def test_the_index_embeds_the_same_json_without_a_way_out_of_the_script(
    site: CatalogSite,
) -> None:
    html = site.index_html.read_text(encoding="utf-8")
    embedded = _parse(site.index_html).scripts["catalog-data"]
    assert json.loads(embedded) == json.loads(site.index_json.read_text(encoding="utf-8"))
    assert "<" not in embedded
    assert ">" not in embedded
    # Exactly the two script elements the page itself opens: the data and the filter code.
    assert html.count("<script") == 2
    assert html.count("</script>") == 2
    assert '<script type="application/json" id="catalog-data">' in html


def test_user_text_is_escaped_everywhere(site: CatalogSite) -> None:
    for page in [site.index_html, *site.model_pages.values()]:
        html = page.read_text(encoding="utf-8")
        assert "<script>alert(1)" not in html
        assert "<img src=x" not in html
        assert "<b>bold</b>" not in html
    churn = site.model_pages["churn_predictor"].read_text(encoding="utf-8")
    assert "Predicts churn &lt;script&gt;alert(1)&lt;/script&gt;" in churn
    assert "&lt;img src=x onerror=alert(2)&gt;" in churn
    readme = (site.index_html.parent / "models/churn_predictor/README.md").read_text()
    assert "<script>" not in readme.split("---\n", 2)[2]


def test_the_index_lists_models_server_side_with_filters_and_count(site: CatalogSite) -> None:
    parsed = _parse(site.index_html)
    cards = [a for tag, a in parsed.tags if "model" in (a.get("class") or "").split()]
    assert [a["data-name"] for a in cards] == NAMES
    assert not any("hidden" in a for a in cards)  # everything shows without JavaScript
    options: dict[str, list[str]] = {}
    current = None
    for tag, attrs in parsed.tags:
        if tag == "select":
            current = str(attrs["id"])
            options[current] = []
        elif tag == "option" and current is not None:
            options[current].append(str(attrs["value"]))
    assert options["filter-label"] == [
        "",
        "Region=EU West",
        "channel=<img src=x onerror=alert(2)>",
        "domain=lending",
        "domain=marketing",
        "domain=operations",
        "license=apache-2.0",
    ]
    assert options["filter-team"] == ["", "credit-risk", "growth", "supply chain"]
    assert options["filter-stage"] == ["", "archived", "production", "staging"]
    assert options["filter-risk"] == ["", "(not set)", "high", "medium"]
    assert any(tag == "input" and attrs.get("id") == "search" for tag, attrs in parsed.tags)
    html = site.index_html.read_text(encoding="utf-8")
    assert re.search(r'<p id="count"[^>]*>3 of 3 models</p>', html)
    assert "fetch(" not in html
    assert not re.search(r'(src|href)="(https?:)?//[^"]*\.(js|css)', html)  # no CDN


def test_the_index_links_each_models_page_and_files(site: CatalogSite) -> None:
    index = site.index_html
    assert _hrefs(index, "model-link") == [f"models/{n}.html" for n in NAMES]
    assert _hrefs(index, "catalog-info-link") == [f"models/{n}/catalog-info.yaml" for n in NAMES]
    assert _hrefs(index, "readme-link") == [f"models/{n}/README.md" for n in NAMES]
    # The featured card is production's (relative, as written); churn has no card at all.
    assert _hrefs(index, "card-link") == [CARD_V2, "cards/demand_forecast/v4.html"]
    assert _hrefs(index, "dagster-link") == [DAGSTER_URL]
    for href in _hrefs(index, "model-link") + _hrefs(index, "catalog-info-link"):
        assert (index.parent / href).is_file()


def test_a_model_page_shows_versions_with_card_and_commit_links(site: CatalogSite) -> None:
    page = site.model_pages["credit_default"]
    html = page.read_text(encoding="utf-8")
    # Newest first; a relative card is seen from models/, an absolute one is kept as is.
    assert _hrefs(page, "card-link") == [f"../{CARD_V2}", CARD_V3, f"../{CARD_V2}"]
    assert _hrefs(page, "scm-link") == [CREDIT_SCM] * 3
    assert _hrefs(page, "back-link") == ["../index.html", "../index.html"]
    assert _hrefs(page, "dagster-link") == [DAGSTER_URL]
    assert _hrefs(page, "catalog-info-link") == ["credit_default/catalog-info.yaml"]
    assert re.findall(r'data-version="(\d+)"', html) == ["3", "2", "1"]
    for text in ("2" * 64, "roc_auc", "production", "pending", "2026-11-02T08:00:00+00:00"):
        assert text in html
    assert "s3cr3t" not in html


def test_a_page_without_a_known_commit_says_so(site: CatalogSite) -> None:
    churn = site.model_pages["churn_predictor"]
    assert _hrefs(churn, "scm-link") == []
    assert _hrefs(churn, "card-link") == []
    assert _hrefs(churn, "dagster-link") == []
    assert "commit unknown" in churn.read_text(encoding="utf-8")
    demand = site.model_pages["demand_forecast"]  # a local remote: the bare commit, no link
    assert _hrefs(demand, "scm-link") == []
    assert re.search(rf"<code[^>]*>{DEMAND_COMMIT}</code>", demand.read_text(encoding="utf-8"))


def test_a_model_page_shows_interface_samples_usage_cost_and_alerts(site: CatalogSite) -> None:
    html = site.model_pages["credit_default"].read_text(encoding="utf-8")
    for text in (
        "Probability that a loan applicant defaults within 12 months.",
        "alice",
        "credit-risk",
        "high",
        "Credit Scoring",
        "<code>income</code>",
        "Yearly income",
        "min: 0, nullable: false",
        "allowed: [&#34;car&#34;, &#34;home&#34;]",
        "<code>default_probability</code>",
        "&#34;income&#34;: 52000.0",
        "&#34;default_probability&#34;: 0.07",
        "12,840 requests, 0.09% errors (7d)",
        "web, batch",
        "123.45 USD in 2026-11",
        "drift_report_within_threshold",
        "WARN",
    ):
        assert text in html, text


def test_catalog_info_and_readme_files_parse(site: CatalogSite) -> None:
    root = site.index_html.parent
    entity = yaml.safe_load((root / "models/credit_default/catalog-info.yaml").read_text())
    assert entity["kind"] == "Component"
    assert {link["url"] for link in entity["metadata"]["links"]} >= {
        "https://catalog.example.com/ml/cards/credit_default/v2.html",
        "https://catalog.example.com/ml/models/credit_default.html",
    }
    readme = (root / "models/credit_default/README.md").read_text()
    _, front, body = readme.split("---\n", 2)
    assert yaml.safe_load(front)["license"] == "apache-2.0"
    assert body.startswith("\n# credit_default\n\nProbability that a loan applicant defaults")


def test_duplicate_models_and_naive_timestamps_are_refused(tmp_path: Path) -> None:
    with pytest.raises(CatalogSiteError, match="credit_default appear more than once"):
        write_catalog_site(
            [credit_default(), credit_default()],
            tmp_path,
            organisation="x",
            generated_at=GENERATED_AT,
        )
    with pytest.raises(CatalogSiteError, match="time zone"):
        write_catalog_site(
            all_models(), tmp_path, organisation="x", generated_at=datetime(2026, 1, 1)
        )


def test_an_empty_catalog_still_renders(tmp_path: Path) -> None:
    site = write_catalog_site([], tmp_path, organisation="x", generated_at=GENERATED_AT)
    assert json.loads(site.index_json.read_text())["models"] == []
    assert "0 of 0 models" in site.index_html.read_text(encoding="utf-8")


def test_embed_json_survives_every_way_out_of_a_script() -> None:
    value = {"d": HOSTILE + " <!-- --> ]]> & \u2028"}
    text = str(embed_json(value))
    assert json.loads(text) == value
    assert not set("<>&") & set(text)
