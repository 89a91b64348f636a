"""Model cards: content, escaping, gaps, figures, template overrides and a real browser.

The cards are read by people, so besides asserting on the text these tests decode every
embedded figure and, when chromium is installed, render the HTML in a headless browser.
"""

from __future__ import annotations

import base64
import html as html_lib
import json
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from governance_pipelines.documentation import plots
from governance_pipelines.documentation.model_card import (
    ModelCardInputError,
    ModelCardInputs,
    ModelCardTemplateError,
    RenderedCard,
    algorithm_family,
    default_algorithm_explanation,
    documentation_gaps,
    infer_task,
    render_model_card,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DATA_URI_RE = re.compile(r"data:image/png;base64,([A-Za-z0-9+/=]+)")
CHROMIUM = Path("/usr/bin/chromium")
XSS = "<script>alert('owned')</script>"
REPRODUCE = (
    "governance reproduce credit_default --version 3 --snapshot sha256:9f2c41d0 && echo 'ok'"
)


def _png_size(png: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk (no image library needed)."""
    assert png[:8] == PNG_SIGNATURE
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def _embedded_pngs(text: str) -> list[bytes]:
    return [base64.b64decode(m) for m in DATA_URI_RE.findall(text)]


def _full_inputs(**overrides: object) -> ModelCardInputs:
    """A complete classifier record, hand-made so the tests need no training."""
    features = ["income", "debt_to_income", "utilisation", "late_payments_12m"]
    data: dict[str, object] = {
        "model_name": "credit_default",
        "version": "3",
        "owner": "ana.silva@example.com",
        "team": "Risk Analytics",
        "status": "production",
        "description": "Probability that a retail applicant defaults within 12 months.",
        "business_context": "Underwriters use the score to prioritise manual review.",
        "business_justification": "Cuts expected credit losses by 4% versus v2.",
        "labels": {"domain": "credit", "tier": "1"},
        "algorithm": "Random forest",
        "estimator_class": "sklearn.ensemble.RandomForestClassifier",
        "parameters": {"n_estimators": 120, "max_depth": 8, "class_weight": None},
        "features": [
            *(
                {"name": n, "dtype": "float64", "description": f"Applicant {n}", "role": "input"}
                for n in features
            ),
            {
                "name": "default_12m",
                "dtype": "int",
                "description": "1 if the account defaulted within 12 months",
                "role": "output",
            },
        ],
        "customisations": ["Class weights balanced to the 2023 default rate"],
        "reproduce_command": REPRODUCE,
        "source": {
            "commit": "4b1e0c9d2f7a8e6b3c5d1f0a9e8b7c6d5e4f3a2b",
            "repository_url": "https://github.com/example/credit-models.git",
            "dirty": False,
        },
        "environment": {"python": "3.12.4", "packages": {"scikit-learn": "1.5.1"}},
        "training_examples": [
            {"income": 52000, "debt_to_income": 0.31, "utilisation": 0.4, "default_12m": 0},
            {"income": 18000, "debt_to_income": 0.72, "utilisation": 0.95, "default_12m": 1},
        ],
        "prediction_request": {"instances": [{"income": 41000, "debt_to_income": 0.2}]},
        "prediction_response": {"predictions": [{"default_probability": 0.0731}]},
        "metrics": {"roc_auc": 0.9123, "accuracy": 0.871, "n_test": 7500},
        "primary_metric": "roc_auc",
        "metric_threshold": 0.85,
        "validation_results": [
            {"check": "metric_threshold", "passed": True, "summary": "roc_auc 0.91 >= 0.85"},
            {"check": "no_target_leakage", "passed": True, "summary": "no leaking feature"},
            {"check": "ab_test_kpi", "passed": False, "summary": "uplift not significant"},
        ],
        "fairness": [
            {"group": "female", "n": 1450, "selection_rate": 0.35, "tpr": 0.88},
            {"group": "male", "n": 1550, "selection_rate": 0.47, "tpr": 0.9},
        ],
        "feature_importances": [
            {"feature": "utilisation", "importance": 0.21, "std": 0.02},
            {"feature": "late_payments_12m", "importance": 0.12, "std": 0.01},
            {"feature": "income", "importance": 0.05, "std": None},
            {"feature": "debt_to_income", "importance": 0.01, "std": 0.004},
        ],
        "roc_curve": {"fpr": [0.0, 0.05, 0.1, 0.3, 1.0], "tpr": [0.0, 0.6, 0.8, 0.93, 1.0]},
        "calibration": {
            "mean_predicted": [0.05, 0.25, 0.5, 0.75, 0.95],
            "fraction_positive": [0.04, 0.22, 0.52, 0.71, 0.96],
        },
        "data_snapshot": {
            "id": "snap-2024-06-01",
            "sha256": "9f2c41d0e1b7a6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1",
            "rows": 30000,
            "columns": 5,
            "created_at": "2024-06-01T02:00:00Z",
        },
        "lineage": [{"name": "raw.applications", "kind": "table"}, "bureau_scores"],
        "approvals": [
            {
                "user": "li.wei",
                "role": "validator",
                "decision": "approved",
                "at": "2024-06-03T10:12Z",
                "note": "Fairness reviewed",
            }
        ],
        "stage_history": [
            {"stage": "registered", "at": "2024-06-01", "by": "ana.silva"},
            {"stage": "production", "at": "2024-06-05", "by": "m.okafor"},
        ],
        "generated_at": "2024-06-05T16:00:00Z",
    }
    data.update(overrides)
    return ModelCardInputs.from_mapping(data)


def _minimal_inputs(**overrides: object) -> ModelCardInputs:
    return ModelCardInputs.from_mapping(
        {"model_name": "churn", "version": "1", "owner": "bob", **overrides}
    )


@pytest.fixture(scope="module")
def full_card() -> RenderedCard:
    pytest.importorskip("matplotlib")
    return render_model_card(_full_inputs())


# ---------------------------------------------------------------------------------------
# Content
# ---------------------------------------------------------------------------------------


def test_full_card_has_every_section_and_value(full_card: RenderedCard) -> None:
    page = html_lib.unescape(full_card.html)
    for section in (
        "overview",
        "algorithm",
        "features",
        "data",
        "performance",
        "explainability",
        "fairness",
        "validation",
        "reproduce",
        "examples",
        "governance",
    ):
        assert f'id="{section}"' in full_card.html, section
    for expected in (
        "credit_default",
        "v3",
        "ana.silva@example.com",
        "Risk Analytics",
        "production",
        "Underwriters use the score to prioritise manual review.",
        "Cuts expected credit losses by 4% versus v2.",
        "sklearn.ensemble.RandomForestClassifier",
        "A random forest trains many decision trees",
        "n_estimators",
        "120",
        "Applicant debt_to_income",
        "1 if the account defaulted within 12 months",
        "Class weights balanced to the 2023 default rate",
        REPRODUCE,
        "4b1e0c9d2f7a",
        "https://github.com/example/credit-models/commit/4b1e0c9d2f7a8e6b3c5d1f0a9e8b7c6d5e4f3a2b",
        "0.9123",
        "≥ 0.85",
        "7,500",
        "no_target_leakage",
        "uplift not significant",
        "female",
        "0.745",  # selection-rate disparity 0.35 / 0.47, flagged below 0.8
        "below 0.8",
        "9f2c41d0e1b7a6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1",
        "30,000",
        "raw.applications",
        "bureau_scores",
        '"default_probability": 0.0731',
        "li.wei",
        "Fairness reviewed",
        "domain:",
    ):
        assert expected in page, expected
    assert "Documentation gaps" not in full_card.html
    assert full_card.gaps == []


def test_markdown_card_has_sections_tables_and_exact_reproduce_command(
    full_card: RenderedCard,
) -> None:
    md = full_card.markdown
    assert md.startswith("# Model card: credit_default `v3`")
    for heading in ("## 1. Overview", "## 2. Algorithm", "## 5. Performance", "## 7. Fairness"):
        assert heading in md
    assert "| `n_estimators` | `120` |" in md
    assert "| roc_auc (primary) | 0.9123 | ≥ 0.85 | ✅ pass |" in md
    assert f"```shell\n{REPRODUCE}\n```" in md
    assert "```mermaid\nflowchart LR" in md
    assert '"default_probability": 0.0731' in md
    assert "\n\n\n" not in md


def test_full_card_embeds_decodable_png_figures(full_card: RenderedCard) -> None:
    html_pngs = _embedded_pngs(full_card.html)
    assert len(html_pngs) == 3  # feature importance, ROC, calibration
    for png in html_pngs:
        width, height = _png_size(png)
        assert width == 600
        assert 200 <= height <= 600
    assert sorted(_embedded_pngs(full_card.markdown)) == sorted(html_pngs)
    assert sorted(full_card.images.values()) == sorted(html_pngs)
    assert set(full_card.images) == {
        "credit_default_3_feature_importance.png",
        "credit_default_3_roc_curve.png",
        "credit_default_3_calibration.png",
    }
    assert 'src="http' not in full_card.html
    assert "<script" not in full_card.html


def test_markdown_can_link_sibling_png_files(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    card = render_model_card(
        _minimal_inputs(
            feature_importances=[{"feature": "tenure", "importance": 0.4, "std": 0.05}]
        ),
        markdown_images="files",
    )
    assert "data:image" not in card.markdown
    assert "![Feature importance](churn_1_feature_importance.png)" in card.markdown
    assert DATA_URI_RE.search(card.html)  # HTML stays self-contained
    written = card.write(tmp_path / "out")
    names = sorted(p.name for p in written)
    assert names == ["churn_1_feature_importance.png", "model_card.html", "model_card.md"]
    assert (tmp_path / "out" / "churn_1_feature_importance.png").read_bytes()[:8] == PNG_SIGNATURE


def test_regressor_card_shows_predicted_vs_actual_and_no_roc() -> None:
    pytest.importorskip("matplotlib")
    inputs = _minimal_inputs(
        estimator_class="sklearn.ensemble.GradientBoostingRegressor",
        metrics={"rmse": 12.5},
        primary_metric="rmse",
        metric_threshold=15.0,
        higher_is_better=False,
        predicted_vs_actual={"predicted": [1.0, 2.1, 2.9, 4.2], "actual": [1.1, 2.0, 3.0, 4.0]},
    )
    card = render_model_card(inputs)
    assert list(card.images) == ["churn_1_predicted_vs_actual.png"]
    assert "Predicted vs actual" in card.html
    assert "ROC curve" not in card.html
    assert "≤ 15" in card.html
    assert "✓ pass" in card.html
    assert "Gradient boosting builds small decision trees" in card.html
    assert "regression" in card.html
    # Pure function: identical inputs give identical bytes, figures included.
    assert render_model_card(inputs) == card


def test_card_without_matplotlib_renders_and_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    def unavailable(*args: object, **kwargs: object) -> None:
        raise plots.PlottingUnavailableError("matplotlib is not installed")

    monkeypatch.setattr(plots, "_new_figure", unavailable)
    card = render_model_card(_full_inputs())
    assert card.images == {}
    assert "data:image" not in card.html
    assert "Figures omitted: matplotlib is not installed." in card.html
    assert "_Figures omitted: matplotlib is not installed._" in card.markdown
    assert "0.9123" in card.html


# ---------------------------------------------------------------------------------------
# Escaping
# ---------------------------------------------------------------------------------------


def test_user_text_is_escaped_in_html_and_markdown() -> None:
    inputs = _minimal_inputs(
        description=XSS,
        business_context=f"Context {XSS} & more",
        labels={"team": XSS},
        parameters={"sep": f"a|{XSS}"},
        features=[{"name": "x<y", "description": XSS, "role": "input"}],
        validation_results=[{"check": f"c|{XSS}", "passed": True, "summary": XSS}],
        approvals=[{"user": "eve", "decision": "approved", "note": XSS}],
        training_examples=[{"comment": XSS, "a|b": "pipe | inside"}],
        customisations=[XSS],
        lineage=[{"name": f'up"stream\n```\n{XSS}', "kind": "table"}],
    )
    card = render_model_card(inputs)
    assert "<script>" not in card.html
    assert "&lt;script&gt;alert(&#39;owned&#39;)&lt;/script&gt;" in card.html
    assert "Context &lt;script&gt;" in card.html
    assert "&amp; more" in card.html
    assert "&lt;script&gt;alert('owned')&lt;/script&gt;" in card.markdown
    assert "pipe \\| inside" in card.markdown  # a pipe cannot break the table

    # The property that matters: once a Markdown viewer renders the card (raw HTML
    # allowed, GFM tables on), no user-supplied tag survives — not even via a pipe that
    # splits a table cell inside a code span, or a backtick fence in a lineage name.
    markdown_it = pytest.importorskip("markdown_it")
    rendered = markdown_it.MarkdownIt("commonmark").enable("table").render(card.markdown)
    assert "<script>" not in rendered
    assert "&lt;script&gt;" in rendered
    # ...and a newline-and-fence in a name did not turn the rest of the card into code.
    assert "<h2>10. Governance</h2>" in rendered


# ---------------------------------------------------------------------------------------
# Documentation gaps
# ---------------------------------------------------------------------------------------


def test_minimal_card_renders_and_reports_gaps() -> None:
    inputs = _minimal_inputs()
    card = render_model_card(inputs)
    assert card.gaps == documentation_gaps(inputs)
    text = " ".join(card.gaps)
    for fragment in (
        "Business context is missing",
        "Business justification is missing",
        "Instructions to reproduce are missing",
        "No features are documented",
        "Customisations are not stated",
        "No prediction example",
        "training data snapshot is not identified",
    ):
        assert fragment in text, fragment
    assert "Documentation gaps (" in card.html
    assert "business context not documented" in card.html
    assert "<code>business_context</code>" in card.html
    assert "**⚠ Documentation gaps (" in card.markdown
    assert "_⚠ Business context not documented._" in card.markdown
    assert card.images == {}
    assert "data:image" not in card.html
    assert "unregistered" in card.html


def test_missing_feature_definitions_are_gaps_not_blanks() -> None:
    inputs = _minimal_inputs(
        features=[
            {"name": "tenure", "dtype": "int", "description": "Months as a customer"},
            {"name": "plan", "dtype": "str", "description": "   "},
            {"name": "churned", "role": "output"},
        ]
    )
    gaps = documentation_gaps(inputs)
    [definition_gap] = [g for g in gaps if g.startswith("Feature definitions")]
    assert "2 feature(s): plan, churned" in definition_gap
    assert not any(g.startswith("No output feature") for g in gaps)
    card = render_model_card(inputs)
    assert card.html.count("definition missing") == 2
    assert "| `plan` | input | str | _⚠ definition missing_ |" in card.markdown


def test_explicitly_empty_customisations_are_not_a_gap() -> None:
    assert not any(
        "Customisations" in g for g in documentation_gaps(_minimal_inputs(customisations=[]))
    )
    card = render_model_card(_minimal_inputs(customisations=[]))
    assert "None: the standard algorithm" in card.html


def test_threshold_and_metric_gaps() -> None:
    assert any(
        "No acceptance threshold" in g
        for g in documentation_gaps(_minimal_inputs(metrics={"auc": 0.8}))
    )
    assert not any(
        "threshold" in g
        for g in documentation_gaps(
            _minimal_inputs(metrics={"auc": 0.8}, primary_metric="auc", metric_threshold=0.7)
        )
    )


# ---------------------------------------------------------------------------------------
# Algorithm explanations
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("estimator_class", "family", "task", "phrase"),
    [
        (
            "sklearn.ensemble.RandomForestClassifier",
            "random_forest",
            "classification",
            "random forest",
        ),
        (
            "sklearn.ensemble.ExtraTreesRegressor",
            "random_forest",
            "regression",
            "averages their predictions",
        ),
        (
            "sklearn.ensemble.HistGradientBoostingClassifier",
            "gradient_boosting",
            "classification",
            "Gradient boosting",
        ),
        ("xgboost.XGBRegressor", "gradient_boosting", "regression", "learning rate"),
        (
            "sklearn.linear_model.LogisticRegression",
            "logistic_regression",
            "classification",
            "log-odds",
        ),
        (
            "sklearn.linear_model.LinearRegression",
            "linear_regression",
            "regression",
            "squared error",
        ),
        ("sklearn.linear_model.Ridge", "linear_regression", "regression", "intercept"),
        (
            "sklearn.neural_network.MLPClassifier",
            "neural_net",
            "classification",
            "multi-layer perceptron",
        ),
    ],
)
def test_default_explanations_per_estimator_family(
    estimator_class: str, family: str, task: str, phrase: str
) -> None:
    assert algorithm_family(estimator_class) == family
    assert infer_task(estimator_class) == task
    explanation = default_algorithm_explanation(estimator_class)
    assert explanation is not None
    assert phrase in explanation


def test_human_algorithm_name_alone_gets_the_standard_explanation() -> None:
    inputs = _minimal_inputs(algorithm="Gradient boosting")
    assert not any("explanation" in g for g in documentation_gaps(inputs))
    assert "Gradient boosting builds small decision trees" in render_model_card(inputs).html


def test_unknown_estimator_falls_back_and_reports_a_gap() -> None:
    inputs = _minimal_inputs(estimator_class="mylib.QuantumForest")
    assert default_algorithm_explanation(inputs.estimator_class) is None
    assert any(
        "no built-in explanation for mylib.QuantumForest" in g for g in documentation_gaps(inputs)
    )
    card = render_model_card(inputs)
    assert "Quantum forest" in card.html  # humanised class name
    assert "no explanation of the algorithm" in card.html

    explained = _minimal_inputs(
        estimator_class="mylib.QuantumForest", algorithm_explanation="Trees, but quantum."
    )
    assert not any("explanation" in g for g in documentation_gaps(explained))
    assert "Trees, but quantum." in render_model_card(explained).html


# ---------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------


def test_inputs_round_trip_through_json() -> None:
    inputs = _full_inputs()
    assert ModelCardInputs.from_mapping(json.loads(json.dumps(inputs.to_dict()))) == inputs


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"bussiness_context": "typo"}, "unknown model-card fields ['bussiness_context']"),
        ({"features": [{"dtype": "int"}]}, "features[0] needs a 'name'"),
        ({"features": [{"name": "a", "role": "target"}]}, "role must be one of"),
        ({"roc_curve": {"fpr": [0, 1], "tpr": [0]}}, "differ in length"),
        ({"metric_threshold": 0.8}, "primary_metric is not"),
        ({"metrics": {"auc": 0.9}, "primary_metric": "f1"}, "not among the metrics"),
        ({"version": " "}, "version must be a non-empty string"),
    ],
)
def test_invalid_inputs_raise_actionable_errors(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ModelCardInputError, match=re.escape(message)):
        _minimal_inputs(**overrides)


# ---------------------------------------------------------------------------------------
# Templates
# ---------------------------------------------------------------------------------------


def test_user_template_overrides_html_and_markdown_falls_back(tmp_path: Path) -> None:
    (tmp_path / "model_card.html.j2").write_text(
        "<h1>{{ card.model_name }} by {{ card.owner }}</h1><p>{{ card.description }}</p>\n"
    )
    card = render_model_card(_minimal_inputs(description=XSS), template_dir=tmp_path)
    assert (
        card.html
        == "<h1>churn by bob</h1><p>&lt;script&gt;alert(&#39;owned&#39;)&lt;/script&gt;</p>\n"
    )
    assert card.markdown.startswith("# Model card: churn `v1`")


def test_user_markdown_template_overrides_and_html_falls_back(tmp_path: Path) -> None:
    (tmp_path / "model_card.md.j2").write_text(
        "# {{ card.model_name }} ({{ gaps | length }} gaps)\n"
    )
    inputs = _minimal_inputs()
    card = render_model_card(inputs, template_dir=tmp_path)
    assert card.markdown == f"# churn ({len(documentation_gaps(inputs))} gaps)\n"
    assert 'id="overview"' in card.html


def test_user_template_can_extend_the_packaged_one(tmp_path: Path) -> None:
    (tmp_path / "model_card.html.j2").write_text(
        '{% extends "packaged/model_card.html.j2" %}\n'
        '{% block overview %}<section id="house-style">House rules apply.</section>{% endblock %}\n'
    )
    card = render_model_card(_minimal_inputs(), template_dir=tmp_path)
    assert '<section id="house-style">House rules apply.</section>' in card.html
    assert 'id="overview"' not in card.html
    assert 'id="algorithm"' in card.html


def test_template_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    broken = tmp_path / "model_card.html.j2"
    broken.write_text("<h1>{{ card.model_name }}</h1>\n<p>ok</p>\n{% if %}\n")
    with pytest.raises(ModelCardTemplateError) as info:
        render_model_card(_minimal_inputs(), template_dir=tmp_path)
    message = str(info.value)
    assert str(broken) in message
    assert "line 3" in message


def test_syntax_error_in_an_included_template_names_that_file(tmp_path: Path) -> None:
    (tmp_path / "model_card.html.j2").write_text('<h1>x</h1>\n{% include "footer.j2" %}\n')
    (tmp_path / "footer.j2").write_text("<footer>\n{{ card.owner \n")
    with pytest.raises(ModelCardTemplateError, match=r"footer\.j2, line \d"):
        render_model_card(_minimal_inputs(), template_dir=tmp_path)


def test_template_with_unknown_variable_names_file_and_line(tmp_path: Path) -> None:
    broken = tmp_path / "model_card.md.j2"
    broken.write_text("# {{ card.model_name }}\n\n{{ card.no_such_field }}\n")
    with pytest.raises(ModelCardTemplateError, match=r"model_card\.md\.j2, line 3"):
        render_model_card(_minimal_inputs(), template_dir=tmp_path)


def test_missing_template_dir_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ModelCardTemplateError, match="is not a directory"):
        render_model_card(_minimal_inputs(), template_dir=tmp_path / "nope")


# ---------------------------------------------------------------------------------------
# Plots
# ---------------------------------------------------------------------------------------


def test_plots_return_png_data_uris_and_validate_input() -> None:
    pytest.importorskip("matplotlib")
    many = [{"feature": f"f{i}", "importance": i / 40, "std": 0.01} for i in range(40)]
    uri = plots.feature_importance_chart(many, max_features=10)
    assert uri.startswith(plots.DATA_URI_PREFIX)
    assert _png_size(plots.data_uri_to_png(uri))[0] == 600
    assert plots.trapezoid_auc([0, 1], [0, 1]) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="differ in length"):
        plots.roc_chart([0, 1], [0, 0.5, 1])
    with pytest.raises(ValueError, match="not a PNG data URI"):
        plots.data_uri_to_png("data:text/plain;base64,aGk=")


# ---------------------------------------------------------------------------------------
# Browser
# ---------------------------------------------------------------------------------------


@pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium not installed")
def test_card_renders_in_headless_chromium(full_card: RenderedCard, tmp_path: Path) -> None:
    page = tmp_path / "card.html"
    page.write_text(full_card.html, encoding="utf-8")
    screenshot = tmp_path / "card.png"
    profile = tmp_path / "profile"
    subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            f"--screenshot={screenshot}",
            "--window-size=1200,2400",
            page.as_uri(),
        ],
        check=False,
        capture_output=True,
        timeout=120,
    )
    shutil.rmtree(profile, ignore_errors=True)
    assert screenshot.exists(), "chromium wrote no screenshot"
    png = screenshot.read_bytes()
    assert _png_size(png) == (1200, 2400)
    # A blank page compresses to a few kB; a rendered card with figures is far larger.
    assert len(png) > 50_000


def test_group_disparities_compare_groups_within_one_attribute_only() -> None:
    fairness = [
        {
            "attribute": "gender",
            "group": "female",
            "count": 400,
            "included": True,
            "selection_rate": 0.20,
        },
        {
            "attribute": "gender",
            "group": "male",
            "count": 380,
            "included": True,
            "selection_rate": 0.10,
        },
        {
            "attribute": "age",
            "group": "[18, 30)",
            "count": 300,
            "included": True,
            "selection_rate": 0.30,
        },
        {
            "attribute": "age",
            "group": "[30, 65)",
            "count": 450,
            "included": True,
            "selection_rate": 0.28,
        },
        {
            "attribute": "age",
            "group": "[65, 120)",
            "count": 8,
            "included": False,
            "selection_rate": 0.0,
        },
    ]
    card = render_model_card(_minimal_inputs(fairness=fairness))
    text = html_lib.unescape(re.sub(r"<[^>]+>", " ", card.html))
    assert re.search(r"selection_rate by gender\s+male \(0\.1\)\s+female \(0\.2\)\s+0\.5", text)
    assert re.search(
        r"selection_rate by age\s+\[30, 65\) \(0\.28\)\s+\[18, 30\) \(0\.3\)\s+0\.93", text
    )
    assert "[65, 120) (0" not in text  # a group left out of the assessment is not compared
