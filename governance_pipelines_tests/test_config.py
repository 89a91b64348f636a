"""governance.yaml parsing: a wrong file is named precisely, never half-accepted."""

from __future__ import annotations

import logging
import re
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from governance_pipelines.cli import main
from governance_pipelines.config import (
    PACKAGED_DEMO_CONFIG,
    ConfigError,
    GovernanceConfig,
    load_config,
    parse_config,
)


def _demo_raw() -> dict:
    return yaml.safe_load(PACKAGED_DEMO_CONFIG.read_text())


def _problems(raw: dict | str) -> list[str]:
    text = raw if isinstance(raw, str) else yaml.safe_dump(raw)
    with pytest.raises(ConfigError) as caught:
        parse_config(text, source="governance.yaml")
    return caught.value.problems


def test_demo_config_loads_with_every_section(demo_config: GovernanceConfig) -> None:
    credit = demo_config.model("credit_default")
    assert credit.training.min_metric == 0.70
    assert credit.data.sensitive_attributes == ["gender", "age"]
    assert credit.required_approvals == 2
    assert demo_config.channel_for(credit) == "#credit-risk-ml"
    assert credit.sla.p95_latency_ms == 120
    assert credit.cost.per_1k_requests == Decimal("0.40")
    assert demo_config.model("breast_cancer").monitoring.drift_profile == "auto"


def test_wrong_type_names_file_key_path_and_expectation() -> None:
    raw = _demo_raw()
    raw["models"][1]["training"]["min_metric"] = "high"
    with pytest.raises(ConfigError) as caught:
        parse_config(yaml.safe_dump(raw), source="governance.yaml")
    assert (
        str(caught.value)
        == "governance.yaml: models[1].training.min_metric: expected a number, got 'high'"
    )


def test_unknown_key_is_an_error_that_lists_allowed_keys() -> None:
    raw = _demo_raw()
    raw["models"][0]["training"]["min_metic"] = 0.8
    (problem,) = _problems(raw)
    assert problem.startswith("models[0].training.min_metic: unknown key")
    assert "min_metric" in problem  # the allowed keys show the fix


def test_unknown_key_inside_a_data_source_lists_that_source_kinds_keys() -> None:
    raw = _demo_raw()
    raw["models"][0]["data"]["source"]["table"] = "x"
    (problem,) = _problems(raw)
    assert problem.startswith("models[0].data.source.table: unknown key")
    assert "callable" in problem


def test_missing_required_key() -> None:
    raw = _demo_raw()
    del raw["models"][0]["data"]["target"]
    assert _problems(raw) == ["models[0].data.target: required key is missing"]


def test_every_problem_is_reported_at_once() -> None:
    raw = _demo_raw()
    raw["models"][0]["training"]["test_size"] = 1.5
    raw["models"][1]["sla"]["availability"] = "always"
    raw["teams"][0]["colour"] = "blue"
    problems = _problems(raw)
    assert len(problems) == 3
    assert any(p.startswith("models[0].training.test_size:") for p in problems)
    assert "models[1].sla.availability: expected a number, got 'always'" in problems


def test_source_kind_must_be_known() -> None:
    raw = _demo_raw()
    raw["models"][0]["data"]["source"] = {"kind": "s3", "path": "s3://x"}
    (problem,) = _problems(raw)
    assert problem.startswith("models[0].data.source: expected one of")
    assert "'s3'" in problem


def test_model_name_must_be_snake_case() -> None:
    raw = _demo_raw()
    raw["models"][0]["name"] = "Credit Default"
    (problem,) = _problems(raw)
    assert problem.startswith("models[0].name: expected lower-case letters")


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda r: r["models"][0].update(owner="zoe"),
            "models[0].owner: 'zoe' is not among people",
        ),
        (lambda r: r["models"][0].update(team="growth"), "models[0].team: unknown team 'growth'"),
        (
            lambda r: r["people"][0].update(roles=["superuser"]),
            "people[0].roles: unknown role 'superuser'",
        ),
        (
            lambda r: r["models"].append(r["models"][0]),
            "models: 'credit_default' is declared twice",
        ),
        (
            lambda r: r["models"][1]["training"].update(split="time"),
            "models[1].training.split: 'time' needs data.time_column",
        ),
        (
            lambda r: r["models"][0]["data"]["features"].append("default"),
            "models[0].data: target column 'default' is also listed in features",
        ),
        (
            lambda r: r.update(roles={"viewer": ["model.fly"]}),
            "roles.viewer: unknown permission 'model.fly'",
        ),
        (
            lambda r: r["models"][0]["monitoring"].update(feature_thresholds={"incme": 0.2}),
            "models[0].monitoring.feature_thresholds.incme: not a feature",
        ),
    ],
)
def test_cross_references_are_checked(mutate, expected: str) -> None:
    raw = _demo_raw()
    mutate(raw)
    problems = _problems(raw)
    assert any(p.startswith(expected) for p in problems), problems


