"""Per-model data assets: the raw training data, its immutable snapshot and validation.

`training_snapshot`'s data version is the snapshot's sha256, so Dagster's lineage and
staleness follow the exact bytes a model was trained on. Both checks are blocking:
nothing downstream runs on data that failed its schema or whose file was tampered with.
"""

import json
from pathlib import Path

import dagster as dg

from governance_pipelines import check_names
from governance_pipelines.config import GovernanceConfig, ModelConfig, SqlSource
from governance_pipelines.development.data_sources import describe_source, load_training_data
from governance_pipelines.development.profiling import (
    profile_as_records,
    profile_frame,
)
from governance_pipelines.development.snapshot import (
    SnapshotError,
    read_snapshot,
    verify_snapshot,
    write_snapshot,
)
from governance_pipelines.development.validation import (
    build_schema,
    column_rules,
    validate_frame,
    violations_as_records,
)
from governance_pipelines.orchestration import naming
from governance_pipelines.orchestration.handoff import HANDOFF_IO_MANAGER
from governance_pipelines.orchestration.markdown import markdown_table, profile_as_markdown
from governance_pipelines.orchestration.model_context import model_owners, model_tags
from governance_pipelines.orchestration.resources import GovernanceStoreResource
from governance_pipelines.orchestration.verdicts import check_verdict
from governance_pipelines.store import GovernanceStore

SNAPSHOT_CODE_VERSION = "1"


def build_training_data_definitions(config: GovernanceConfig, model: ModelConfig) -> dg.Definitions:
    """The data-governance assets and checks of one declared model."""
    owners = model_owners(config, model)
    tags = model_tags(model)
    source_kind = "sql" if isinstance(model.data.source, SqlSource) else model.data.source.kind
    training_data = dg.AssetSpec(
        key=naming.model_asset_key(model.name, naming.TRAINING_DATA),
        description=_source_description(model),
        group_name=model.name,
        kinds={source_kind},
        owners=owners,
        tags=tags,
        metadata={"source": dg.MetadataValue.json(describe_source(model.data.source))},
    )
    snapshot = _snapshot_asset(model, training_data, owners, tags)
    return dg.Definitions(
        assets=[training_data, snapshot, _profile_asset(model, snapshot, owners, tags)],
        asset_checks=[_integrity_check(model, snapshot), _schema_check(model, snapshot)],
    )


def _snapshot_asset(
    model: ModelConfig, training_data: dg.AssetSpec, owners: list[str], tags: dict[str, str]
) -> dg.AssetsDefinition:
    key = lambda name: naming.model_asset_key(model.name, name)  # noqa: E731

    @dg.asset(
        key=key(naming.TRAINING_SNAPSHOT),
        deps=[training_data],
        group_name=model.name,
        kinds={"parquet", "pandas"},
        owners=owners,
        tags=tags,
        code_version=SNAPSHOT_CODE_VERSION,
        io_manager_key=HANDOFF_IO_MANAGER,
    )
    def training_snapshot(
        context: dg.AssetExecutionContext, governance_store: GovernanceStoreResource
    ) -> dg.MaterializeResult[str]:
        """An immutable, content-addressed snapshot of the training data (parquet + sha256).

        Its data version is the file's sha256, so every downstream record names exactly
        which bytes it was built from. Identical data yields the identical snapshot.
        """
        store = governance_store.store
        actor = naming.run_actor(context)
        store.register_model(
            name=model.name,
            team=model.team,
            owner=model.owner,
            description=model.description,
            config=model.model_dump(mode="json", by_alias=True),
            actor=actor,
        )
        frame = load_training_data(model.data.source)
        manifest = write_snapshot(frame, _snapshot_folder(store, model))
        record, created = store.register_snapshot(
            snapshot_id=manifest.snapshot_id,
            model_name=model.name,
            path=manifest.path,
            row_count=manifest.row_count,
            column_count=manifest.column_count,
            byte_size=manifest.byte_size,
            columns=manifest.columns,
            source=describe_source(model.data.source),
            actor=actor,
        )
        context.log.info(
            f"snapshot {manifest.snapshot_id[:12]} ({'new' if created else 'unchanged data, reused'})"
        )
        return dg.MaterializeResult(
            value=manifest.snapshot_id,
            metadata={
                "snapshot_id": manifest.snapshot_id,
                "path": dg.MetadataValue.path(manifest.path),
                "dagster/row_count": dg.MetadataValue.int(manifest.row_count),
                "columns": dg.MetadataValue.int(manifest.column_count),
                "bytes": dg.MetadataValue.int(manifest.byte_size),
                "new_snapshot": created,
                "first_taken_at": record.created_at.isoformat(),
                "dagster/column_schema": _column_schema(model, manifest.columns),
            },
            data_version=dg.DataVersion(manifest.snapshot_id),
        )

    return training_snapshot


