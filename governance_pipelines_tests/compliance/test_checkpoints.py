"""Signed checkpoints catch what the hash chain alone cannot: a tail rewritten and rehashed.

The attacker here has full database rights (drops the append-only guards, deletes and edits
rows, recomputes every hash so `verify_audit_chain()` passes) but not the signing key.
"""

from __future__ import annotations

import base64
import json
import stat
import uuid
from pathlib import Path

import fsspec
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from governance_pipelines.canonical import canonical_json
from governance_pipelines.cli import main
from governance_pipelines.compliance.checkpoint_files import DIR_ENV, public_location
from governance_pipelines.compliance.checkpoint_writer import write_checkpoint
from governance_pipelines.compliance.checkpoints import CHECKPOINT_WRITTEN, verify_checkpoints
from governance_pipelines.compliance.signing_keys import (
    KEY_ENV,
    KEY_FILE_ENV,
    PUBLIC_KEY_ENV,
    CheckpointError,
    CheckpointKeyError,
    key_fingerprint,
    new_signing_key,
)
from governance_pipelines.store import GovernanceStore
from governance_pipelines.store.audit import GENESIS_HASH, stored_event_hash
from governance_pipelines.store.schema import audit_head, audit_log

# --- helpers -----------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _no_checkpoint_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (KEY_ENV, KEY_FILE_ENV, PUBLIC_KEY_ENV, DIR_ENV):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A signing key in a file, and checkpoints in a folder of their own."""
    path = tmp_path / "checkpoint-key.pem"
    path.write_bytes(new_signing_key()[0])
    monkeypatch.setenv(KEY_FILE_ENV, str(path))
    monkeypatch.setenv(DIR_ENV, str(tmp_path / "checkpoints"))
    return path


def _append(store: GovernanceStore, count: int) -> None:
    for i in range(count):
        store.record_event(actor="alice", action="test.event", payload={"i": i})


