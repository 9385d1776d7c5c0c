"""Initial schema: rota, slots, appointments, slot claims, waitlist, the shared outbox and inbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-23 10:50:15.536503
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
        "booking_appointments",
        sa.Column("appointment_id", sa.Uuid(), nullable=False),
        sa.Column("correlation_id", sa.Uuid(), nullable=False),
        sa.Column("call_id", sa.Uuid(), nullable=True),
        sa.Column("pcn_code", sa.String(), nullable=False),
        sa.Column("practice_ods", sa.String(), nullable=False),
        sa.Column("home_practice_ods", sa.String(), nullable=False),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("starts_at", UtcDateTime(), nullable=False),
        sa.Column("ends_at", UtcDateTime(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("modality", sa.String(), nullable=False),
        sa.Column("appointment_type", sa.String(), nullable=False),
        sa.Column("booked_by", sa.String(), nullable=False),
        sa.Column("respond_by", UtcDateTime(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("attendance", sa.String(), nullable=True),
        sa.Column("cancelled_late", sa.Boolean(), nullable=False),
        sa.Column("next_step", sa.String(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("appointment_id"),
    )
    op.create_index(
        op.f("ix_booking_appointments_call_id"), "booking_appointments", ["call_id"], unique=False
    )
    op.create_index(
        op.f("ix_booking_appointments_correlation_id"),
        "booking_appointments",
        ["correlation_id"],
        unique=False,
    )
    op.create_index(
        "ix_booking_appointments_direct",
        "booking_appointments",
        ["practice_ods", "booked_by", "starts_at"],
        unique=False,
    )
    op.create_index(
        "ix_booking_appointments_review", "booking_appointments", ["status", "ends_at"], unique=False
    )
    op.create_index(
        "uq_booking_live_call",
        "booking_appointments",
        ["call_id"],
        unique=True,
        sqlite_where=sa.text(
            "status = 'booked' AND call_id IS NOT NULL AND appointment_type = 'initial_assessment'"
        ),
        postgresql_where=sa.text(
            "status = 'booked' AND call_id IS NOT NULL AND appointment_type = 'initial_assessment'"
        ),
    )
    op.create_table(
        "booking_direct_refusals",
        sa.Column("appointment_id", sa.Uuid(), nullable=False),
        sa.Column("practice_ods", sa.String(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("refused_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("appointment_id"),
    )
    op.create_index(
        op.f("ix_booking_direct_refusals_practice_ods"),
        "booking_direct_refusals",
        ["practice_ods"],
        unique=False,
    )
    op.create_table(
        "booking_practice_caps",
        sa.Column("practice_ods", sa.String(), nullable=False),
        sa.Column("weekly_direct_bookings", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("practice_ods"),
    )
    op.create_table(
        "booking_sessions",
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("pcn_code", sa.String(), nullable=False),
        sa.Column("practice_ods", sa.String(), nullable=False),
        sa.Column("session_date", sa.Date(), nullable=False),
        sa.Column("period", sa.String(), nullable=False),
        sa.Column("starts_at", UtcDateTime(), nullable=False),
        sa.Column("ends_at", UtcDateTime(), nullable=False),
        sa.Column("clinician", sa.String(), nullable=False),
        sa.Column("modalities", sa.String(), nullable=False),
        sa.Column("room", sa.String(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("session_id"),
        sa.UniqueConstraint(
            "practice_ods", "session_date", "period", name="uq_booking_session_practice_period"
        ),
    )
    op.create_index(
        "ix_booking_sessions_next", "booking_sessions", ["practice_ods", "status", "starts_at"], unique=False
    )
    op.create_index(op.f("ix_booking_sessions_pcn_code"), "booking_sessions", ["pcn_code"], unique=False)
    op.create_table(
        "booking_waitlist",
        sa.Column("entry_id", sa.Uuid(), nullable=False),
        sa.Column("call_id", sa.Uuid(), nullable=False),
        sa.Column("correlation_id", sa.Uuid(), nullable=False),
        sa.Column("cause_event_id", sa.Uuid(), nullable=False),
        sa.Column("pcn_code", sa.String(), nullable=False),
        sa.Column("practice_ods", sa.String(), nullable=False),
        sa.Column("respond_by", UtcDateTime(), nullable=False),
        sa.Column("modality", sa.String(), nullable=True),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("appointment_type", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("appointment_id", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("entry_id"),
    )
    op.create_index(
        "ix_booking_waitlist_queue", "booking_waitlist", ["pcn_code", "status", "respond_by"], unique=False
    )
    op.create_index(
        "uq_booking_waiting_call",
        "booking_waitlist",
        ["call_id"],
        unique=True,
        sqlite_where=sa.text("status = 'waiting'"),
        postgresql_where=sa.text("status = 'waiting'"),
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
        "booking_slots",
        sa.Column("slot_id", sa.Uuid(), nullable=False),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("pcn_code", sa.String(), nullable=False),
        sa.Column("practice_ods", sa.String(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("starts_at", UtcDateTime(), nullable=False),
        sa.Column("ends_at", UtcDateTime(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("modality", sa.String(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["booking_sessions.session_id"],
        ),
        sa.PrimaryKeyConstraint("slot_id"),
        sa.UniqueConstraint("session_id", "seq", name="uq_booking_slot_session_seq"),
    )
    op.create_index(
        "ix_booking_slots_pcn_search", "booking_slots", ["pcn_code", "status", "starts_at"], unique=False
    )
    op.create_index(
        "ix_booking_slots_practice_search",
        "booking_slots",
        ["practice_ods", "status", "starts_at"],
        unique=False,
    )
    op.create_table(
        "booking_appointment_slots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Uuid(), nullable=False),
        sa.Column("slot_id", sa.Uuid(), nullable=False),
        sa.Column("live", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["booking_appointments.appointment_id"],
        ),
        sa.ForeignKeyConstraint(
            ["slot_id"],
            ["booking_slots.slot_id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_booking_appointment_slots_appointment_id"),
        "booking_appointment_slots",
        ["appointment_id"],
        unique=False,
    )
    op.create_index(
        "uq_booking_live_slot",
        "booking_appointment_slots",
        ["slot_id"],
        unique=True,
        sqlite_where=sa.text("live = 1"),
        postgresql_where=sa.text("live"),
    )


def downgrade() -> None:
    op.drop_table("booking_appointment_slots")
    op.drop_table("booking_slots")
    op.drop_table("outbox")
    op.drop_table("inbox")
    op.drop_table("booking_waitlist")
    op.drop_table("booking_sessions")
    op.drop_table("booking_practice_caps")
    op.drop_table("booking_direct_refusals")
    op.drop_table("booking_appointments")
