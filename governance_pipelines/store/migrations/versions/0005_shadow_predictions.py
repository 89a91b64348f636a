"""shadow predictions (append-only): a shadow endpoint's candidate scores

A shadow endpoint answers with production and has its candidate score a share of the same
requests; the candidate's scores land here, keyed by the answered request's id, for a
side-by-side comparison that never enters usage, costs or monitoring.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from governance_pipelines.store.immutability import (
    create_append_only_triggers,
    create_truncate_guards,
    drop_append_only_triggers,
)

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

NEW_APPEND_ONLY = ("shadow_predictions",)


def upgrade() -> None:
    op.create_table(
        "shadow_predictions",
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("endpoint", sa.String(length=63), nullable=False),
        sa.Column("model_name", sa.String(length=64), nullable=False),
        sa.Column("model_version", sa.Integer(), nullable=False),
        sa.Column("scored_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("prediction", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_shadow_predictions")),
    )
    op.create_index(
        "ix_shadow_predictions_model", "shadow_predictions", ["model_name", "model_version"]
    )
    create_append_only_triggers(op.get_bind(), NEW_APPEND_ONLY)
    create_truncate_guards(op.get_bind(), NEW_APPEND_ONLY)


def downgrade() -> None:
    drop_append_only_triggers(op.get_bind(), NEW_APPEND_ONLY)
    op.drop_index("ix_shadow_predictions_model", table_name="shadow_predictions")
    op.drop_table("shadow_predictions")
