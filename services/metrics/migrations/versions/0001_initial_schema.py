"""Initial schema: the event archive and the metrics projections, with the shared outbox and inbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-23 10:53:36.508459
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.db import UtcDateTime

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inbox",
        sa.Column("consumer", sa.String(length=200), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("processed_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "event_id"),
    )
    op.create_table(
        "metrics_appointments",
        sa.Column("appointment_id", sa.Uuid(), nullable=False),
        sa.Column("pcn_code", sa.String(), nullable=False),
        sa.Column("practice_ods", sa.String(), nullable=False),
        sa.Column("call_id", sa.Uuid(), nullable=True),
        sa.Column("session_id", sa.Uuid(), nullable=True),
        sa.Column("appointment_type", sa.String(), nullable=True),
        sa.Column("booked_by", sa.String(), nullable=True),
        sa.Column("booked_at", UtcDateTime(), nullable=True),
        sa.Column("starts_at", UtcDateTime(), nullable=True),
        sa.Column("minutes", sa.Integer(), nullable=True),
        sa.Column("respond_by", UtcDateTime(), nullable=True),
        sa.Column("cancelled_at", UtcDateTime(), nullable=True),
        sa.Column("cancelled_by", sa.String(), nullable=True),
        sa.Column("outcome", sa.String(), nullable=True),
        sa.Column("attendance", sa.String(), nullable=True),
        sa.Column("outcome_at", UtcDateTime(), nullable=True),
        sa.Column("next_step", sa.String(), nullable=True),
        sa.Column("dna_follow_up", sa.String(), nullable=True),
        sa.Column("dna_followed_up_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("appointment_id"),
    )
    op.create_index(
        "ix_metrics_appointments_pcn", "metrics_appointments", ["pcn_code", "practice_ods"], unique=False
    )
    op.create_table(
        "metrics_archive",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("event_type", sa.String(), nullable=False),
        sa.Column("occurred_at", UtcDateTime(), nullable=False),
        sa.Column("correlation_id", sa.Uuid(), nullable=False),
        sa.Column("pcn_code", sa.String(), nullable=False),
        sa.Column("practice_ods", sa.String(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("event_id"),
    )
    op.create_table(
        "metrics_calls",
        sa.Column("call_id", sa.Uuid(), nullable=False),
        sa.Column("pcn_code", sa.String(), nullable=False),
        sa.Column("practice_ods", sa.String(), nullable=False),
        sa.Column("channel", sa.String(), nullable=True),
        sa.Column("caller_urgency", sa.String(), nullable=True),
        sa.Column("age_band", sa.String(), nullable=True),
        sa.Column("received_at", UtcDateTime(), nullable=True),
        sa.Column("first_triaged_at", UtcDateTime(), nullable=True),
        sa.Column("triaged_at", UtcDateTime(), nullable=True),
        sa.Column("triage_code", sa.String(), nullable=True),
        sa.Column("disposition", sa.String(), nullable=True),
        sa.Column("respond_by", UtcDateTime(), nullable=True),
        sa.Column("out_of_scope_reason", sa.String(), nullable=True),
        sa.Column("destination", sa.String(), nullable=True),
        sa.Column("waitlisted_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("call_id"),
    )
    op.create_index("ix_metrics_calls_pcn", "metrics_calls", ["pcn_code", "practice_ods"], unique=False)
    op.create_table(
        "metrics_escalations",
        sa.Column("escalation_id", sa.Uuid(), nullable=False),
        sa.Column("pcn_code", sa.String(), nullable=False),
        sa.Column("practice_ods", sa.String(), nullable=False),
        sa.Column("occurred_at", UtcDateTime(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("target", sa.String(), nullable=False),
        sa.Column("call_id", sa.Uuid(), nullable=True),
        sa.Column("due_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("escalation_id"),
    )
    op.create_index(
        "ix_metrics_escalations_pcn", "metrics_escalations", ["pcn_code", "occurred_at"], unique=False
    )
    op.create_table(
        "metrics_referrals",
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("pcn_code", sa.String(), nullable=False),
        sa.Column("practice_ods", sa.String(), nullable=False),
        sa.Column("destination", sa.String(), nullable=True),
        sa.Column("made_at", UtcDateTime(), nullable=True),
        sa.Column("previous_referral_id", sa.Uuid(), nullable=True),
        sa.Column("accepted_at", UtcDateTime(), nullable=True),
        sa.Column("declined_at", UtcDateTime(), nullable=True),
        sa.Column("completed_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("referral_id"),
    )
    op.create_index(
        "ix_metrics_referrals_pcn", "metrics_referrals", ["pcn_code", "practice_ods"], unique=False
    )
    op.create_table(
        "metrics_sessions",
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("pcn_code", sa.String(), nullable=False),
        sa.Column("practice_ods", sa.String(), nullable=False),
        sa.Column("session_date", sa.Date(), nullable=True),
        sa.Column("starts_at", UtcDateTime(), nullable=True),
        sa.Column("ends_at", UtcDateTime(), nullable=True),
        sa.Column("cancelled_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("session_id"),
    )
    op.create_index("ix_metrics_sessions_pcn", "metrics_sessions", ["pcn_code", "practice_ods"], unique=False)
    op.create_table(
        "metrics_signposts",
        sa.Column("signpost_id", sa.Uuid(), nullable=False),
        sa.Column("pcn_code", sa.String(), nullable=False),
        sa.Column("practice_ods", sa.String(), nullable=False),
        sa.Column("occurred_at", UtcDateTime(), nullable=False),
        sa.Column("destination", sa.String(), nullable=False),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.Column("out_of_scope_reason", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("signpost_id"),
    )
    op.create_index(
        "ix_metrics_signposts_pcn", "metrics_signposts", ["pcn_code", "practice_ods"], unique=False
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("event_type", sa.String(), nullable=False),
        sa.Column("correlation_id", sa.Uuid(), nullable=False),
        sa.Column("routing_key", sa.String(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("next_attempt_at", UtcDateTime(), nullable=False),
        sa.Column("published_at", UtcDateTime(), nullable=True),
        sa.Column("claim_token", sa.Uuid(), nullable=True),
        sa.Column("claimed_until", UtcDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id"),
    )
    op.create_index("ix_outbox_pending", "outbox", ["published_at", "next_attempt_at"], unique=False)


def downgrade() -> None:
    op.drop_table("outbox")
    op.drop_table("metrics_signposts")
    op.drop_table("metrics_sessions")
    op.drop_table("metrics_referrals")
    op.drop_table("metrics_escalations")
    op.drop_table("metrics_calls")
    op.drop_table("metrics_archive")
    op.drop_table("metrics_appointments")
    op.drop_table("inbox")
