"""Waiting cases and owned escalations in the figures (issue 13): a call's decision sequence, an
escalation's ladder and acknowledgement (nullable raising fields: an acknowledgement may overtake its
case.escalated), a referral's withdrawal.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 19:00:00
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from shared.db import UtcDateTime

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _columns(table: str) -> dict[str, bool]:
    """Each column's name and whether it is nullable."""
    return {c["name"]: bool(c["nullable"]) for c in sa.inspect(op.get_bind()).get_columns(table)}


def _new_escalation_columns() -> list[sa.Column[Any]]:
    # Fresh objects each run: a Column joins the table it is added to and cannot be added twice.
    return [
        sa.Column("rung", sa.Integer(), server_default="0", nullable=False),
        sa.Column("acknowledge_by", UtcDateTime(), nullable=True),
        sa.Column("acknowledged_at", UtcDateTime(), nullable=True),
        sa.Column("resolved_at", UtcDateTime(), nullable=True),
        sa.Column("outcome", sa.String(), nullable=True),
    ]


RAISING_COLUMNS = (("occurred_at", UtcDateTime()), ("reason", sa.String()), ("target", sa.String()))


def upgrade() -> None:
    # A database adopted from create_all already has the new shape: change only what differs.
    if "decision_sequence" not in _columns("metrics_calls"):
        with op.batch_alter_table("metrics_calls", schema=None) as batch_op:
            batch_op.add_column(sa.Column("decision_sequence", sa.Integer(), nullable=True))
    escalations = _columns("metrics_escalations")
    missing = [c for c in _new_escalation_columns() if c.name not in escalations]
    not_null = [(name, kind) for name, kind in RAISING_COLUMNS if not escalations.get(name, True)]
    if missing or not_null:
        with op.batch_alter_table("metrics_escalations", schema=None) as batch_op:
            for name, kind in not_null:
                batch_op.alter_column(name, existing_type=kind, nullable=True)
            for column in missing:
                batch_op.add_column(column)
    if "withdrawn_at" not in _columns("metrics_referrals"):
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
