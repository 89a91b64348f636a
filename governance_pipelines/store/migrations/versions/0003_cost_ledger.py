"""cost ledger (append-only, FOCUS terms), request time in usage counts

`cost_allocations` replaces `cost_records`, which nothing ever wrote: it is dropped when
empty and kept (renamed `legacy_cost_records`) otherwise, so no row is lost. Usage counts get
the summed and 95th-percentile request time that serving compute is charged on.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from governance_pipelines.store.immutability import (
    create_append_only_triggers,
    create_truncate_guards,
    drop_append_only_triggers,
)

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

NEW_APPEND_ONLY = ("cost_allocations",)


def upgrade() -> None:
    connection = op.get_bind()
    op.create_table(
        "cost_allocations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("model_name", sa.String(length=64), nullable=False),
        sa.Column("model_version", sa.Integer(), nullable=True),
        sa.Column("team", sa.String(length=64), nullable=False),
        sa.Column("consumer_team", sa.String(length=64), nullable=False),
        sa.Column("cost_center", sa.String(length=64), nullable=True),
        sa.Column("cost_type", sa.String(length=80), nullable=False),
        sa.Column("charge_category", sa.String(length=16), nullable=False),
        sa.Column("charge_class", sa.String(length=16), nullable=True),
        sa.Column("quantity", sa.String(length=40), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.String(length=40), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("restatement", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("audit_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cost_allocations")),
    )
    op.create_index("ix_cost_allocations_day", "cost_allocations", ["day"])
    op.create_index("ix_cost_allocations_audit_seq", "cost_allocations", ["audit_seq"])
    create_append_only_triggers(connection, NEW_APPEND_ONLY)
    create_truncate_guards(connection, NEW_APPEND_ONLY)

    with op.batch_alter_table("usage_records") as batch:
        batch.add_column(sa.Column("latency_ms_sum", sa.Float(), nullable=True))
        batch.add_column(sa.Column("latency_ms_p95", sa.Float(), nullable=True))

    rows = connection.execute(sa.text("SELECT COUNT(*) FROM cost_records")).scalar_one()
    if rows:
        op.rename_table("cost_records", "legacy_cost_records")
    else:
        op.drop_table("cost_records")


def downgrade() -> None:
    connection = op.get_bind()
    if not sa.inspect(connection).has_table("cost_records"):
        if sa.inspect(connection).has_table("legacy_cost_records"):
            op.rename_table("legacy_cost_records", "cost_records")
        else:
            op.create_table(
                "cost_records",
                sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
                sa.Column("model_name", sa.String(length=64), nullable=False),
                sa.Column("team", sa.String(length=64), nullable=False),
                sa.Column("period", sa.String(length=16), nullable=False),
                sa.Column("cost_type", sa.String(length=32), nullable=False),
                sa.Column("quantity", sa.Float(), nullable=False),
                sa.Column("unit_cost", sa.Float(), nullable=False),
                sa.Column("amount", sa.Float(), nullable=False),
                sa.Column("currency", sa.String(length=3), nullable=False),
                sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
                sa.PrimaryKeyConstraint("id", name=op.f("pk_cost_records")),
            )
    with op.batch_alter_table("usage_records") as batch:
        batch.drop_column("latency_ms_p95")
        batch.drop_column("latency_ms_sum")
    drop_append_only_triggers(connection, NEW_APPEND_ONLY)
    op.drop_index("ix_cost_allocations_audit_seq", table_name="cost_allocations")
    op.drop_index("ix_cost_allocations_day", table_name="cost_allocations")
    op.drop_table("cost_allocations")
