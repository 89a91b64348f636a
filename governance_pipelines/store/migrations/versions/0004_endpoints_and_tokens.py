"""serving endpoints and API tokens (kept rows, bound to their latest audit event)

`endpoints` binds a URL name to a model and stage, the consumer teams allowed and a rate
limit; `api_tokens` holds the sha256 of each token's secret (never the secret), its team,
scope and expiry. Both change (settings, soft delete, revocation) but are never removed: a
trigger refuses DELETE, and TRUNCATE on PostgreSQL.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from governance_pipelines.store.immutability import create_kept_row_guards, drop_kept_row_guards

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

KEPT = ("endpoints", "api_tokens")


def upgrade() -> None:
    op.create_table(
        "endpoints",
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("model_name", sa.String(length=64), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("candidate_version", sa.Integer(), nullable=True),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("traffic_share", sa.Float(), nullable=True),
        sa.Column("allowed_teams", sa.Text(), nullable=False),
        sa.Column("rate_limit_per_minute", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_by", sa.String(length=64), nullable=True),
        sa.Column("audit_seq", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_endpoints")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("token_id", sa.String(length=16), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("team", sa.String(length=64), nullable=False),
        sa.Column("endpoints", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=64), nullable=True),
        sa.Column("audit_seq", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("token_id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_api_tokens_token_sha256")),
    )
    create_kept_row_guards(op.get_bind(), KEPT)


def downgrade() -> None:
    connection = op.get_bind()
    drop_kept_row_guards(connection, KEPT)
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("DROP FUNCTION IF EXISTS governance_forbid_delete()")
    op.drop_table("api_tokens")
    op.drop_table("endpoints")