def test_invalid_yaml_names_line_and_column() -> None:
    (problem,) = _problems("teams:\n  - name: a\n    slack_channel: [unclosed\n")
    assert problem.startswith("line ")
    assert "invalid YAML" in problem


@pytest.mark.parametrize(("text", "got"), [("", "an empty file"), ("- a\n- b\n", "a list")])
def test_top_level_must_be_a_mapping(text: str, got: str) -> None:
    (problem,) = _problems(text)
    assert got in problem


def test_missing_file_says_how_to_fix_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found; create it"):
        load_config(tmp_path / "nope.yaml")


def test_environment_variable_selects_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "mine.yaml"
    target.write_text(PACKAGED_DEMO_CONFIG.read_text())
    monkeypatch.setenv("GOVERNANCE_CONFIG", str(target))
    assert load_config().model("breast_cancer").owner == "dan"


def test_cli_validate_ok_and_error_exit_codes(tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(main, ["config", "validate", str(PACKAGED_DEMO_CONFIG)])
    assert ok.exit_code == 0, ok.output
    assert ok.output.startswith("OK: 2 model(s)")

    raw = _demo_raw()
    raw["models"][1]["training"]["min_metric"] = "high"
    bad = tmp_path / "governance.yaml"
    bad.write_text(yaml.safe_dump(raw))
    failed = runner.invoke(main, ["config", "validate", str(bad)])
    assert failed.exit_code == 1
    assert f"{bad}: models[1].training.min_metric: expected a number, got 'high'" in failed.output


def test_unknown_drift_method_is_named() -> None:
    raw = _demo_raw()
    raw["models"][0]["monitoring"]["feature_methods"] = {"annual_income": "psi"}
    (problem,) = _problems(raw)
    assert problem.startswith("models[0].monitoring.feature_methods.annual_income: expected one of")
    assert "'psi'" in problem


def test_timezone_and_cron_are_checked() -> None:
    raw = _demo_raw()
    raw["schedules"] = {"timezone": "Mars/Olympus", "nightly_audit_cron": "every night"}
    problems = _problems(raw)
    assert any("unknown timezone 'Mars/Olympus'" in p for p in problems)
    assert any("5-field cron expression" in p for p in problems)


# --- what a new team hit (issue 8): each reproduced first, then named -------------------


def test_a_key_given_twice_is_an_error_not_the_last_value() -> None:
    text = PACKAGED_DEMO_CONFIG.read_text().replace(
        "min_metric: 0.70", "min_metric: 0.70\n      min_metric: 0.0", 1
    )
    (problem,) = _problems(text)
    assert "key 'min_metric' appears twice in one mapping" in problem
    assert problem.startswith("line ")


def test_yaml_merge_keys_may_still_be_overridden() -> None:
    raw = _demo_raw()
    text = "x-sla: &sla {availability: 0.99, p95_latency_ms: 100}\n" + yaml.safe_dump(raw)
    text = text.replace("models:", "models:", 1)
    with pytest.raises(ConfigError, match="x-sla"):  # unknown key, but not a duplicate
        parse_config(text)


def test_an_alias_bomb_is_refused_before_it_expands() -> None:
    levels = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for name, previous in zip("bcdefghi", "abcdefgh", strict=True):
        levels.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
    text = "\n".join(levels) + "\ncategories: *i\n"
    (problem,) = _problems(text)
    assert "expands to more than 100,000 values through YAML aliases" in problem


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"teams: [\xff\xfe]\n", "not UTF-8 text (byte 0xff at offset 8)"),
        (bytes(range(256)), "not UTF-8"),
    ],
)
def test_a_binary_or_latin1_file_is_named_not_a_traceback(
    tmp_path: Path, content: bytes, expected: str
) -> None:
    path = tmp_path / "governance.yaml"
    path.write_bytes(content)
    with pytest.raises(ConfigError, match=re.escape(expected)):
        load_config(path)
    result = CliRunner().invoke(main, ["config", "validate", str(path)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output


def test_an_invalid_regex_is_a_config_error() -> None:
    raw = _demo_raw()
    model = raw["models"][0]
    first = next(iter(model["data"]["columns"]))
    model["data"]["columns"][first]["str_matches"] = "[unclosed"
    (problem,) = _problems(raw)
    assert "str_matches: not a valid regular expression" in problem


def test_infinite_thresholds_and_channel_mentions_are_refused() -> None:
    raw = _demo_raw()
    raw["models"][0]["training"]["min_metric"] = float("-inf")
    raw["teams"][0]["slack_channel"] = "<!channel>"
    problems = _problems(raw)
    assert any("models[0].training.min_metric" in p for p in problems)
    assert any("teams[0].slack_channel: expected a Slack channel" in p for p in problems)


def test_validate_prints_the_roles_in_force(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["config", "validate", str(PACKAGED_DEMO_CONFIG)])
    assert result.exit_code == 0, result.output
    assert "admin: model.view, model.call" in result.output
    assert "model.promote" in result.output.split("admin:")[1].splitlines()[0]


# --- property: no governance file gives a traceback ---------------------------------------


_LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
)
_VALUE = st.recursive(
    _LEAF,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def _paths(node: object, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_change_to_a_valid_file_loads_or_is_a_config_error(data: st.DataObject) -> None:
    raw = _demo_raw()
    path = data.draw(st.sampled_from(_paths(raw)[1:]))
    parent = raw
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = data.draw(_VALUE)
    assert all(isinstance(p, str) and p for p in _outcome(yaml.safe_dump(raw)))


@settings(max_examples=150, deadline=None)
@given(text=st.text(max_size=200))
def test_any_text_loads_or_is_a_config_error(text: str) -> None:
    _outcome(text)


def _outcome(text: str) -> list[str]:
    """[] when the text loads; the problems of the ConfigError otherwise (never another error)."""
    try:
        parse_config(text)
    except ConfigError as error:
        problems = list(error.problems)
        if not problems:
            raise AssertionError("a ConfigError without a problem") from error
        return problems
    return []


@pytest.mark.parametrize("url", ["docs.example.com/cards", "ftp://docs.example.com", "https://"])
def test_documentation_base_url_must_be_an_http_url(url: str) -> None:
    raw = _demo_raw()
    raw["documentation_base_url"] = url
    (problem,) = _problems(raw)
    assert "documentation_base_url" in problem
    assert "must be an http(s) URL like 'https://docs.example.com/model-cards'" in problem


def test_documentation_base_url_loses_its_trailing_slash() -> None:
    raw = _demo_raw()
    raw["documentation_base_url"] = "https://docs.example.com/cards/"
    config = parse_config(yaml.safe_dump(raw))
    assert config.documentation_base_url == "https://docs.example.com/cards"


def test_every_command_and_the_code_location_find_the_same_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from governance_pipelines.config import PACKAGED_DEMO_CONFIG, loading, resolve_config_path

    # Another test's logging set-up (Dagster's) may have disabled or raised this logger.
    monkeypatch.setattr(logging.getLogger(loading.__name__), "disabled", False)
    caplog.set_level("WARNING", logger=loading.__name__)
    monkeypatch.chdir(tmp_path)
    with caplog.at_level("WARNING"):
        assert resolve_config_path() == PACKAGED_DEMO_CONFIG
    assert "using the packaged demo" in caplog.text  # the one real fall-back says so

    caplog.clear()
    monkeypatch.setenv("GOVERNANCE_CONFIG", str(PACKAGED_DEMO_CONFIG))
    with caplog.at_level("WARNING"):
        assert resolve_config_path() == PACKAGED_DEMO_CONFIG
    assert caplog.text == ""  # chosen, not fallen back to: no notice

    monkeypatch.delenv("GOVERNANCE_CONFIG")
    (tmp_path / "governance.yaml").write_text(PACKAGED_DEMO_CONFIG.read_text())
    with caplog.at_level("WARNING"):
        assert resolve_config_path() == Path("governance.yaml")
    assert caplog.text == ""


def test_config_validate_in_a_folder_without_a_file_reads_the_demo_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["config", "validate"])
    assert result.exit_code == 0, result.output
    assert "credit_default" in result.output


def test_after_the_demo_its_copy_in_the_governance_home_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from governance_pipelines.config import PACKAGED_DEMO_CONFIG, loading, resolve_config_path

    monkeypatch.setattr(logging.getLogger(loading.__name__), "disabled", False)
    caplog.set_level("WARNING", logger=loading.__name__)
    monkeypatch.chdir(tmp_path)
    home = tmp_path / "elsewhere"
    home.mkdir()
    (home / "governance.yaml").write_text(PACKAGED_DEMO_CONFIG.read_text())
    monkeypatch.setenv("GOVERNANCE_HOME", str(home))
    assert resolve_config_path() == home / "governance.yaml"
    assert "using the demo's" in caplog.text