def _integrity_check(
    model: ModelConfig, snapshot_asset: dg.AssetsDefinition
) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=snapshot_asset,
        name=check_names.SNAPSHOT_INTEGRITY,
        blocking=True,
        description="The snapshot file still hashes to its recorded sha256 (not altered since written).",
    )
    def snapshot_integrity(
        context: dg.AssetCheckExecutionContext,
        governance_store: GovernanceStoreResource,
        training_snapshot: str,
    ) -> dg.AssetCheckResult:
        store = governance_store.store
        snapshot = store.get_snapshot(training_snapshot, model.name)
        intact = verify_snapshot(snapshot.path, snapshot.snapshot_id)
        summary = (
            "file hash matches the snapshot id"
            if intact
            else f"{snapshot.path} is missing or altered; restore it or take a new snapshot"
        )
        return check_verdict(
            context,
            store,
            model_name=model.name,
            check_name=check_names.SNAPSHOT_INTEGRITY,
            passed=intact,
            summary=summary,
            evidence={"path": snapshot.path},
            snapshot_id=snapshot.snapshot_id,
            metadata={"snapshot_id": snapshot.snapshot_id},
        )

    return snapshot_integrity


def _schema_check(
    model: ModelConfig, snapshot_asset: dg.AssetsDefinition
) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=snapshot_asset,
        name=check_names.SNAPSHOT_SCHEMA_VALID,
        blocking=True,
        description="The snapshot satisfies the pandera schema declared in governance.yaml (data.columns).",
    )
    def snapshot_schema_valid(
        context: dg.AssetCheckExecutionContext,
        governance_store: GovernanceStoreResource,
        training_snapshot: str,
    ) -> dg.AssetCheckResult:
        store = governance_store.store
        snapshot = store.get_snapshot(training_snapshot, model.name)
        try:
            frame = read_snapshot(snapshot.path, snapshot.snapshot_id)
        except SnapshotError as error:
            report_summary, violations, passed, failures = str(error), [], False, 0
        else:
            report = validate_frame(frame, build_schema(model.data))
            report_summary, passed, failures = report.summary, report.passed, report.failure_count
            violations = violations_as_records(report)
        context.log.info(report_summary)
        return check_verdict(
            context,
            store,
            model_name=model.name,
            check_name=check_names.SNAPSHOT_SCHEMA_VALID,
            passed=passed,
            summary=report_summary,
            evidence={"violations": violations},
            snapshot_id=snapshot.snapshot_id,
            metadata={
                "snapshot_id": snapshot.snapshot_id,
                "failures": dg.MetadataValue.int(failures),
                "violations": dg.MetadataValue.md(
                    markdown_table(violations, empty="No violations.")
                ),
                "violations_json": dg.MetadataValue.json(violations),
            },
        )

    return snapshot_schema_valid


def _profile_asset(
    model: ModelConfig,
    snapshot_asset: dg.AssetsDefinition,
    owners: list[str],
    tags: dict[str, str],
) -> dg.AssetsDefinition:
    key = lambda name: naming.model_asset_key(model.name, name)  # noqa: E731

    @dg.asset(
        key=key(naming.TRAINING_DATA_PROFILE),
        ins={"training_snapshot": dg.AssetIn(snapshot_asset.key)},
        group_name=model.name,
        kinds={"pandas"},
        owners=owners,
        tags=tags,
    )
    def training_data_profile(
        context: dg.AssetExecutionContext,
        governance_store: GovernanceStoreResource,
        training_snapshot: str,
    ) -> dg.MaterializeResult:
        """Per-column statistics of the validated snapshot, for reviewers and model cards."""
        store = governance_store.store
        snapshot = store.get_snapshot(training_snapshot, model.name)
        profiles = profile_frame(read_snapshot(snapshot.path, snapshot.snapshot_id))
        path = Path(snapshot.path).with_suffix(".profile.json")
        if not path.exists():
            path.write_text(json.dumps(profile_as_records(profiles), indent=2), encoding="utf-8")
        return dg.MaterializeResult(
            metadata={
                "snapshot_id": snapshot.snapshot_id,
                "profile": dg.MetadataValue.md(profile_as_markdown(profiles)),
                "path": dg.MetadataValue.path(str(path)),
            },
            data_version=dg.DataVersion(snapshot.snapshot_id),
        )

    return training_data_profile


def _source_description(model: ModelConfig) -> str:
    source = describe_source(model.data.source)
    where = {
        "sql": lambda: f"the SQL query `{source.get('query')}` on {source.get('url')}",
        "file": lambda: f"the file `{source.get('path')}`",
        "python": lambda: f"the Python callable `{source.get('callable')}`",
    }[source["kind"]]()
    return (
        f"The raw training data of {model.name}, read from {where}: target `{model.data.target}`, "
        f"{len(model.data.features)} features. Not materialized here: training_snapshot takes an "
        "immutable copy of it."
    )


def _column_schema(model: ModelConfig, dtypes: dict[str, str]) -> dg.TableSchema:
    """The snapshot's column types with the rules of the pandera schema the gate enforces
    (drawn from that schema, so the UI can never show a rule the gate does not check)."""
    rules = column_rules(build_schema(model.data))
    columns = []
    for name, dtype in dtypes.items():
        rule = rules.get(name)
        columns.append(
            dg.TableColumn(
                name,
                dtype,
                description=rule.description if rule else None,
                constraints=dg.TableColumnConstraints(
                    nullable=rule.nullable, unique=rule.unique, other=list(rule.rules)
                )
                if rule
                else None,
            )
        )
    return dg.TableSchema(columns=columns)


def _snapshot_folder(store: GovernanceStore, model: ModelConfig) -> Path:
    return store.home / "snapshots" / model.name
