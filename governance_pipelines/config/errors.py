"""`ConfigError`, and pydantic validation errors translated into messages a user can act on.

Every message names the key path and what was expected; an unknown key also lists the keys
allowed at that place, so a typo's fix is one glance away. The root model is passed in
rather than imported so this module does not depend on `governance_pipelines.config`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel

_NAME_PATTERN = r"^[a-z][a-z0-9_]*$"
_NAME_HINT = "lower-case letters, digits and underscores, starting with a letter"


class ConfigError(Exception):
    """`governance.yaml` cannot be used; the message lists every problem found."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = list(problems)
        super().__init__("\n".join(f"{source}: {problem}" for problem in self.problems))


def _key_path(location: Sequence[str | int]) -> str:
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part in {"sql", "file", "python"} and path.endswith(".source"):
            continue  # the discriminated-union tag pydantic inserts
        else:
            path += f".{part}" if path else str(part)
    return path or "<top level>"


def _describe(error: Mapping[str, Any], raw: Any, root: type[BaseModel]) -> str:
    location = tuple(error["loc"])
    path = _key_path(location)
    kind = error["type"]
    given = error.get("input")
    if kind == "extra_forbidden":
        return f"{path}: unknown key; remove it or check its spelling{_allowed_keys(location, raw, root)}"
    if kind == "missing":
        return f"{path}: required key is missing"
    expected = {
        "float_parsing": "a number",
        "float_type": "a number",
        "decimal_parsing": "a number",
        "decimal_type": "a number",
        "finite_number": "a finite number",
        "int_parsing": "a whole number",
        "int_type": "a whole number",
        "int_from_float": "a whole number",
        "bool_parsing": "true or false",
        "bool_type": "true or false",
        "string_type": "a string",
        "list_type": "a list",
        "dict_type": "a mapping",
        "model_type": "a mapping",
        "model_attributes_type": "a mapping",
    }.get(kind)
    if expected:
        return f"{path}: expected {expected}, got {given!r}"
    if kind == "string_pattern_mismatch":
        pattern = error.get("ctx", {}).get("pattern", "")
        hint = _NAME_HINT if pattern == _NAME_PATTERN else f"text matching {pattern}"
        return f"{path}: expected {hint}, got {given!r}"
    if kind in {"literal_error", "union_tag_invalid"}:
        expected_values = error.get("ctx", {}).get("expected") or error.get("ctx", {}).get(
            "expected_tags"
        )
        return f"{path}: expected one of {expected_values}, got {given!r}"
    if kind == "union_tag_not_found":
        return f"{path}: missing 'kind' (one of 'sql', 'file', 'python')"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{path}: {message}" + (f" (got {given!r})" if _is_scalar(given) else "")


def _is_scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool)


def _allowed_keys(location: Sequence[str | int], raw: Any, root: type[BaseModel]) -> str:
    """The valid keys at the parent of an unknown key, so a typo's fix is one glance away."""
    model: type[BaseModel] | None = root
    node = raw
    for part in location[:-1]:
        if isinstance(part, int) or model is None:
            # Once no model is known the answer is "" whatever the node, so only a list
            # index needs following.
            if isinstance(part, int) and isinstance(node, Sequence):
                node = node[part]
            continue
        field = model.model_fields.get(part)
        if field is None and isinstance(node, Mapping) and node.get("kind") == part:
            continue  # the tag pydantic inserts for a discriminated union
        node = node.get(part) if isinstance(node, Mapping) else None
        model = _model_of(field.annotation if field else None, node)
    if model is None:
        return ""
    names = sorted(f.alias or name for name, f in model.model_fields.items())
    return f" (allowed: {', '.join(names)})"


def _model_of(annotation: Any, node: Any) -> type[BaseModel] | None:
    candidates = [annotation, *getattr(annotation, "__args__", ())]
    for candidate in candidates:
        for inner in [candidate, *getattr(candidate, "__args__", ())]:
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                kind_field = inner.model_fields.get("kind")
                if kind_field is None or (
                    isinstance(node, Mapping)
                    and node.get("kind") in getattr(kind_field.annotation, "__args__", ())
                ):
                    return inner
    return None
