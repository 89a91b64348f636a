"""Listings never let a stored string forge a line or pass a look-alike off as a name."""

from __future__ import annotations

from click.testing import CliRunner

from governance_pipelines.cli import main
from governance_pipelines.cli._text import shown, shown_name
from governance_pipelines.store import GovernanceStore


def test_control_and_invisible_characters_are_escaped() -> None:
    assert shown("ok\nforged line") == "ok\\nforged line"
    assert shown("a\u200bb\u202ec") == "a\\u200bb\\u202ec"
    assert shown("typed \\n") == "typed \\x5cn"  # never mistaken for an escaped newline
    assert shown("José Müller") == "José Müller"  # ordinary text stays readable


def test_look_alike_names_are_marked() -> None:
    assert shown_name("bob") == "bob"
    assert shown_name("b\u043eb") == "b\\u043eb"  # Cyrillic о
    assert shown_name("bo\u200bb") == "bo\\u200bb"  # zero-width space


def test_a_newline_in_a_user_cannot_forge_an_audit_log_line(tmp_path) -> None:
    store = GovernanceStore.open(None, tmp_path)
    store.record_event(actor="mallory\n#99    2026-01-01T00:00:00  bob", action="x.y")
    store.record_event(actor="b\u043eb", action="approval.recorded")
    store.dispose()
    result = CliRunner().invoke(main, ["audit", "log", "--home", str(tmp_path)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 2
    assert "mallory\\n#99" in lines[0]
    assert "b\\u043eb" in lines[1]