def _disable_guards(connection: sa.Connection) -> None:
    """Switch off every trigger on the chain, whatever its name (names are not a contract)."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
        return
    names = connection.exec_driver_sql(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' "
        "AND tbl_name IN ('audit_log', 'audit_head')"
    ).scalars()
    for name in list(names):
        connection.exec_driver_sql(f'DROP TRIGGER "{name}"')


def _as_insider(
    store: GovernanceStore, *, keep: int | None = None, forge: int | None = None
) -> None:
    """Delete events after `keep` and/or edit event `forge`, then rehash the whole chain."""
    with store.engine.begin() as connection:
        _disable_guards(connection)
        if keep is not None:
            connection.execute(audit_log.delete().where(audit_log.c.seq > keep))
        if forge is not None:
            connection.execute(
                audit_log.update()
                .where(audit_log.c.seq == forge)
                .values(payload_json='{"forged":true}')
            )
        previous, last = GENESIS_HASH, 0
        for row in connection.execute(sa.select(audit_log).order_by(audit_log.c.seq)).all():
            digest = stored_event_hash(row, prev_hash=previous)
            connection.execute(
                audit_log.update()
                .where(audit_log.c.seq == row.seq)
                .values(prev_hash=previous, hash=digest)
            )
            previous, last = digest, row.seq
        connection.execute(audit_head.update().values(seq=last, hash=previous))
    assert store.verify_audit_chain().ok, "the insider's rewrite must pass the chain check"


def _url(store: GovernanceStore) -> str:
    return store.engine.url.render_as_string(hide_password=False)


# --- sign and verify ---------------------------------------------------------------------


def test_sign_and_verify_round_trip(store: GovernanceStore, key_file: Path) -> None:
    _append(store, 5)
    first = write_checkpoint(store, actor="auditor")
    assert (first.seq, first.events) == (5, 5)
    assert first.file_name == "checkpoint-000000000005.json"
    written = Path(first.file)
    assert written.parent == key_file.parent / "checkpoints"
    assert json.loads(written.read_text())["signed"]["head_hash"] == first.head_hash

    (event,) = store.recent_events(action=CHECKPOINT_WRITTEN)
    assert event.seq == 6
    assert event.actor == "auditor"
    assert event.payload == {
        "seq": 5,
        "head_hash": first.head_hash,
        "location": str(key_file.parent / "checkpoints"),
        "file": first.file_name,
        "key_fingerprint": first.key_fingerprint,
    }

    second = write_checkpoint(store, actor="auditor")
    assert second.seq == 6  # the next checkpoint covers the previous one's audit event
    result = verify_checkpoints(store)
    assert (result.ok, result.checked, result.latest_seq, result.problem) == (True, 2, 6, None)
    assert store.verify_audit_chain().ok


def test_no_checkpoint_yet_and_no_key_are_notes_not_errors(
    store: GovernanceStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _append(store, 2)
    no_key = verify_checkpoints(store)
    assert (no_key.ok, no_key.checked, no_key.latest_seq) == (True, 0, None)
    assert "no checkpoint key configured" in no_key.note
    assert PUBLIC_KEY_ENV in no_key.note

    monkeypatch.setenv(KEY_ENV, new_signing_key()[0].decode())
    none_yet = verify_checkpoints(store, location=str(tmp_path / "empty"))
    assert (none_yet.ok, none_yet.checked) == (True, 0)
    assert "no signed checkpoint yet" in none_yet.note


def test_refuses_to_sign_a_broken_chain(store: GovernanceStore, key_file: Path) -> None:
    _append(store, 4)
    with store.engine.begin() as connection:
        _disable_guards(connection)
        connection.execute(audit_log.delete().where(audit_log.c.seq == 2))
    with pytest.raises(CheckpointError, match="refusing to sign a broken audit chain: event #2"):
        write_checkpoint(store, actor="auditor")
    assert not list((key_file.parent / "checkpoints").glob("*.json"))


def test_refuses_an_empty_log(store: GovernanceStore, key_file: Path) -> None:
    with pytest.raises(CheckpointError, match="nothing to checkpoint"):
        write_checkpoint(store, actor="auditor")


# --- the insider -------------------------------------------------------------------------


def test_truncated_and_rehashed_tail_is_caught(store: GovernanceStore, key_file: Path) -> None:
    _append(store, 5)
    signed = write_checkpoint(store, actor="auditor")
    _append(store, 2)
    _as_insider(store, keep=3)

    result = verify_checkpoints(store)
    assert not result.ok
    assert result.problem == (
        f"the chain ends at #3 but checkpoint {signed.file} signed #5: events were removed; "
        "restore the store from a backup that matches the checkpoint and find out who had "
        "write access"
    )
    with pytest.raises(CheckpointError, match="refusing to sign: the chain ends at #3"):
        write_checkpoint(store, actor="auditor")


def test_truncated_then_regrown_chain_is_caught(store: GovernanceStore, key_file: Path) -> None:
    _append(store, 5)
    signed = write_checkpoint(store, actor="auditor")
    _as_insider(store, keep=3)
    _append(store, 4)  # new, genuinely chained events hide the gap from the chain check
    assert store.verify_audit_chain().verified == 7

    result = verify_checkpoints(store)
    assert not result.ok
    assert result.problem.startswith(
        f"event #5 differs from the signed checkpoint {signed.file}: the chain was rewritten"
    )


def test_edited_and_rehashed_event_is_caught(store: GovernanceStore, key_file: Path) -> None:
    _append(store, 5)
    early = write_checkpoint(store, actor="auditor")
    _append(store, 3)
    late = write_checkpoint(store, actor="auditor")
    _as_insider(store, forge=3)

    result = verify_checkpoints(store)
    assert not result.ok
    assert result.checked == 2
    assert result.problems == (
        f"event #{late.seq} differs from the signed checkpoint {late.file}: the chain was "
        "rewritten; restore the store from a backup that matches the checkpoint and find out "
        "who had write access",
        f"event #{early.seq} differs from the signed checkpoint {early.file}: the chain was "
        "rewritten; restore the store from a backup that matches the checkpoint and find out "
        "who had write access",
    )
    assert result.problem.endswith("(and 1 more)")


def test_whole_chain_rehashed_from_the_first_event_is_caught(
    store: GovernanceStore, key_file: Path
) -> None:
    _append(store, 3)
    write_checkpoint(store, actor="auditor")
    _as_insider(store, forge=1)  # changes the store's identity: its checkpoints look foreign

    result = verify_checkpoints(store)
    assert not result.ok
    assert result.foreign == 1
    assert "none of the 1 checkpoint(s)" in result.problem
    assert "its chain was rewritten from event #1" in result.problem


def test_an_emptied_log_is_caught(store: GovernanceStore, key_file: Path) -> None:
    _append(store, 3)
    signed = write_checkpoint(store, actor="auditor")
    _as_insider(store, keep=0)
    assert store.verify_audit_chain().verified == 0

    result = verify_checkpoints(store)
    assert not result.ok
    assert result.problem.startswith(
        f"the audit log is empty but checkpoint {signed.file} signed #3: events were removed"
    )


def test_a_removed_checkpoint_file_is_noticed(store: GovernanceStore, key_file: Path) -> None:
    _append(store, 2)
    signed = write_checkpoint(store, actor="auditor")
    Path(signed.file).unlink()

    result = verify_checkpoints(store)
    assert not result.ok
    assert result.problem.startswith(
        f"the audit log records checkpoint {signed.file} of #2, but it is not there"
    )


# --- keys ----------------------------------------------------------------------------------


def test_a_checkpoint_signed_by_another_key_is_rejected(
    store: GovernanceStore, key_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _append(store, 3)
    signed = write_checkpoint(store, actor="auditor")
    original_public = base64.b64encode(
        serialization.load_pem_private_key(key_file.read_bytes(), None)
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    ).decode()

    # A verifier that knows only another key does not trust the checkpoint.
    monkeypatch.delenv(KEY_FILE_ENV)
    other_pem, other_public = new_signing_key()
    monkeypatch.setenv(PUBLIC_KEY_ENV, other_public)
    unknown = verify_checkpoints(store)
    assert not unknown.ok
    assert unknown.problem.startswith(
        f"checkpoint {signed.file} (#3) is signed by key {signed.key_fingerprint}, "
        "which is not configured"
    )

    # After a rotation both public keys are listed: the old checkpoint verifies again.
    monkeypatch.setenv(PUBLIC_KEY_ENV, f"{other_public}, {original_public}")
    assert verify_checkpoints(store).ok

    # A forger signs with their own key but claims ours: the signature gives it away.
    attacker = serialization.load_pem_private_key(other_pem, None)
    assert isinstance(attacker, Ed25519PrivateKey)
    data = json.loads(Path(signed.file).read_text())
    data["signed"]["head_hash"] = "f" * 64
    data["signature"] = base64.b64encode(
        attacker.sign(canonical_json(data["signed"]).encode())
    ).decode()
    Path(signed.file).write_text(json.dumps(data))
    forged = verify_checkpoints(store)
    assert not forged.ok
    assert forged.problem == (
        f"checkpoint {signed.file} (#3) has an invalid signature under key "
        f"{signed.key_fingerprint}: the file was altered or forged"
    )


def test_a_base64_seed_and_its_pem_are_the_same_key(
    store: GovernanceStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = Ed25519PrivateKey.generate()
    seed = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    monkeypatch.setenv(KEY_ENV, base64.b64encode(seed).decode())
    _append(store, 1)
    signed = write_checkpoint(store, actor="auditor", location=str(tmp_path / "cp"))
    assert signed.key_fingerprint == key_fingerprint(key.public_key())

    # The verifier holds only the public key, as PEM.
    monkeypatch.delenv(KEY_ENV)
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    monkeypatch.setenv(PUBLIC_KEY_ENV, pem.decode())
    result = verify_checkpoints(store, location=str(tmp_path / "cp"))
    assert (result.ok, result.checked, result.latest_seq) == (True, 1, 1)


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        (KEY_ENV, "not-a-key-s3cr3t", f"{KEY_ENV}: expected a PEM private key or base64"),
        (KEY_ENV, "-----BEGIN PRIVATE KEY-----\ns3cr3t\n", f"{KEY_ENV}: not a readable PEM"),
        (KEY_FILE_ENV, "/nonexistent/key.pem", f"{KEY_FILE_ENV}=/nonexistent/key.pem: no such"),
        (PUBLIC_KEY_ENV, "s3cr3t", f"{PUBLIC_KEY_ENV} (entry 1 of 1): expected PEM or base64"),
    ],
)
def test_a_bad_key_gives_one_clear_line(
    store: GovernanceStore,
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
    value: str,
    expected: str,
) -> None:
    monkeypatch.setenv(variable, value)
    _append(store, 1)
    with pytest.raises(CheckpointKeyError) as raised:
        verify_checkpoints(store)
    message = str(raised.value)
    assert message.startswith(expected)
    assert "\n" not in message
    assert "s3cr3t" not in message  # key material is never echoed
    if variable != PUBLIC_KEY_ENV:
        assert "governance audit keygen" in message


def test_an_rsa_key_is_refused(store: GovernanceStore, monkeypatch: pytest.MonkeyPatch) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    monkeypatch.setenv(KEY_ENV, pem.replace("\n", "\\n"))  # a one-line CI secret
    with pytest.raises(CheckpointKeyError, match="RSAPrivateKey key, but checkpoints are signed"):
        write_checkpoint(store, actor="auditor")


def test_no_signing_key_says_how_to_get_one(store: GovernanceStore) -> None:
    _append(store, 1)
    with pytest.raises(CheckpointKeyError, match=r"governance audit keygen --out FILE"):
        write_checkpoint(store, actor="auditor")


# --- locations and stores ---------------------------------------------------------------------


def test_a_checkpoint_of_another_store_is_foreign_not_tampering(
    store: GovernanceStore, key_file: Path, tmp_path: Path
) -> None:
    ours, theirs = str(tmp_path / "ours"), str(tmp_path / "theirs")
    other = GovernanceStore.open(f"sqlite:///{tmp_path / 'other.db'}", tmp_path / "other")
    try:
        _append(store, 3)
        _append(other, 7)
        write_checkpoint(store, actor="auditor", location=ours)
        foreign = write_checkpoint(other, actor="auditor", location=theirs)

        # One location per store: the other store refuses to start signing into ours.
        with pytest.raises(CheckpointError, match="none of the 1 checkpoint"):
            write_checkpoint(other, actor="auditor", location=ours)

        fsspec.filesystem("file").copy(foreign.file, f"{ours}/{foreign.file_name}")
        result = verify_checkpoints(store, location=ours)
        assert (result.ok, result.checked, result.latest_seq, result.foreign) == (True, 1, 3, 1)
        assert result.note == "1 checkpoint(s) of another store ignored"
    finally:
        other.dispose()


def test_an_fsspec_memory_location_works(store: GovernanceStore, key_file: Path) -> None:
    location = f"memory://governance-{uuid.uuid4().hex}/checkpoints"
    _append(store, 2)
    signed = write_checkpoint(store, actor="auditor", location=location)
    assert signed.file == f"{location}/checkpoint-000000000002.json"
    fs = fsspec.filesystem("memory")
    assert fs.exists(signed.file)

    fs.pipe_file(f"{location}/checkpoint-000000000003.json", b"squatted")
    with pytest.raises(CheckpointError, match="is not a readable signed checkpoint"):
        write_checkpoint(store, actor="auditor", location=location)
    fs.rm(f"{location}/checkpoint-000000000003.json")
    assert verify_checkpoints(store, location=location).ok


@pytest.mark.parametrize("kind", ["folder", "memory"])
def test_an_existing_checkpoint_is_never_overwritten(
    store: GovernanceStore, key_file: Path, tmp_path: Path, kind: str
) -> None:
    location = (
        str(tmp_path / "cp") if kind == "folder" else f"memory://governance-{uuid.uuid4().hex}"
    )
    fs, root = fsspec.core.url_to_fs(location)
    _append(store, 2)
    first = write_checkpoint(store, actor="auditor", location=location)
    before = fs.cat_file(f"{root}/{first.file_name}")
    # Its audit event lost: the head is #2 again, and #2 was already signed there.
    _as_insider(store, keep=2)
    with pytest.raises(CheckpointError, match=r"checkpoint-000000000002\.json already exists"):
        write_checkpoint(store, actor="auditor", location=location)
    assert fs.cat_file(f"{root}/{first.file_name}") == before
    assert [Path(p).name for p in fs.ls(root, detail=False)] == [first.file_name]


@pytest.mark.parametrize(
    ("location", "shown"),
    [
        ("s3://AKIA:secret@bucket/cp?X-Amz-Signature=abc", "s3://bucket/cp"),
        ("abfs://container/cp?sig=abc#frag", "abfs://container/cp"),
        ("/var/lib/governance/checkpoints", "/var/lib/governance/checkpoints"),
        ("s3://u:s3cret@[broken/cp", "s3://***"),
    ],
)
def test_locations_are_shown_without_credentials(location: str, shown: str) -> None:
    assert public_location(location) == shown
    assert public_location(shown) == shown


def test_credentials_never_reach_the_audit_log(store: GovernanceStore, key_file: Path) -> None:
    location = f"memory://user:hunter2@governance-{uuid.uuid4().hex}/cp?token=abc"
    _append(store, 1)
    signed = write_checkpoint(store, actor="auditor", location=location)
    (event,) = store.recent_events(action=CHECKPOINT_WRITTEN)
    assert "hunter2" not in event.payload["location"]
    assert "token" not in event.payload["location"]
    assert "hunter2" not in signed.file


# --- the command line ----------------------------------------------------------------------


def test_cli_keygen_checkpoint_verify_and_tamper(
    store: GovernanceStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    key = tmp_path / "keys" / "checkpoint.pem"
    key.parent.mkdir()
    made = runner.invoke(main, ["audit", "keygen", "--out", str(key)])
    assert made.exit_code == 0, made.output
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert "PRIVATE KEY" not in made.output
    assert f"export {KEY_FILE_ENV}={key.resolve()}" in made.output
    public = made.output.split("public key (base64): ", 1)[1].split()[0]
    assert f"export {PUBLIC_KEY_ENV}={public}" in made.output

    again = runner.invoke(main, ["audit", "keygen", "--out", str(key)])
    assert again.exit_code == 1
    assert "already exists" in again.output

    _append(store, 4)
    monkeypatch.setenv(KEY_FILE_ENV, str(key))
    monkeypatch.setenv(DIR_ENV, str(tmp_path / "checkpoints"))
    url = _url(store)
    written = runner.invoke(main, ["audit", "checkpoint", "--user", "carol", "--database-url", url])
    assert written.exit_code == 0, written.output
    expected_file = tmp_path / "checkpoints" / "checkpoint-000000000004.json"
    assert "checkpoint of event #4 (head hash" in written.output
    assert str(expected_file) in written.output
    assert store.recent_events(action=CHECKPOINT_WRITTEN)[0].actor == "carol"

    # The verifier holds only the public key.
    monkeypatch.delenv(KEY_FILE_ENV)
    monkeypatch.setenv(PUBLIC_KEY_ENV, public)
    ok = runner.invoke(main, ["audit", "verify", "--database-url", url])
    assert ok.exit_code == 0, ok.output
    assert "OK: 5 audit events verified" in ok.output
    assert "checkpoint: OK (1 checked, latest #4)" in ok.output

    _as_insider(store, keep=2)
    broken = runner.invoke(main, ["audit", "verify", "--database-url", url])
    assert broken.exit_code == 1
    assert "OK: 2 audit events verified" in broken.output  # the chain alone is fooled
    assert (
        f"checkpoint: FAILED: the chain ends at #2 but checkpoint {expected_file} signed #4"
        in broken.output
    )


def test_cli_checkpoint_to_a_location_and_clean_errors(
    store: GovernanceStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    url = _url(store)
    _append(store, 1)
    missing = runner.invoke(main, ["audit", "checkpoint", "--database-url", url])
    assert missing.exit_code == 1
    assert f"Error: no checkpoint signing key: set {KEY_FILE_ENV}" in missing.output

    unverified = runner.invoke(main, ["audit", "verify", "--database-url", url])
    assert unverified.exit_code == 0
    assert "checkpoint: no checkpoint key configured" in unverified.output

    monkeypatch.setenv(KEY_ENV, new_signing_key()[0].decode())
    location = f"memory://governance-{uuid.uuid4().hex}"
    written = runner.invoke(main, ["audit", "checkpoint", "--to", location, "--database-url", url])
    assert written.exit_code == 0, written.output
    assert f"{location}/checkpoint-000000000001.json" in written.output
    checked = runner.invoke(
        main, ["audit", "verify", "--checkpoints", location, "--database-url", url]
    )
    assert checked.exit_code == 0, checked.output
    assert "checkpoint: OK (1 checked, latest #1)" in checked.output

    monkeypatch.setenv(KEY_ENV, "garbage")
    bad = runner.invoke(main, ["audit", "verify", "--database-url", url])
    assert bad.exit_code == 1
    assert f"checkpoint: cannot verify: {KEY_ENV}: expected a PEM private key" in bad.output


@pytest.mark.parametrize("command", ["checkpoint", "keygen", "verify"])
def test_checkpoint_commands_have_help(command: str) -> None:
    result = CliRunner().invoke(main, ["audit", command, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output
