"""The governance store's tables (SQLAlchemy Core).

The Alembic migrations in `store/migrations/` create exactly these tables; a test compares
the migrated database with this metadata so the two cannot drift apart. Timestamps that
enter a hash (the audit log) are ISO-8601 strings so every backend returns the same text.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class arrival_time(FunctionElement[Any]):
    """The time a row reaches the database, to the sub-second: seals slice rows by it.

    `now()` would be the transaction's start on PostgreSQL and whole seconds on SQLite;
    both would let a later row fall into a slice that was already sealed.
    """

    type = sa.DateTime(timezone=True)
    inherit_cache = True


@compiles(arrival_time, "sqlite")
def _arrival_time_sqlite(_element: Any, _compiler: Any, **_kw: Any) -> str:
    return "(strftime('%Y-%m-%d %H:%M:%f', 'now'))"


@compiles(arrival_time)
def _arrival_time_default(_element: Any, _compiler: Any, **_kw: Any) -> str:
    return "clock_timestamp()"


metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

models = sa.Table(
    "models",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("team", sa.String(64), nullable=False),
    sa.Column("owner", sa.String(64), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("config_sha256", sa.String(64), nullable=False),
    sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

data_snapshots = sa.Table(
    "data_snapshots",
    metadata,
    sa.Column("snapshot_id", sa.String(64), primary_key=True),
    sa.Column("model_name", sa.String(64), sa.ForeignKey("models.name"), nullable=False),
    sa.Column("path", sa.Text, nullable=False),
    sa.Column("row_count", sa.BigInteger, nullable=False),
    sa.Column("column_count", sa.Integer, nullable=False),
    sa.Column("byte_size", sa.BigInteger, nullable=False),
    sa.Column("columns_json", sa.Text, nullable=False),
    sa.Column("source_json", sa.Text, nullable=False),
    sa.Column("created_by", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("audit_seq", sa.BigInteger, nullable=True),
    sa.Index("ix_data_snapshots_model_created", "model_name", "created_at"),
)

# Snapshots are shared by content (the row above belongs to whichever model took it first);
# each model's own taking of it — its file, its declared source — is recorded here, so every
# model's lineage and card name its own source.
model_snapshots = sa.Table(
    "model_snapshots",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("model_name", sa.String(64), sa.ForeignKey("models.name"), nullable=False),
    sa.Column(
        "snapshot_id", sa.String(64), sa.ForeignKey("data_snapshots.snapshot_id"), nullable=False
    ),
    sa.Column("path", sa.Text, nullable=False),
    sa.Column("source_json", sa.Text, nullable=False),
    sa.Column("created_by", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("audit_seq", sa.BigInteger, nullable=True),
    sa.UniqueConstraint("model_name", "snapshot_id", name="uq_model_snapshots_model_snapshot"),
)

model_versions = sa.Table(
    "model_versions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("model_name", sa.String(64), sa.ForeignKey("models.name"), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column(
        "snapshot_id", sa.String(64), sa.ForeignKey("data_snapshots.snapshot_id"), nullable=False
    ),
    sa.Column("artifact_sha256", sa.String(64), nullable=False),
    sa.Column("artifact_path", sa.Text, nullable=False),
    sa.Column("record_json", sa.Text, nullable=False),
    sa.Column("created_by", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("audit_seq", sa.BigInteger, nullable=True),
    sa.UniqueConstraint("model_name", "version", name="uq_model_versions_model_version"),
    sa.UniqueConstraint("model_name", "fingerprint", name="uq_model_versions_model_fingerprint"),
)

check_results = sa.Table(
    "check_results",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("model_name", sa.String(64), nullable=False),
    sa.Column("version", sa.Integer, nullable=True),
    sa.Column("snapshot_id", sa.String(64), nullable=True),
    sa.Column("check_name", sa.String(128), nullable=False),
    sa.Column("passed", sa.Boolean, nullable=False),
    sa.Column("severity", sa.String(16), nullable=False),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("evidence_json", sa.Text, nullable=False),
    sa.Column("run_id", sa.String(64), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("audit_seq", sa.BigInteger, nullable=True),
    sa.Index("ix_check_results_model_check", "model_name", "check_name", "created_at"),
)

approvals = sa.Table(
    "approvals",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("model_name", sa.String(64), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("artifact_sha256", sa.String(64), nullable=False),
    sa.Column("user_name", sa.String(64), nullable=False),
    sa.Column("role", sa.String(64), nullable=False),
    sa.Column("decision", sa.String(16), nullable=False),
    sa.Column("note", sa.Text, nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("audit_seq", sa.BigInteger, nullable=True),
)

stage_transitions = sa.Table(
    "stage_transitions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("model_name", sa.String(64), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("stage", sa.String(32), nullable=False),
    sa.Column("user_name", sa.String(64), nullable=False),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("audit_seq", sa.BigInteger, nullable=True),
)

alerts = sa.Table(
    "alerts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("dedup_key", sa.String(255), nullable=False, unique=True),
    sa.Column("model_name", sa.String(64), nullable=True),
    sa.Column("version", sa.Integer, nullable=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("severity", sa.String(16), nullable=False),
    sa.Column("value", sa.Float, nullable=True),
    sa.Column("threshold", sa.Float, nullable=True),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("payload_json", sa.Text, nullable=False),
    sa.Column("channel", sa.String(80), nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("slack_ts", sa.String(32), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("audit_seq", sa.BigInteger, nullable=True),
    sa.Index("ix_alerts_status_next", "status", "next_attempt_at"),
)

usage_records = sa.Table(
    "usage_records",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("model_name", sa.String(64), nullable=False),
    sa.Column("version", sa.Integer, nullable=True),
    sa.Column("consumer_team", sa.String(64), nullable=False),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("requests", sa.BigInteger, nullable=False),
    sa.Column("errors", sa.BigInteger, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    # Request time summed (serving compute is charged on it) and the 95th percentile.
    sa.Column("latency_ms_sum", sa.Float, nullable=True),
    sa.Column("latency_ms_p95", sa.Float, nullable=True),
    sa.UniqueConstraint(
        "model_name", "version", "consumer_team", "day", name="uq_usage_records_key"
    ),
)

# The cost ledger, in FinOps FOCUS terms (see operations/focus.py). Amounts and quantities
# are decimal text: exact on every backend (SQLite has no exact numeric type). Each booking
# of a day is one batch bound to one `cost.allocated` event (`audit_seq`) whose payload holds
# the batch's digest; a restated day gets correction rows, never an update.
cost_allocations = sa.Table(
    "cost_allocations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("model_name", sa.String(64), nullable=False),
    sa.Column("model_version", sa.Integer, nullable=True),
    sa.Column("team", sa.String(64), nullable=False),
    sa.Column("consumer_team", sa.String(64), nullable=False),
    sa.Column("cost_center", sa.String(64), nullable=True),
    sa.Column("cost_type", sa.String(80), nullable=False),
    sa.Column("charge_category", sa.String(16), nullable=False),
    sa.Column("charge_class", sa.String(16), nullable=True),
    sa.Column("quantity", sa.String(40), nullable=False),
    sa.Column("unit", sa.String(16), nullable=False),
    sa.Column("amount", sa.String(40), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("restatement", sa.Integer, nullable=False),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("audit_seq", sa.BigInteger, nullable=False),
    sa.Index("ix_cost_allocations_day", "day"),
    sa.Index("ix_cost_allocations_audit_seq", "audit_seq"),
)

access_log = sa.Table(
    "access_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("user_name", sa.String(64), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("resource", sa.String(255), nullable=False),
    sa.Column("allowed", sa.Boolean, nullable=False),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("audit_seq", sa.BigInteger, nullable=True),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("event_id", sa.String(36), nullable=False, unique=True),
    sa.Column("at", sa.String(32), nullable=False),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("model_name", sa.String(64), nullable=True),
    sa.Column("version", sa.Integer, nullable=True),
    sa.Column("payload_json", sa.Text, nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("hash", sa.String(64), nullable=False, unique=True),
    sa.Index("ix_audit_log_model", "model_name", "seq"),
    sa.Index("ix_audit_log_action", "action", "seq"),
)

# One row: the chain's tip. Writers lock it, so appends are serialised on every backend,
# and `audit verify` compares it with the last row to detect a truncated log.
audit_head = sa.Table(
    "audit_head",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)

inference_log = sa.Table(
    "inference_log",
    metadata,
    sa.Column("request_id", sa.String(64), primary_key=True),
    sa.Column("model_name", sa.String(64), nullable=False),
    sa.Column("model_version", sa.Integer, nullable=False),
    sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("consumer_team", sa.String(64), nullable=False),
    sa.Column("latency_ms", sa.Float, nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("features", sa.Text, nullable=True),
    sa.Column("prediction", sa.Float, nullable=True),
    sa.Column("label", sa.Float, nullable=True),
    sa.Column("label_at", sa.DateTime(timezone=True), nullable=True),
    # When the row reached the store (set by the database): seals cover rows by this time,
    # so rows that arrive late for a day go into a later seal instead of breaking one.
    sa.Column(
        "logged_at", sa.DateTime(timezone=True), nullable=False, server_default=arrival_time()
    ),
    sa.Index("ix_inference_log_model_time", "model_name", "requested_at"),
)

# Ground truth that arrives after the request: one append-only row per request, never an
# update of the inference log, so a sealed day stays sealed when its labels come in.
inference_labels = sa.Table(
    "inference_labels",
    metadata,
    sa.Column("request_id", sa.String(64), primary_key=True),
    sa.Column("model_name", sa.String(64), nullable=False),
    sa.Column("label", sa.Float, nullable=False),
    sa.Column("labeled_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column(
        "logged_at", sa.DateTime(timezone=True), nullable=False, server_default=arrival_time()
    ),
    sa.Index("ix_inference_labels_model_logged", "model_name", "logged_at"),
)

# A shadow endpoint's candidate scores of mirrored requests (keyed by the answered request's
# id, so its label scores both): comparison only, never part of usage, costs or monitoring.
shadow_predictions = sa.Table(
    "shadow_predictions",
    metadata,
    sa.Column("request_id", sa.String(64), primary_key=True),
    sa.Column("endpoint", sa.String(63), nullable=False),
    sa.Column("model_name", sa.String(64), nullable=False),
    sa.Column("model_version", sa.Integer, nullable=False),
    sa.Column("scored_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("latency_ms", sa.Float, nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("prediction", sa.Float, nullable=True),
    sa.Index("ix_shadow_predictions_model", "model_name", "model_version"),
)

# Serving endpoints, managed by people holding `endpoint.manage`. A row changes (settings,
# soft delete) but is never removed: a name is never reused, so a token scoped to a deleted
# endpoint cannot reach a new one. Each change rebinds the row to its `endpoint.*` event,
# whose payload holds the settings before and after.
endpoints = sa.Table(
    "endpoints",
    metadata,
    sa.Column("name", sa.String(63), primary_key=True),
    sa.Column("model_name", sa.String(64), nullable=False),
    sa.Column("stage", sa.String(16), nullable=False),  # production | candidate
    sa.Column("candidate_version", sa.Integer, nullable=True),
    sa.Column("mode", sa.String(16), nullable=False),  # live | canary | shadow
    sa.Column("traffic_share", sa.Float, nullable=True),
    sa.Column("allowed_teams", sa.Text, nullable=False),  # JSON list of team names
    sa.Column("rate_limit_per_minute", sa.Integer, nullable=False),
    sa.Column("created_by", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("deleted_by", sa.String(64), nullable=True),
    sa.Column("audit_seq", sa.BigInteger, nullable=True),
)

# API tokens: only the sha256 of the secret is stored, never the secret. Revoking is the
# only change; rows are never removed.
api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("token_id", sa.String(16), primary_key=True),
    sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
    sa.Column("team", sa.String(64), nullable=False),
    sa.Column("endpoints", sa.Text, nullable=False),  # JSON list of endpoint names
    sa.Column("created_by", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("revoked_by", sa.String(64), nullable=True),
    sa.Column("audit_seq", sa.BigInteger, nullable=True),
)

# Governed records: each row is bound to the audit event that recorded it (`audit_seq`, and
# the event's payload carries the row's content hash). Rows are never updated or deleted,
# except the outbox's delivery state and the serving settings (`KEPT_TABLES`).
BOUND_TABLES = (
    data_snapshots,
    model_snapshots,
    model_versions,
    check_results,
    approvals,
    stage_transitions,
    access_log,
    alerts,
    endpoints,
    api_tokens,
)
# Changed by their record family (each change rebinds the row to its event) but never
# removed: a trigger refuses DELETE (and TRUNCATE on PostgreSQL).
KEPT_TABLES = (endpoints, api_tokens)
# Append-only without a per-row binding: the chain itself, and the inference log and its
# labels (sealed per day by digest instead: there are millions of rows), and the cost
# ledger (bound per booked batch).
APPEND_ONLY_TABLES = (
    *(t for t in BOUND_TABLES if t is not alerts and t not in KEPT_TABLES),
    audit_log,
    inference_log,
    inference_labels,
    shadow_predictions,
    cost_allocations,
)
# Tables the application updates by design: the chain's head (forward only, by trigger),
# an outbox row's delivery state, a model's declared config, derived usage counts, and the
# serving endpoints and tokens (changed, revoked, marked deleted; never removed).
MUTABLE_TABLES = (audit_head, alerts, models, usage_records, *KEPT_TABLES)
