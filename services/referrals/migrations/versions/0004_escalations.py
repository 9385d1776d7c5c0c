"""Escalations as owned work: owner, state, acknowledgement deadline, ladder rung (issue 13).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 19:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.db import UtcDateTime

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A database adopted from create_all (made before migrations) has these tables already.
    if "escalations" in sa.inspect(op.get_bind()).get_table_names():
        return
    op.create_table(
        "escalations",
        sa.Column("escalation_id", sa.Uuid(), nullable=False),
        sa.Column("correlation_id", sa.Uuid(), nullable=False),
        sa.Column("pcn_code", sa.String(), nullable=False),
        sa.Column("practice_ods", sa.String(), nullable=False),
        sa.Column("first_target", sa.String(), nullable=False),
        sa.Column("target", sa.String(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("raised_at", UtcDateTime(), nullable=False),
        sa.Column("raised_by", sa.String(), nullable=False),
        sa.Column("acknowledge_by", UtcDateTime(), nullable=False),
        sa.Column("call_id", sa.Uuid(), nullable=True),
        sa.Column("appointment_id", sa.Uuid(), nullable=True),
        sa.Column("referral_id", sa.Uuid(), nullable=True),
        sa.Column("due_at", UtcDateTime(), nullable=True),
        sa.Column("rung", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(), nullable=True),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("acknowledged_at", UtcDateTime(), nullable=True),
        sa.Column("acknowledged_by", sa.String(), nullable=True),
        sa.Column("resolved_at", UtcDateTime(), nullable=True),
        sa.Column("resolved_by", sa.String(), nullable=True),
        sa.Column("outcome", sa.String(), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("last_event_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("escalation_id"),
    )
    op.create_index(op.f("ix_escalations_correlation_id"), "escalations", ["correlation_id"], unique=False)
    op.create_index("ix_escalations_ladder", "escalations", ["state", "acknowledge_by"], unique=False)
    op.create_index("ix_escalations_owner", "escalations", ["owner", "state"], unique=False)
    op.create_index("ix_escalations_target", "escalations", ["target", "state"], unique=False)
    op.create_table(
        "escalation_history",
        sa.Column("escalation_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("step", sa.String(), nullable=False),
        sa.Column("rung", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(), nullable=False),
        sa.Column("owner", sa.String(), nullable=True),
        sa.Column("by", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("escalation_id", "seq"),
    )


def downgrade() -> None:
    op.drop_table("escalation_history")
    op.drop_index("ix_escalations_target", table_name="escalations")
    op.drop_index("ix_escalations_owner", table_name="escalations")
    op.drop_index("ix_escalations_ladder", table_name="escalations")
    op.drop_index(op.f("ix_escalations_correlation_id"), table_name="escalations")
    op.drop_table("escalations")
