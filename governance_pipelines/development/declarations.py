"""Checks of a model's training declaration that need the machinery, before anything runs.

The config schema can tell that `metric:` is a string and `class:` looks like an import path,
but not that `auc` is no metric, that `RandomForestClasifier` does not exist or that
`max_dept` is not a parameter: each used to surface as a traceback at training time.
`governance config validate` and the code location run these checks up front.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import os
from typing import TYPE_CHECKING

from governance_pipelines.config import ConfigError, load_config, resolve_config_path
from governance_pipelines.development.estimators import EstimatorImportError, import_estimator
from governance_pipelines.development.metrics import METRICS, metric_names

if TYPE_CHECKING:
    from governance_pipelines.config import GovernanceConfig, ModelConfig


def declaration_problems(config: GovernanceConfig) -> list[str]:
    """Every problem of every model's training declaration, each with its key path."""
    problems: list[str] = []
    for index, model in enumerate(config.models):
        problems += _model_problems(f"models[{index}].training", model)
    return problems


def _model_problems(where: str, model: ModelConfig) -> list[str]:
    training = model.training
    problems: list[str] = []
    valid = metric_names(training.task)
    if training.metric not in valid:
        other = METRICS.get(training.metric)
        reason = (
            f"{training.metric!r} is a {other.task} metric"
            if other is not None
            else f"unknown metric {training.metric!r}{_did_you_mean(training.metric, valid)}"
        )
        problems.append(
            f"{where}.metric: {reason}; a {training.task} model can use {', '.join(valid)}"
        )
    path = training.estimator.class_path
    try:
        estimator = import_estimator(path)
    except EstimatorImportError as error:
        module, _, name = path.rpartition(".")
        hint = _class_hint(module, name)
        problems.append(f"{where}.estimator.class: {str(error).rstrip('.')}{hint}")
        return problems
    accepted = _parameters(estimator)
    if accepted is not None:
        for name in sorted(set(training.estimator.params) - accepted):
            problems.append(
                f"{where}.estimator.params.{name}: {path.rpartition('.')[2]} has no parameter "
                f"{name!r}{_did_you_mean(name, sorted(accepted))}"
            )
    return problems


def _parameters(estimator: type[object]) -> set[str] | None:
    """The constructor's parameter names; None when it takes **kwargs (anything goes)."""
    try:
        signature = inspect.signature(estimator.__init__)
    except (TypeError, ValueError):
        return None
    parameters = signature.parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return None
    return {p.name for p in parameters if p.name != "self"}


def _did_you_mean(word: str, choices: list[str] | tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _class_hint(module_name: str, class_name: str) -> str:
    """A close class name in the same module, when the module itself imports."""
    try:
        module = importlib.import_module(module_name)
    except (ImportError, ValueError):
        return "; check the module path (e.g. sklearn.ensemble.RandomForestClassifier)"
    classes = [name for name, value in vars(module).items() if isinstance(value, type)]
    return _did_you_mean(class_name, classes)


def load_checked_config(path: str | os.PathLike[str] | None = None) -> GovernanceConfig:
    """`load_config` plus the checks above: for whatever is about to train models."""
    config = load_config(path)
    problems = declaration_problems(config)
    if problems:
        raise ConfigError(str(resolve_config_path(path)), problems)
    return config
