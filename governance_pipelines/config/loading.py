"""Finding, reading and validating the governance file; `${VAR}` expansion."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

import yaml
from pydantic import ValidationError

from governance_pipelines.config.errors import ConfigError, _describe
from governance_pipelines.config.references import cross_reference_problems
from governance_pipelines.config.schema import (
    DEFAULT_CONFIG_PATH,
    PACKAGED_DEMO_CONFIG,
    GovernanceConfig,
)

# --- loading -----------------------------------------------------------------------------


def resolve_config_path(path: str | os.PathLike[str] | None = None) -> Path:
    """The file to load: an explicit path, else `GOVERNANCE_CONFIG`, else ./governance.yaml."""
    if path is not None:
        return Path(path)
    env_path = os.environ.get("GOVERNANCE_CONFIG")
    return Path(env_path) if env_path else DEFAULT_CONFIG_PATH


def config_path_or_demo(path: str | os.PathLike[str] | None = None) -> Path:
    """Like `resolve_config_path`, but a checkout with no governance.yaml gets the packaged demo.

    Used where showing something beats failing: `governance demo` and the Dagster code
    location (so `dagster dev` in a fresh clone shows the demo's assets). An explicit path or
    GOVERNANCE_CONFIG is always honoured, and its absence is an error.
    """
    if path is not None or os.environ.get("GOVERNANCE_CONFIG"):
        return resolve_config_path(path)
    local = resolve_config_path()
    return local if local.exists() else PACKAGED_DEMO_CONFIG


def load_config(path: str | os.PathLike[str] | None = None) -> GovernanceConfig:
    """Load and validate a governance file, raising `ConfigError` with every problem."""
    config_path = resolve_config_path(path)
    source = str(config_path)
    try:
        text = config_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        hint = (
            "create it (see governance_pipelines/examples/governance.yaml for a complete example) "
            "or point GOVERNANCE_CONFIG at your file"
        )
        raise ConfigError(source, [f"file not found; {hint}"]) from None
    except OSError as error:
        raise ConfigError(source, [f"cannot read the file: {error.strerror}"]) from None
    return parse_config(text, source=source)


def parse_config(text: str, *, source: str = "governance.yaml") -> GovernanceConfig:
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise ConfigError(source, [f"{where}invalid YAML: {problem}"]) from None
    if not isinstance(raw, Mapping):
        got = "an empty file" if raw is None else f"a {type(raw).__name__}"
        raise ConfigError(
            source, [f"expected a mapping with 'teams', 'people' and 'models', got {got}"]
        )
    try:
        config = GovernanceConfig.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(
            source, [_describe(e, raw, GovernanceConfig) for e in error.errors()]
        ) from None
    problems = cross_reference_problems(config)
    if problems:
        raise ConfigError(source, problems)
    return config


def expand_env(text: str) -> str:
    """Replace `${VAR}` / `${VAR:-default}` so URLs can carry secrets without storing them."""

    def substitute(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(3)
        value = os.environ.get(name, default)
        if value is None:
            raise ConfigError(
                "environment",
                [f"${{{name}}} is referenced in governance.yaml but not set; export it"],
            )
        return value

    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}", substitute, text)
