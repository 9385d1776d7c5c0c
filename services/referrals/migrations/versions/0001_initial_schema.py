"""Initial schema: referrals, signposts, DNA follow-ups and episodes, with the shared outbox and inbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-23 11:35:08.697160
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
        "dna_episodes",
        sa.Column("correlation_id", sa.Uuid(), nullable=False),
        sa.Column("dna_count", sa.Integer(), nullable=False),
        sa.Column("gp_notified_at", UtcDateTime(), nullable=True),
        sa.Column("gp_notice_event_id", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("correlation_id"),
    )
    op.create_table(
        "dna_follow_ups",
        sa.Column("follow_up_id", sa.Uuid(), nullable=False),
        sa.Column("appointment_id", sa.Uuid(), nullable=False),
        sa.Column("dna_event_id", sa.Uuid(), nullable=False),
        sa.Column("correlation_id", sa.Uuid(), nullable=False),
        sa.Column("pcn_code", sa.String(), nullable=False),
        sa.Column("practice_ods", sa.String(), nullable=False),
        sa.Column("attendance", sa.String(), nullable=False),
        sa.Column("opened_at", UtcDateTime(), nullable=False),
        sa.Column("due_at", UtcDateTime(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("outcome", sa.String(), nullable=True),
        sa.Column("outcome_at", UtcDateTime(), nullable=True),
        sa.Column("recorded_by", sa.String(), nullable=True),
        sa.Column("signposted_to", sa.String(), nullable=True),
        sa.Column("outcome_event_id", sa.Uuid(), nullable=True),
        sa.Column("escalated_at", UtcDateTime(), nullable=True),
        sa.Column("escalation_event_id", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("follow_up_id"),
        sa.UniqueConstraint("appointment_id"),
    )
    op.create_index(
        op.f("ix_dna_follow_ups_correlation_id"), "dna_follow_ups", ["correlation_id"], unique=False
    )
    op.create_index(
        "ix_dna_follow_ups_open", "dna_follow_ups", ["pcn_code", "status", "due_at"], unique=False
    )
    op.create_index(
        "ix_dna_follow_ups_watchdog", "dna_follow_ups", ["status", "escalated_at", "due_at"], unique=False
    )
    op.create_table(
        "inbox",
        sa.Column("consumer", sa.String(length=200), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("processed_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "event_id"),
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
    op.create_table(
        "referrals",
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("root_referral_id", sa.Uuid(), nullable=False),
        sa.Column("previous_referral_id", sa.Uuid(), nullable=True),
        sa.Column("correlation_id", sa.Uuid(), nullable=False),
        sa.Column("pcn_code", sa.String(), nullable=False),
        sa.Column("practice_ods", sa.String(), nullable=False),
        sa.Column("call_id", sa.Uuid(), nullable=True),
        sa.Column("appointment_id", sa.Uuid(), nullable=True),
        sa.Column("destination", sa.String(), nullable=False),
        sa.Column("service_code", sa.String(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("source_event_id", sa.Uuid(), nullable=False),
        sa.Column("made_event_id", sa.Uuid(), nullable=True),
        sa.Column("made_at", UtcDateTime(), nullable=False),
        sa.Column("response_due_at", UtcDateTime(), nullable=True),
        sa.Column("accepted_at", UtcDateTime(), nullable=True),
        sa.Column("completed_at", UtcDateTime(), nullable=True),
        sa.Column("declined_at", UtcDateTime(), nullable=True),
        sa.Column("decline_reason", sa.String(length=200), nullable=True),
        sa.Column("rerouted_to", sa.Uuid(), nullable=True),
        sa.Column("redirected_by", sa.String(), nullable=True),
        sa.Column("bounce_escalation_event_id", sa.Uuid(), nullable=True),
        sa.Column("chased_at", UtcDateTime(), nullable=True),
        sa.Column("chase_event_id", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("referral_id"),
        sa.UniqueConstraint("source_event_id"),
    )
    op.create_index(
        "ix_referrals_chase", "referrals", ["status", "chased_at", "response_due_at"], unique=False
    )
    op.create_index(op.f("ix_referrals_correlation_id"), "referrals", ["correlation_id"], unique=False)
    op.create_index("ix_referrals_open", "referrals", ["pcn_code", "status", "made_at"], unique=False)
    op.create_index(op.f("ix_referrals_root_referral_id"), "referrals", ["root_referral_id"], unique=False)
    op.create_table(
        "referrals_signposts",
        sa.Column("signpost_id", sa.Uuid(), nullable=False),
        sa.Column("source_event_id", sa.Uuid(), nullable=False),
        sa.Column("correlation_id", sa.Uuid(), nullable=False),
        sa.Column("pcn_code", sa.String(), nullable=False),
        sa.Column("practice_ods", sa.String(), nullable=False),
        sa.Column("call_id", sa.Uuid(), nullable=True),
        sa.Column("appointment_id", sa.Uuid(), nullable=True),
        sa.Column("destination", sa.String(), nullable=False),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.Column("out_of_scope_reason", sa.String(), nullable=True),
        sa.Column("recorded_at", UtcDateTime(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("signpost_id"),
        sa.UniqueConstraint("source_event_id"),
    )
    op.create_index(
        op.f("ix_referrals_signposts_correlation_id"), "referrals_signposts", ["correlation_id"], unique=False
    )


def downgrade() -> None:
    op.drop_table("referrals_signposts")
    op.drop_table("referrals")
    op.drop_table("outbox")
    op.drop_table("inbox")
    op.drop_table("dna_follow_ups")
    op.drop_table("dna_episodes")
