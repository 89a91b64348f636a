"""Training declarations are checked up front: metric, estimator class and parameters."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from governance_pipelines.cli import main
from governance_pipelines.config import PACKAGED_DEMO_CONFIG, ConfigError, parse_config
from governance_pipelines.development.declarations import declaration_problems, load_checked_config


def declared(**training: object) -> list[str]:
    raw = yaml.safe_load(PACKAGED_DEMO_CONFIG.read_text())
    raw["models"][1]["training"].update(training)
    return declaration_problems(parse_config(yaml.safe_dump(raw)))


def test_the_demo_declarations_are_valid() -> None:
    assert declared() == []


def test_an_unknown_metric_is_named_with_a_suggestion() -> None:
    (problem,) = declared(metric="auc")
    assert problem.startswith("models[1].training.metric: unknown metric 'auc'")
    assert "did you mean 'roc_auc'" in problem


def test_a_metric_of_the_other_task_is_named() -> None:
    (problem,) = declared(metric="rmse")
    assert "'rmse' is a regression metric; a classification model can use roc_auc" in problem


def test_a_misspelt_estimator_class_is_named_with_a_suggestion() -> None:
    (problem,) = declared(
        estimator={"class": "sklearn.ensemble.RandomForestClasifier", "params": {}}
    )
    assert problem.startswith("models[1].training.estimator.class:")
    assert "did you mean 'RandomForestClassifier'" in problem


def test_a_missing_module_is_named() -> None:
    (problem,) = declared(estimator={"class": "sklaern.ensemble.RandomForestClassifier"})
    assert "Cannot import estimator" in problem
    assert "check the module path" in problem


def test_an_unknown_parameter_is_named_against_the_signature() -> None:
    (problem,) = declared(
        estimator={
            "class": "sklearn.ensemble.RandomForestClassifier",
            "params": {"max_dept": 8, "n_estimators": 5},
        }
    )
    assert problem == (
        "models[1].training.estimator.params.max_dept: RandomForestClassifier has no "
        "parameter 'max_dept' (did you mean 'max_depth'?)"
    )


def test_config_validate_and_the_code_location_refuse_them(tmp_path: Path) -> None:
    raw = yaml.safe_load(PACKAGED_DEMO_CONFIG.read_text())
    raw["models"][0]["training"]["metric"] = "auc"
    path = tmp_path / "governance.yaml"
    path.write_text(yaml.safe_dump(raw))
    result = CliRunner().invoke(main, ["config", "validate", str(path)])
    assert result.exit_code == 1
    assert "models[0].training.metric: unknown metric 'auc'" in result.output
    with pytest.raises(ConfigError, match="unknown metric 'auc'"):
        load_checked_config(path)
