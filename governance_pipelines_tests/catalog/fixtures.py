"""Three hand-built catalog models that between them hit every branch a page can take.

- ``credit_default``: in production, a commit on GitHub (remote with a token that must not
  leak), a relative card for v2 and an absolute one for v3, samples, usage, cost, an alert.
- ``churn_predictor``: staging only, commit unknown, no card, no risk tier, and a
  description that tries to break out of the page (``<script>``, ``</script>``).
- ``demand_forecast``: every version archived, a local-path remote (bare commit, no link),
  a NaN metric and a team name with a space.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from governance_pipelines.catalog import (
    CatalogField,
    CatalogModel,
    CatalogVersion,
    commit_url,
)

GENERATED_AT = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
ORGANISATION = "Acme Lending"
CREDIT_COMMIT = "0123456789abcdef0123456789abcdef01234567"
CREDIT_REMOTE = "https://ci-bot:s3cr3t-t0ken@github.com/acme/credit-models.git"
DEMAND_COMMIT = "89abcdef"
HOSTILE = 'Predicts churn <script>alert(1)</script> and "</script><b>bold</b>" & more'
CARD_V2 = "cards/credit_default/v2.html"
CARD_V3 = "https://cards.example.com/credit_default/v3.html"
DAGSTER_URL = "http://localhost:3000/assets/credit_default/model_version"


def credit_default() -> CatalogModel:
    return CatalogModel(
        name="credit_default",
        description="Probability that a loan applicant defaults within 12 months.",
        owner="alice",
        team="credit-risk",
        labels={"domain": "lending", "license": "apache-2.0", "Region": "EU West"},
        categories=["Credit Scoring"],
        risk_tier="high",
        task="classification",
        inputs=[
            CatalogField("income", "float", {"min": 0, "nullable": False}, "Yearly income"),
            CatalogField("purpose", "category", {"allowed": ["car", "home"]}, None),
        ],
        outputs=[CatalogField("default_probability", "float", {"min": 0, "max": 1}, None)],
        versions=[
            _version(1, "archived", "passed", card=None),
            _version(2, "production", "passed", card=CARD_V2),
            _version(3, "staging", "pending", card=CARD_V3),
        ],
        sample_request={"income": 52000.0, "purpose": "car"},
        sample_response={"default_probability": 0.07},
        usage={"requests": 12840, "errors": 12, "consumers": ["web", "batch"], "period": "7d"},
        cost={"month": "2026-11", "total": Decimal("123.45"), "currency": "USD"},
        open_alerts=[{"check": "drift_report_within_threshold", "severity": "WARN"}],
        dagster_asset_url=DAGSTER_URL,
    )


def _version(number: int, stage: str, gate: str, *, card: str | None) -> CatalogVersion:
    return CatalogVersion(
        version=number,
        stage=stage,
        gate_status=gate,
        created_at=f"2026-11-0{number}T08:00:00+00:00",
        metric="roc_auc",
        metric_value=0.80 + number / 100,
        artifact_sha256=f"{number}" * 64,
        commit=CREDIT_COMMIT,
        repository_url=CREDIT_REMOTE,
        scm_url=commit_url(CREDIT_REMOTE, CREDIT_COMMIT),
        card_href=card,
    )


def churn_predictor() -> CatalogModel:
    return CatalogModel(
        name="churn_predictor",
        description=HOSTILE,
        owner="bob",
        team="growth",
        labels={"domain": "marketing", "channel": "<img src=x onerror=alert(2)>"},
        categories=["Customer"],
        risk_tier=None,
        task="classification",
        versions=[
            CatalogVersion(
                version=1,
                stage="staging",
                gate_status="failed",
                created_at="2026-11-20T10:00:00+00:00",
                metric=None,
                metric_value=None,
                artifact_sha256="c" * 64,
                commit="unknown",
                repository_url="unknown",
                scm_url=commit_url("unknown", "unknown"),
                card_href=None,
            )
        ],
    )


def demand_forecast() -> CatalogModel:
    return CatalogModel(
        name="demand_forecast",
        description="Weekly demand per warehouse.",
        owner="carol",
        team="supply chain",
        labels={"domain": "operations"},
        categories=["Forecasting"],
        risk_tier="medium",
        task="regression",
        versions=[
            CatalogVersion(
                version=4,
                stage="archived",
                gate_status="passed",
                created_at="2026-10-01T00:00:00+00:00",
                metric="rmse",
                metric_value=float("nan"),
                artifact_sha256="d" * 64,
                commit=DEMAND_COMMIT,
                repository_url="/srv/repos/forecasting",
                scm_url=commit_url("/srv/repos/forecasting", DEMAND_COMMIT),
                card_href="cards/demand_forecast/v4.html",
            )
        ],
    )


def all_models() -> list[CatalogModel]:
    """Deliberately not in name order: the site must sort."""
    return [demand_forecast(), credit_default(), churn_predictor()]


def write_card(root: Path, href: str, title: str) -> Path:
    """A stand-in model card at ``href`` under the catalog root, so links can be followed."""
    path = root / href
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"<!DOCTYPE html><title>{title}</title><h1>{title}</h1>\n", encoding="utf-8")
    return path
