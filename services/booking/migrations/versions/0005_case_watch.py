"""The case watch: decision order, re-escalation of waiting cases, outcome review (issue 13).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 19:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.db import UtcDateTime

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A database adopted from create_all (made before migrations) has these tables already.
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "booking_call_decisions" not in existing:
        _decision_tables()
    if "booking_waitlist_watch" not in existing:
        _watch_tables()


def _decision_tables() -> None:
    op.create_table(
        "booking_call_decisions",
        sa.Column("call_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("decision_sequence", sa.Integer(), nullable=True),
        sa.Column("decided_at", UtcDateTime(), nullable=False),
        sa.Column("triage_code", sa.String(), nullable=True),
        sa.Column("applied_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("call_id"),
    )
    op.create_table(
        "booking_ignored_decisions",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("call_id", sa.Uuid(), nullable=False),
        sa.Column("decision_sequence", sa.Integer(), nullable=True),
        sa.Column("decided_at", UtcDateTime(), nullable=False),
        sa.Column("ordering", sa.String(), nullable=False),
        sa.Column("applied_event_id", sa.Uuid(), nullable=False),
        sa.Column("applied_sequence", sa.Integer(), nullable=True),
        sa.Column("ignored_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
    )
    op.create_index(
        op.f("ix_booking_ignored_decisions_call_id"), "booking_ignored_decisions", ["call_id"], unique=False
    )


def _watch_tables() -> None:
    op.create_table(
        "booking_waitlist_watch",
        sa.Column("entry_id", sa.Uuid(), nullable=False),
        sa.Column("next_check_at", UtcDateTime(), nullable=False),
        sa.Column("escalations", sa.Integer(), nullable=False),
        sa.Column("breach_escalated_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["entry_id"], ["booking_waitlist.entry_id"]),
        sa.PrimaryKeyConstraint("entry_id"),
    )
    op.create_index(
        "ix_booking_waitlist_watch_due", "booking_waitlist_watch", ["next_check_at"], unique=False
    )
    op.create_table(
        "booking_outcome_reviews",
        sa.Column("appointment_id", sa.Uuid(), nullable=False),
        sa.Column("escalated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["appointment_id"], ["booking_appointments.appointment_id"]),
        sa.PrimaryKeyConstraint("appointment_id"),
    )


def downgrade() -> None:
    op.drop_table("booking_outcome_reviews")
    op.drop_index("ix_booking_waitlist_watch_due", table_name="booking_waitlist_watch")
    op.drop_table("booking_waitlist_watch")
    op.drop_index(op.f("ix_booking_ignored_decisions_call_id"), table_name="booking_ignored_decisions")
    op.drop_table("booking_ignored_decisions")
    op.drop_table("booking_call_decisions")
