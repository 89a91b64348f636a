"""record bindings, sealed inference log, append-only labels, TRUNCATE and head guards

Every governed record gets `audit_seq`, the audit event that recorded it; rows written
before this revision are bound here by one `record.bound` event each (attested as they
are at upgrade time). The inference log gets `logged_at` (seals cover rows by arrival
time) and late labels get their own append-only table. PostgreSQL gets statement-level
TRUNCATE guards, and the chain's head may only move forward on both backends.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 01:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from governance_pipelines.store import audit
from governance_pipelines.store.bindings import (
    BINDING_COLUMN,
    RECORD_KEY,
    Binding,
    record_digest,
    record_key,
)
from governance_pipelines.store.immutability import (
    create_append_only_triggers,
    create_forward_only_head,
    create_truncate_guards,
    drop_append_only_triggers,
)
from governance_pipelines.store.schema import BOUND_TABLES, arrival_time

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Frozen at this revision: later migrations guard their own new tables.
BOUND = (
    "data_snapshots",
    "model_snapshots",
    "model_versions",
    "check_results",
    "approvals",
    "stage_transitions",
    "access_log",
    "alerts",
)
BOUND_BEFORE = tuple(name for name in BOUND if name != "model_snapshots")  # existed in 0001
GUARDED_BY_0001 = (
    "model_versions",
    "data_snapshots",
    "check_results",
    "approvals",
    "stage_transitions",
    "access_log",
    "audit_log",
)
NEW_APPEND_ONLY = ("inference_log", "inference_labels", "model_snapshots")


def upgrade() -> None:
    connection = op.get_bind()
    for name in BOUND_BEFORE:
        op.add_column(name, sa.Column(BINDING_COLUMN, sa.BigInteger(), nullable=True))
    op.create_index("ix_audit_log_action", "audit_log", ["action", "seq"])

    logged_at = sa.Column(
        "logged_at", sa.DateTime(timezone=True), nullable=False, server_default=arrival_time()
    )
    if connection.dialect.name == "sqlite":
        # SQLite cannot ADD COLUMN with a non-constant default: rebuild the table.
        with op.batch_alter_table("inference_log", recreate="always") as batch:
            batch.add_column(logged_at)
    else:
        op.add_column("inference_log", logged_at)
    op.create_table(
        "inference_labels",
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("model_name", sa.String(length=64), nullable=False),
        sa.Column("label", sa.Float(), nullable=False),
        sa.Column("labeled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "logged_at",
            sa.DateTime(timezone=True),
            server_default=arrival_time(),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_inference_labels")),
    )
    op.create_index(
        "ix_inference_labels_model_logged", "inference_labels", ["model_name", "logged_at"]
    )
    op.create_table(
        "model_snapshots",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("model_name", sa.String(length=64), nullable=False),
        sa.Column("snapshot_id", sa.String(length=64), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("source_json", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(BINDING_COLUMN, sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["model_name"], ["models.name"], name=op.f("fk_model_snapshots_model_name_models")
        ),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["data_snapshots.snapshot_id"],
            name=op.f("fk_model_snapshots_snapshot_id_data_snapshots"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_snapshots")),
        sa.UniqueConstraint("model_name", "snapshot_id", name="uq_model_snapshots_model_snapshot"),
    )
    # Each existing snapshot was taken by the model that registered it.
    op.execute(
        "INSERT INTO model_snapshots (model_name, snapshot_id, path, source_json, created_by, "
        "created_at) SELECT model_name, snapshot_id, path, source_json, created_by, created_at "
        "FROM data_snapshots"
    )

    _bind_existing_records(connection)

    create_append_only_triggers(connection, NEW_APPEND_ONLY)
    create_truncate_guards(connection, (*GUARDED_BY_0001, *NEW_APPEND_ONLY, "audit_head"))
    create_forward_only_head(connection)


def _bind_existing_records(connection: sa.Connection) -> None:
    """One `record.bound` event per row written before bindings existed."""
    tables = {t.name: t for t in BOUND_TABLES}
    guarded = tuple(name for name in BOUND if name in GUARDED_BY_0001)  # new ones: later
    drop_append_only_triggers(connection, guarded)
    for name in BOUND:
        table = tables[name]
        (pk,) = table.primary_key.columns
        rows = connection.execute(sa.select(table).order_by(pk)).all()
        for row in rows:
            binding = Binding(name, record_key(table, row), record_digest(table, row))
            event = audit.append_event(
                connection,
                actor="governance-migration",
                action="record.bound",
                model_name=getattr(row, "model_name", None),
                version=getattr(row, "version", None),
                payload={
                    "migration": revision,
                    RECORD_KEY: binding.to_dict(),
                },
            )
            connection.execute(
                table.update().where(pk == row._mapping[pk.name]).values(audit_seq=event.seq)
            )
    create_append_only_triggers(connection, guarded)


def downgrade() -> None:
    connection = op.get_bind()
    drop_append_only_triggers(connection, (*GUARDED_BY_0001, *NEW_APPEND_ONLY, "audit_head"))
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("DROP FUNCTION IF EXISTS governance_forward_only_head()")
    op.drop_table("model_snapshots")
    op.drop_index("ix_inference_labels_model_logged", table_name="inference_labels")
    op.drop_table("inference_labels")
    with op.batch_alter_table("inference_log") as batch:
        batch.drop_column("logged_at")
    op.drop_index("ix_audit_log_action", table_name="audit_log")
    for name in BOUND_BEFORE:
        with op.batch_alter_table(name) as batch:
            batch.drop_column(BINDING_COLUMN)
    create_append_only_triggers(connection, GUARDED_BY_0001)
