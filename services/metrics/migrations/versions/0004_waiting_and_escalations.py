"""Waiting cases and owned escalations in the figures (issue 13): a call's decision sequence, an
escalation's ladder and acknowledgement (nullable raising fields: an acknowledgement may overtake its
case.escalated), a referral's withdrawal.

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
    with op.batch_alter_table("metrics_calls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("decision_sequence", sa.Integer(), nullable=True))
    with op.batch_alter_table("metrics_escalations", schema=None) as batch_op:
        batch_op.alter_column("occurred_at", existing_type=UtcDateTime(), nullable=True)
        batch_op.alter_column("reason", existing_type=sa.String(), nullable=True)
        batch_op.alter_column("target", existing_type=sa.String(), nullable=True)
        batch_op.add_column(sa.Column("rung", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("acknowledge_by", UtcDateTime(), nullable=True))
        batch_op.add_column(sa.Column("acknowledged_at", UtcDateTime(), nullable=True))
        batch_op.add_column(sa.Column("resolved_at", UtcDateTime(), nullable=True))
        batch_op.add_column(sa.Column("outcome", sa.String(), nullable=True))
    with op.batch_alter_table("metrics_referrals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("withdrawn_at", UtcDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("metrics_referrals", schema=None) as batch_op:
        batch_op.drop_column("withdrawn_at")
    with op.batch_alter_table("metrics_escalations", schema=None) as batch_op:
        batch_op.drop_column("outcome")
        batch_op.drop_column("resolved_at")
        batch_op.drop_column("acknowledged_at")
        batch_op.drop_column("acknowledge_by")
        batch_op.drop_column("rung")
        batch_op.alter_column("target", existing_type=sa.String(), nullable=False)
        batch_op.alter_column("reason", existing_type=sa.String(), nullable=False)
        batch_op.alter_column("occurred_at", existing_type=UtcDateTime(), nullable=False)
    with op.batch_alter_table("metrics_calls", schema=None) as batch_op:
        batch_op.drop_column("decision_sequence")
