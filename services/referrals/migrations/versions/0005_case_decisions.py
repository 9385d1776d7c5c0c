"""The newest triage decision per call, withdrawn referrals and risk-led follow-up (issue 13).

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

NEW_COLUMNS: dict[str, list[sa.Column[object]]] = {
    "referrals": [
        sa.Column("withdrawn_at", UtcDateTime(), nullable=True),
        sa.Column("withdrawal_event_id", sa.Uuid(), nullable=True),
    ],
    "dna_follow_ups": [sa.Column("triage_code", sa.String(), nullable=True)],
    "dna_episodes": [
        sa.Column("lead_notified_at", UtcDateTime(), nullable=True),
        sa.Column("lead_notice_event_id", sa.Uuid(), nullable=True),
    ],
}


def upgrade() -> None:
    # A database adopted from create_all (made before migrations) has these already.
    inspector = sa.inspect(op.get_bind())
    existing = set(inspector.get_table_names())
    if "referrals_call_decisions" not in existing:
        _decision_tables()
    for table, columns in NEW_COLUMNS.items():
        present = {c["name"] for c in inspector.get_columns(table)}
        for column in columns:
            if column.name not in present:
                op.add_column(table, column)


def _decision_tables() -> None:
    op.create_table(
        "referrals_call_decisions",
        sa.Column("call_id", sa.Uuid(), nullable=False),
        sa.Column("correlation_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("decision_sequence", sa.Integer(), nullable=True),
        sa.Column("decided_at", UtcDateTime(), nullable=False),
        sa.Column("triage_code", sa.String(), nullable=True),
        sa.Column("disposition", sa.String(), nullable=False),
        sa.Column("applied_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("call_id"),
    )
    op.create_index(
        op.f("ix_referrals_call_decisions_correlation_id"),
        "referrals_call_decisions",
        ["correlation_id"],
        unique=False,
    )
    op.create_table(
        "referrals_ignored_decisions",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("call_id", sa.Uuid(), nullable=False),
        sa.Column("decision_sequence", sa.Integer(), nullable=True),
        sa.Column("decided_at", UtcDateTime(), nullable=False),
        sa.Column("triage_code", sa.String(), nullable=True),
        sa.Column("disposition", sa.String(), nullable=False),
        sa.Column("ordering", sa.String(), nullable=False),
        sa.Column("applied_event_id", sa.Uuid(), nullable=False),
        sa.Column("applied_sequence", sa.Integer(), nullable=True),
        sa.Column("ignored_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
    )
    op.create_index(
        op.f("ix_referrals_ignored_decisions_call_id"),
        "referrals_ignored_decisions",
        ["call_id"],
        unique=False,
    )


def downgrade() -> None:
    for table, columns in NEW_COLUMNS.items():
        for column in columns:
            op.drop_column(table, column.name)
    op.drop_index(op.f("ix_referrals_ignored_decisions_call_id"), table_name="referrals_ignored_decisions")
    op.drop_table("referrals_ignored_decisions")
    op.drop_index(op.f("ix_referrals_call_decisions_correlation_id"), table_name="referrals_call_decisions")
    op.drop_table("referrals_call_decisions")
