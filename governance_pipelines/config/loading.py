"""Finding, reading and validating the governance file; `${VAR}` expansion."""

from __future__ import annotations

import logging
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
    DEMO_CONFIG_COPY,
    PACKAGED_DEMO_CONFIG,
    GovernanceConfig,
)

# --- loading -----------------------------------------------------------------------------


def resolve_config_path(path: str | os.PathLike[str] | None = None) -> Path:
    """The one way every command and the code location find their governance file.

    An explicit path, else `GOVERNANCE_CONFIG`, else ./governance.yaml; in a folder with
    none of these, the copy `governance demo` wrote to the governance home, else the
    packaged demo (so `dagster dev` and `governance models` after the demo show what it
    ran), and only then a notice says so. An explicit path
    or GOVERNANCE_CONFIG is always honoured, and its absence is an error.
    """
    if path is not None:
        return Path(path)
    env_path = os.environ.get("GOVERNANCE_CONFIG")
    if env_path:
        return Path(env_path)
    if DEFAULT_CONFIG_PATH.exists():
        return DEFAULT_CONFIG_PATH
    demo_copy = Path(os.environ.get("GOVERNANCE_HOME") or ".governance") / DEMO_CONFIG_COPY
    if demo_copy.exists():
        logging.getLogger(__name__).warning(
            "no governance.yaml in %s and GOVERNANCE_CONFIG is unset: using the demo's %s",
            Path.cwd(),
            demo_copy,
        )
        return demo_copy
    logging.getLogger(__name__).warning(
        "no governance.yaml in %s and GOVERNANCE_CONFIG is unset: using the packaged demo "
        "models (%s); create governance.yaml or set GOVERNANCE_CONFIG for your own",
        Path.cwd(),
        PACKAGED_DEMO_CONFIG,
    )
    return PACKAGED_DEMO_CONFIG


def load_config(path: str | os.PathLike[str] | None = None) -> GovernanceConfig:
    """Load and validate a governance file, raising `ConfigError` with every problem."""
    config_path = resolve_config_path(path)
    source = str(config_path)
    try:
        text = config_path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(
            source,
            [
                f"not UTF-8 text (byte 0x{error.object[error.start]:02x} at offset "
                f"{error.start}): save the file as UTF-8 (a binary or Latin-1 file cannot be "
                "a governance file)"
            ],
        ) from None
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
        raw = _load_yaml(text)
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


# A governance file has hundreds of nodes; anchors and aliases may reuse blocks, but an
# alias "bomb" (aliases of aliases) expands exponentially and would exhaust memory.
MAX_EXPANDED_NODES = 100_000


class _GovernanceLoader(yaml.SafeLoader):
    """PyYAML's safe loader, minus what hides a mistake: a key given twice is an error
    (`min_metric: 0.70` then `min_metric: 0.0` must not quietly mean 0.0)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: dict[object, yaml.Mark] = {}
        for key_node, _value in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # `<<: *defaults` then overriding a key is YAML's own override
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.setdefault(key, key_node.start_mark)
            except TypeError:
                continue  # an unhashable key: the constructor below reports it
            if first is not key_node.start_mark:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"key {key!r} appears twice in one mapping (first at line {first.line + 1}); "
                    "remove one of them",
                    key_node.start_mark,
                )
        return super().construct_mapping(node, deep=deep)


def _load_yaml(text: str) -> object:
    loader = _GovernanceLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _bounded_expansion(node)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _bounded_expansion(root: yaml.Node) -> None:
    """Count the nodes the document expands to (aliases included) without expanding it."""
    sizes: dict[int, int] = {}

    def size(node: yaml.Node) -> int:
        known = sizes.get(id(node))
        if known is not None:
            return known
        sizes[id(node)] = 1  # a recursive alias counts once instead of looping
        if isinstance(node, yaml.MappingNode):
            total = 1 + sum(size(k) + size(v) for k, v in node.value)
        elif isinstance(node, yaml.SequenceNode):
            total = 1 + sum(size(item) for item in node.value)
        else:
            total = 1
        sizes[id(node)] = total = min(total, MAX_EXPANDED_NODES + 1)
        return total

    if size(root) > MAX_EXPANDED_NODES:
        raise yaml.constructor.ConstructorError(
            None,
            None,
            f"the document expands to more than {MAX_EXPANDED_NODES:,} values through YAML "
            "aliases (an alias bomb?); write the repeated blocks out or use fewer aliases",
            root.start_mark,
        )


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
