"""Each decision's place in its call's sequence; out-of-hours red-flag escalation (issue 13).

Decisions made before this revision are numbered in the order the audit trail lists them (decided_at,
then decision_id); each call takes its current decision's number (0 when untriaged).

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

SEQUENCE_INDEX = "ux_triage_decisions_call_sequence"
OUT_OF_HOURS_COLUMNS = (
    "out_of_hours_escalated_at",
    "out_of_hours_escalated_to",
    "out_of_hours_escalation_event_id",
)

NUMBER_DECISIONS = """
UPDATE triage_decisions SET decision_sequence = (
    SELECT COUNT(*) FROM triage_decisions AS earlier
    WHERE earlier.call_id = triage_decisions.call_id
      AND (earlier.decided_at < triage_decisions.decided_at
           OR (earlier.decided_at = triage_decisions.decided_at
               AND earlier.decision_id <= triage_decisions.decision_id))
)
"""

NUMBER_CALLS = """
UPDATE triage_calls SET decision_sequence = COALESCE((
    SELECT d.decision_sequence FROM triage_decisions AS d
    WHERE d.decision_id = triage_calls.latest_decision_id
), 0)
"""


def _columns(table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(op.get_bind()).get_columns(table)}


def upgrade() -> None:
    # A database adopted from create_all already has the columns: add only what is missing.
    if "decision_sequence" not in _columns("triage_decisions"):
        with op.batch_alter_table("triage_decisions") as batch:
            batch.add_column(sa.Column("decision_sequence", sa.Integer(), nullable=True))
        op.execute(NUMBER_DECISIONS)
        with op.batch_alter_table("triage_decisions") as batch:
            batch.alter_column("decision_sequence", existing_type=sa.Integer(), nullable=False)
    indexes = {i["name"] for i in sa.inspect(op.get_bind()).get_indexes("triage_decisions")}
    if SEQUENCE_INDEX not in indexes:
        op.create_index(SEQUENCE_INDEX, "triage_decisions", ["call_id", "decision_sequence"], unique=True)
    calls = _columns("triage_calls")
    if "decision_sequence" not in calls:
        # Plain ADD COLUMNs: SQLite's table rebuild would drop triage_calls, which decisions reference.
        op.add_column(
            "triage_calls", sa.Column("decision_sequence", sa.Integer(), nullable=False, server_default="0")
        )
        op.execute(NUMBER_CALLS)
    if not set(OUT_OF_HOURS_COLUMNS) <= calls:
        op.add_column("triage_calls", sa.Column("out_of_hours_escalated_at", UtcDateTime(), nullable=True))
        op.add_column("triage_calls", sa.Column("out_of_hours_escalated_to", sa.String(), nullable=True))
        op.add_column("triage_calls", sa.Column("out_of_hours_escalation_event_id", sa.Uuid(), nullable=True))


def downgrade() -> None:
    for column in ("decision_sequence", *OUT_OF_HOURS_COLUMNS):
        op.drop_column("triage_calls", column)  # not a rebuild: decisions reference the table
    op.drop_index(SEQUENCE_INDEX, table_name="triage_decisions")
    with op.batch_alter_table("triage_decisions") as batch:
        batch.drop_column("decision_sequence")
