"""Markdown renderings shown as Dagster metadata."""

from __future__ import annotations

from governance_pipelines.orchestration.markdown import bar_chart, markdown_table


def test_markdown_table_formats_numbers_and_lists() -> None:
    table = markdown_table(
        [{"column": "income", "failures": 2, "share": 0.123456, "examples": ["-1", "-2"]}]
    )
    assert table.splitlines() == [
        "| column | failures | share | examples |",
        "|---|---|---|---|",
        "| income | 2 | 0.1235 | -1, -2 |",
    ]
    assert markdown_table([], empty="No violations.") == "No violations."


def test_bar_chart_sorts_and_scales_bars() -> None:
    chart = bar_chart(
        "PSI", [("a", 0.05, ""), ("b", 0.2, "drifted"), ("c", 0.0, "")], width=10
    ).splitlines()
    assert chart[0] == "PSI"
    assert chart[2].startswith("b")
    assert chart[2].count("█") == 10
    assert chart[2].endswith("0.200 drifted")
    assert chart[3].count("█") == 2  # 0.05 / 0.2 of the width, rounded
    assert "█" not in chart[4]


def test_clauses_never_end_a_clause_with_a_period() -> None:
    from governance_pipelines.reporting import clauses

    findings = ["The model saw the future of its test cases. Split by time.", "Overlap 3%.", ""]
    assert clauses(findings) == (
        "The model saw the future of its test cases. Split by time; Overlap 3%"
    )
    assert ".;" not in clauses(["a.", "b."])
