"""`governance reproduce` and `governance abtest`: validation evidence on demand."""

from __future__ import annotations

import json

import click

from governance_pipelines.cli._common import config_option, open_store, store_options


@click.command()
@click.argument("model_name")
@click.argument("version", type=click.IntRange(min=1))
@click.option(
    "--user", default="cli", show_default=True, help="Recorded as the actor in the audit log."
)
@store_options
def reproduce(
    model_name: str, version: int, user: str, database_url: str | None, home: str | None
) -> None:
    """Retrain MODEL VERSION from its stored record and snapshot; exit 1 unless it matches."""
    from governance_pipelines.compliance.artifacts import verified_version
    from governance_pipelines.development.model_versions import read_artifact
    from governance_pipelines.development.reproducibility import (
        ReproducibilitySpec,
        check_reproducibility,
    )
    from governance_pipelines.development.snapshot import SnapshotError, read_snapshot
    from governance_pipelines.store import StoreError

    with open_store(database_url, home) as store:
        try:
            registered = verified_version(
                store, model_name, version, actor=user, purpose="reproduce"
            )
            snapshot = store.get_snapshot(registered.snapshot_id, model_name)
            frame = read_snapshot(snapshot.path, snapshot.snapshot_id)
            artifact = read_artifact(registered.artifact_path)
        except (StoreError, SnapshotError, FileNotFoundError) as error:
            raise click.ClickException(str(error)) from None
        click.echo(
            f"retraining {model_name} v{version} from its record (snapshot {snapshot.snapshot_id[:12]}) ..."
        )
        tolerance = registered.record.get("reproducibility_tolerance")
        result = check_reproducibility(
            frame,
            registered.record,
            ReproducibilitySpec(metric_tolerance=tolerance),
            original_artifact=artifact,
        )
        store.record_event(
            actor=user,
            action="model_version.reproduced",
            model_name=model_name,
            version=version,
            payload={
                "passed": result.passed,
                "mode": result.mode,
                "findings": list(result.findings),
            },
        )
    if result.passed:
        click.echo(
            "REPRODUCED: identical test-set predictions"
            if result.identical_predictions
            else "REPRODUCED within tolerance"
        )
    for difference in result.environment_differences:
        click.echo(f"  environment differs: {difference}")
    if not result.passed:
        for finding in result.findings:
            click.echo(f"NOT REPRODUCED: {finding}", err=True)
        raise SystemExit(1)


@click.command()
@click.argument("model_name")
@click.option(
    "--candidate", type=click.IntRange(min=1), required=True, help="The challenger version."
)
@click.option(
    "--control", type=click.IntRange(min=1), required=True, help="The version it is compared with."
)
@click.option(
    "--user", default="cli", show_default=True, help="Recorded as the actor in the audit log."
)
@click.option("--json", "as_json", is_flag=True, help="Print the full result as JSON.")
@config_option
@store_options
def abtest(
    model_name: str,
    candidate: int,
    control: int,
    user: str,
    as_json: bool,
    config_path: str | None,
    database_url: str | None,
    home: str | None,
) -> None:
    """Compare the online KPI of two versions from the inference log and record the evidence."""
    from governance_pipelines.check_names import AB_TEST
    from governance_pipelines.config import ConfigError, load_config
    from governance_pipelines.development.ab_testing import ABTestError
    from governance_pipelines.development.online_ab import OnlineEvaluationError, evaluate_versions
    from governance_pipelines.store.inference_log import read_inference_log

    try:
        model = load_config(config_path).model(model_name)
    except (ConfigError, KeyError) as error:
        raise click.ClickException(str(error).strip('"')) from None
    with open_store(database_url, home) as store:
        log = read_inference_log(store.engine, model_name)
        try:
            result = evaluate_versions(log, model, candidate=candidate, control=control)
        except (OnlineEvaluationError, ABTestError) as error:
            raise click.ClickException(str(error)) from None
        store.record_check_result(
            model_name=model_name,
            check_name=AB_TEST,
            passed=result.conclusion == "candidate_better",
            severity="WARN",
            summary=result.message,
            evidence={"control_version": control, **result.to_dict()},
            actor=user,
            version=candidate,
        )
    if as_json:
        click.echo(
            json.dumps(
                {"control_version": control, "candidate_version": candidate, **result.to_dict()}
            )
        )
        return
    click.echo(
        f"{model_name}: v{candidate} (candidate) vs v{control} (control), KPI {result.kpi_name} ({result.test})"
    )
    click.echo(
        f"  control {result.control_mean:.4f} (n={result.n_control}), candidate {result.candidate_mean:.4f} (n={result.n_candidate})"
    )
    click.echo(
        f"  difference {result.difference:+.4f} [95% CI {result.ci_low:+.4f}, {result.ci_high:+.4f}], p = {result.p_value:.4g}, {result.effect_size_name} = {result.effect_size:.3f}"
    )
    click.echo(f"  {result.conclusion}: {result.message}")
