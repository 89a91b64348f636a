"""The `model_catalog` asset: the static catalog site, and the check that its samples are real.

The site is written to `<home>/catalog/` (open `index.html` from disk, or publish the folder
on any static host); each model also gets a Backstage `catalog-info.yaml` and Hugging Face
card metadata there. The check replays each model's sample request against its version's
verified artifact.
"""

from datetime import UTC, datetime

import dagster as dg

from governance_pipelines.catalog.gathering import catalog_models, sample_version
from governance_pipelines.catalog.samples import recorded_sample, replay_sample
from governance_pipelines.catalog.site import write_catalog_site
from governance_pipelines.config import GovernanceConfig
from governance_pipelines.orchestration import naming
from governance_pipelines.orchestration.markdown import markdown_table
from governance_pipelines.orchestration.resources import GovernanceStoreResource
from governance_pipelines.orchestration.verdicts import check_verdict

MODEL_CATALOG = "model_catalog"
SAMPLES_REPLAY = "model_catalog_samples_replay"


def model_catalog_key() -> dg.AssetKey:
    return naming.governance_asset_key(MODEL_CATALOG)


def build_catalog_definitions(config: GovernanceConfig) -> dg.Definitions:
    return dg.Definitions(
        assets=[_model_catalog_asset(config)], asset_checks=[_samples_replay_check(config)]
    )


def _model_catalog_asset(config: GovernanceConfig) -> dg.AssetsDefinition:
    @dg.asset(
        key=model_catalog_key(),
        deps=[naming.model_asset_key(m.name, naming.MODEL_CARD) for m in config.models],
        group_name=naming.GOVERNANCE_GROUP,
        kinds={"html", "json"},
    )
    def model_catalog(
        context: dg.AssetExecutionContext, governance_store: GovernanceStoreResource
    ) -> dg.MaterializeResult:
        """The model service catalog: every model with owner, labels, risk tier, versions with
        stage and gate status, card and commit links, inputs and outputs, a sample request and
        response, usage, cost and open alerts — a static site with search and filters, a JSON
        index, and Backstage / Hugging Face metadata per model."""
        store = governance_store.store
        now = datetime.now(UTC)
        models = catalog_models(config, store, today=now.date(), actor=naming.run_actor(context))
        site = write_catalog_site(
            models,
            store.home / "catalog",
            organisation=config.organisation,
            generated_at=now,
            catalog_url=config.catalog_base_url,
        )
        rows = [
            {
                "model": m.name,
                "team": m.team,
                "risk_tier": m.risk_tier or "",
                "versions": len(m.versions),
                "production": m.production_version.version if m.production_version else "",
                "open_alerts": len(m.open_alerts),
            }
            for m in models
        ]
        return dg.MaterializeResult(
            metadata={
                "models": dg.MetadataValue.int(len(models)),
                "catalog": dg.MetadataValue.md(markdown_table(rows) or "no models"),
                "index_html": dg.MetadataValue.path(str(site.index_html)),
                "index_json": dg.MetadataValue.path(str(site.index_json)),
                **(
                    {"url": dg.MetadataValue.url(f"{config.catalog_base_url}/index.html")}
                    if config.catalog_base_url
                    else {}
                ),
            }
        )

    return model_catalog


def _samples_replay_check(config: GovernanceConfig) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=model_catalog_key(),
        name=SAMPLES_REPLAY,
        description="Each model's catalog sample request, replayed against its version's "
        "verified artifact, still gets the recorded response.",
    )
    def samples_replay(
        context: dg.AssetCheckExecutionContext, governance_store: GovernanceStoreResource
    ) -> dg.AssetCheckResult:
        store = governance_store.store
        actor = naming.run_actor(context)
        results, missing = [], []
        for model in config.models:
            version = sample_version(store, model.name)
            sample = recorded_sample(store, model.name, version) if version else None
            if version is None:
                continue
            if sample is None:
                missing.append(f"{model.name} v{version}")
                continue
            results.append(replay_sample(store, sample, model.training.task, actor=actor))
        failed = [r for r in results if not r.passed]
        passed = not failed and not missing
        details = [r.detail for r in failed] + [
            f"{m}: no sample recorded; materialize governance/{MODEL_CATALOG}" for m in missing
        ]
        summary = (
            f"{len(results)} sample(s) replayed with the recorded response"
            if passed
            else "; ".join(details)
        )
        return check_verdict(
            context,
            store,
            model_name=naming.GOVERNANCE_GROUP,
            check_name=SAMPLES_REPLAY,
            passed=passed,
            summary=summary,
            evidence={"replayed": [r.detail for r in results], "problems": details},
            metadata={
                "replayed": dg.MetadataValue.int(len(results)),
                "failed": dg.MetadataValue.int(len(failed) + len(missing)),
            },
        )

    return samples_replay
