"""Per-model development assets: governed training, the validation gates and the model card.

`model_version` trains on the validated snapshot and registers an immutable version (its
data version is the artifact's sha256). Five blocking checks gate it; `model_card` is
downstream of them, so a version that failed a gate is never documented as fit for use.
"""

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg

from governance_pipelines import check_names
from governance_pipelines.config import GovernanceConfig, ModelConfig, expand_env
from governance_pipelines.development import specs
from governance_pipelines.development.environment import capture_code_version
from governance_pipelines.development.model_versions import save_artifact, version_fingerprint
from governance_pipelines.development.run_record import RunRecord
from governance_pipelines.development.snapshot import read_snapshot
from governance_pipelines.development.training import train_model
from governance_pipelines.development.version_checks import VERSION_CHECKS, CheckOutcome
from governance_pipelines.documentation.card_builder import build_card_inputs
from governance_pipelines.documentation.card_inputs import ModelCardInputs
from governance_pipelines.documentation.model_card import render_model_card
from governance_pipelines.orchestration import naming
from governance_pipelines.orchestration.card_refresh import CARD_VERSION_TAG
from governance_pipelines.orchestration.handoff import HANDOFF_IO_MANAGER
from governance_pipelines.orchestration.markdown import card_for_ui, markdown_table
from governance_pipelines.orchestration.model_context import (
    model_owners,
    model_tags,
    review_version,
)
from governance_pipelines.orchestration.resources import GovernanceStoreResource
from governance_pipelines.orchestration.verdicts import check_verdict
from governance_pipelines.security.promotion_state import approval_status, stage_timeline
from governance_pipelines.store import GovernanceStore

TRAINING_CODE_VERSION = "1"
AUTHOR_TAG = "governance/author"


def build_model_development_definitions(
    config: GovernanceConfig, model: ModelConfig
) -> dg.Definitions:
    owners = model_owners(config, model)
    tags = model_tags(model)
    version_key = naming.model_asset_key(model.name, naming.MODEL_VERSION)
    checks = [
        _version_check(model, version_key, name, evaluate, description)
        for name, (evaluate, description) in VERSION_CHECKS.items()
    ]
    return dg.Definitions(
        assets=[
            _version_asset(model, owners, tags),
            _card_asset(config, model, owners, tags),
        ],
        asset_checks=checks,
    )


def _version_asset(
    model: ModelConfig, owners: list[str], tags: dict[str, str]
) -> dg.AssetsDefinition:
    snapshot_key = naming.model_asset_key(model.name, naming.TRAINING_SNAPSHOT)
    version_key = naming.model_asset_key(model.name, naming.MODEL_VERSION)

    @dg.asset(
        key=version_key,
        ins={"training_snapshot": dg.AssetIn(snapshot_key)},
        group_name=model.name,
        kinds={"scikit-learn"},
        owners=owners,
        tags=tags,
        code_version=TRAINING_CODE_VERSION,
        io_manager_key=HANDOFF_IO_MANAGER,
    )
    def model_version(
        context: dg.AssetExecutionContext,
        governance_store: GovernanceStoreResource,
        training_snapshot: str,
    ) -> dg.MaterializeResult[int]:
        """An immutable model version trained on the validated snapshot, with its full
        reproducibility record (algorithm, params, features, split, metrics, code, environment).

        Unchanged inputs (snapshot, declared spec, code commit) reuse the registered version.
        """
        store = governance_store.store
        snapshot = store.get_snapshot(training_snapshot, model.name)
        frame = read_snapshot(snapshot.path, snapshot.snapshot_id)
        spec = specs.training_spec(model, frame)
        code = capture_code_version()
        fingerprint = version_fingerprint(spec.to_dict(), snapshot.snapshot_id, code.commit)
        existing = store.find_model_version(model.name, fingerprint)
        if existing is not None:
            context.log.info(f"inputs unchanged: reusing {model.name} v{existing.version}")
            return _version_result(
                existing.version, existing.record, existing.artifact_path, created=False
            )
        trained = train_model(frame, spec, snapshot_id=snapshot.snapshot_id)
        author = context.run.tags.get(AUTHOR_TAG, model.owner)
        record = {
            **trained.record,
            "author": author,
            "fingerprint": fingerprint,
            "reproducibility_tolerance": model.training.reproducibility_tolerance or None,
        }
        artifact_path = save_artifact(store.home / "artifacts" / model.name, trained.artifact)
        registered, created = store.register_model_version(
            model_name=model.name,
            fingerprint=fingerprint,
            snapshot_id=snapshot.snapshot_id,
            artifact_sha256=trained.artifact_sha256,
            artifact_path=str(artifact_path),
            record=record,
            actor=naming.run_actor(context),
        )
        context.log.info(
            f"registered {model.name} v{registered.version} ({trained.artifact_sha256[:12]})"
        )
        return _version_result(
            registered.version, registered.record, str(artifact_path), created=created
        )

    return model_version


