"""Initial schema: triage calls and decisions, with the shared outbox and inbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-23 10:50:03.509960
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
        "triage_calls",
        sa.Column("call_id", sa.Uuid(), nullable=False),
        sa.Column("correlation_id", sa.Uuid(), nullable=False),
        sa.Column("received_event_id", sa.Uuid(), nullable=False),
        sa.Column("pcn_code", sa.String(), nullable=False),
        sa.Column("practice_ods", sa.String(), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("caller_urgency", sa.String(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("nhs_number", sa.String(), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=False),
        sa.Column("received_at", UtcDateTime(), nullable=False),
        sa.Column("red_flags", sa.Boolean(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("latest_decision_id", sa.Uuid(), nullable=True),
        sa.Column("callback_due_at", UtcDateTime(), nullable=False),
        sa.Column("escalated_at", UtcDateTime(), nullable=True),
        sa.Column("escalation_event_id", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("call_id"),
    )
    op.create_index(op.f("ix_triage_calls_correlation_id"), "triage_calls", ["correlation_id"], unique=False)
    op.create_index(
        "ix_triage_calls_watchdog",
        "triage_calls",
        ["status", "escalated_at", "callback_due_at"],
        unique=False,
    )
    op.create_index(
        "ix_triage_calls_worklist",
        "triage_calls",
        ["status", "pcn_code", "priority", "received_at"],
        unique=False,
    )
    op.create_table(
        "triage_decisions",
        sa.Column("decision_id", sa.Uuid(), nullable=False),
        sa.Column("call_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("triage_code", sa.String(), nullable=False),
        sa.Column("disposition", sa.String(), nullable=False),
        sa.Column("respond_by", UtcDateTime(), nullable=True),
        sa.Column("modality", sa.String(), nullable=True),
        sa.Column("appointment_minutes", sa.Integer(), nullable=True),
        sa.Column("out_of_scope_reason", sa.String(), nullable=True),
        sa.Column("clinician", sa.String(), nullable=False),
        sa.Column("decided_at", UtcDateTime(), nullable=False),
        sa.Column("supersedes", sa.Uuid(), nullable=True),
        sa.Column("superseded_by", sa.Uuid(), nullable=True),
        sa.Column("destination", sa.String(), nullable=True),
        sa.Column("contact_outcome", sa.String(), nullable=True),
        sa.Column("complex_needs", sa.Boolean(), nullable=False),
        sa.Column("escalation_event_id", sa.Uuid(), nullable=True),
        sa.Column("risk_summary", sa.Text(), nullable=True),
        sa.Column("risk_thoughts", sa.Boolean(), nullable=True),
        sa.Column("risk_plan", sa.Boolean(), nullable=True),
        sa.Column("risk_means", sa.Boolean(), nullable=True),
        sa.Column("risk_intent", sa.Boolean(), nullable=True),
        sa.Column("risk_history", sa.Boolean(), nullable=True),
        sa.Column("risk_protective_factors", sa.Boolean(), nullable=True),
        sa.Column("risk_safeguarding_concerns", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["triage_calls.call_id"],
        ),
        sa.PrimaryKeyConstraint("decision_id"),
    )
    op.create_index(op.f("ix_triage_decisions_call_id"), "triage_decisions", ["call_id"], unique=False)


def downgrade() -> None:
    op.drop_table("triage_decisions")
    op.drop_table("triage_calls")
    op.drop_table("outbox")
    op.drop_table("inbox")