def _card_asset(
    config: GovernanceConfig, model: ModelConfig, owners: list[str], tags: dict[str, str]
) -> dg.AssetsDefinition:
    version_key = naming.model_asset_key(model.name, naming.MODEL_VERSION)

    @dg.asset(
        key=naming.model_asset_key(model.name, naming.MODEL_CARD),
        ins={"model_version": dg.AssetIn(version_key)},
        group_name=model.name,
        kinds={"html"},
        owners=owners,
        tags=tags,
    )
    def model_card(
        context: dg.AssetExecutionContext,
        governance_store: GovernanceStoreResource,
        model_version: int,
    ) -> dg.MaterializeResult:
        """The model card (HTML + Markdown) of the latest version: business rationale, algorithm,
        features, metrics, validation evidence, fairness, plots, lineage and approvals."""
        store = governance_store.store
        # A decision on an older version refreshes that version's card (card_refresh.py).
        version = _card_version(context.run.tags.get(CARD_VERSION_TAG), model_version)
        inputs = _card_inputs(store, config, model, version)
        templates = config.model_card_templates
        card = render_model_card(
            inputs, template_dir=Path(expand_env(templates)) if templates else None
        )
        folder = store.home / "model_cards" / model.name / f"v{version}"
        written = card.write(folder)
        store.record_event(
            actor=naming.run_actor(context),
            action="model_card.rendered",
            model_name=model.name,
            version=version,
            payload={"path": str(written[0]), "gaps": card.gaps},
        )
        html_url = (
            f"{config.documentation_base_url}/{model.name}/v{version}/model_card.html"
            if config.documentation_base_url
            else None
        )
        return dg.MaterializeResult(
            metadata={
                "version": dg.MetadataValue.int(version),
                "card": dg.MetadataValue.md(card_for_ui(card.markdown, html_url=html_url)),
                **({"card_url": dg.MetadataValue.url(html_url)} if html_url else {}),
                "html": dg.MetadataValue.path(str(written[0])),
                "markdown": dg.MetadataValue.path(str(written[1])),
                "documentation_gaps": dg.MetadataValue.int(len(card.gaps)),
                "gaps": dg.MetadataValue.md("\n".join(f"- {gap}" for gap in card.gaps) or "none"),
            }
        )

    return model_card


def _card_version(tagged: str | None, handed_off: int) -> int:
    """The version named by the run's card-version tag, else the one this run handed on."""
    if tagged is None:
        return handed_off
    if not tagged.isdecimal() or int(tagged) < 1:
        raise dg.Failure(
            f"run tag {CARD_VERSION_TAG}={tagged!r} is not a version number; "
            "use a registered version such as 1, or remove the tag"
        )
    return int(tagged)


def _card_inputs(
    store: GovernanceStore, config: GovernanceConfig, model: ModelConfig, version: int
) -> ModelCardInputs:
    """The version as reviewed, with the gates it met and the decisions governance took on it."""
    review = review_version(store, model, version)
    snapshot = store.get_snapshot(RunRecord.from_dict(review.record).snapshot_id, model.name)
    checks_evidence = [
        {
            "check": c.check_name,
            "passed": c.passed,
            "summary": c.summary,
            "table": c.evidence.get("table", []),
        }
        for c in store.latest_check_results(model.name, version=version)
        # The card documents the release evidence; a day's monitoring verdict is not part of
        # it (and would make the card depend on when it was last re-rendered).
        if c.check_name not in check_names.DAILY_CHECKS
    ]
    status = approval_status(store, config, model.name, version)
    timeline = [t for t in stage_timeline(store, model.name) if t.version == version]
    return build_card_inputs(
        config,
        model,
        version=version,
        frame=review.frame,
        trained=review.trained,
        snapshot=snapshot.__dict__,
        check_results=checks_evidence,
        approvals=[
            {
                "user": a.user,
                "role": a.role,
                "decision": a.decision,
                "at": a.created_at.isoformat(),
                "note": a.note,
            }
            for a in (*status.approvals, *status.rejections)
        ],
        stage_history=[
            {"stage": t.stage, "at": t.created_at.isoformat(), "by": t.user, "note": t.reason}
            for t in timeline
        ],
        status=timeline[-1].stage if timeline else None,
    )


def _version_result(
    version: int, stored: Mapping[str, Any], artifact_path: str, *, created: bool
) -> dg.MaterializeResult[int]:
    record = RunRecord.from_dict(stored)
    metrics = {
        f"metric/{name}": dg.MetadataValue.float(float(value))
        for name, value in record.metrics.items()
        if isinstance(value, int | float)
    }
    return dg.MaterializeResult(
        value=version,
        metadata={
            "version": dg.MetadataValue.int(version),
            "new_version": created,
            "algorithm": record.algorithm.type,
            "estimator": record.algorithm.estimator,
            "params": dg.MetadataValue.json(dict(record.algorithm.params)),
            "snapshot_id": record.snapshot_id,
            "artifact_sha256": record.artifact_sha256,
            "artifact": dg.MetadataValue.path(artifact_path),
            "primary_metric": record.evaluation.primary_metric,
            "primary_metric_value": dg.MetadataValue.float(
                math.nan if record.evaluation.value is None else float(record.evaluation.value)
            ),
            "split": dg.MetadataValue.json(dict(record.split)),
            "code_commit": str(record.code.get("commit")),
            "author": stored.get("author", "unknown"),
            **metrics,
        },
        data_version=dg.DataVersion(record.artifact_sha256),
    )


def _version_check(
    model: ModelConfig, version_key: dg.AssetKey, name: str, evaluate, description: str
) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=version_key, name=name, blocking=True, description=description)
    def _check(
        context: dg.AssetCheckExecutionContext,
        governance_store: GovernanceStoreResource,
        model_version: int,
    ) -> dg.AssetCheckResult:
        store = governance_store.store
        version = model_version
        outcome: CheckOutcome = evaluate(review_version(store, model, version))
        metadata = {
            "version": dg.MetadataValue.int(version),
            "evidence": dg.MetadataValue.json(outcome.evidence),
        }
        if outcome.table:
            metadata["table"] = dg.MetadataValue.md(markdown_table(outcome.table))
        return check_verdict(
            context,
            store,
            model_name=model.name,
            check_name=name,
            passed=outcome.passed,
            summary=outcome.summary,
            evidence={**outcome.evidence, "table": outcome.table},
            version=version,
            metadata=metadata,
        )

    return _check
