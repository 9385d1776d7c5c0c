"""Booking by risk: each booking request's urgency (issue 13).

Appointments and waitlist entries carry the case's urgency (urgent: UK MHTS C/D; routine: E, direct
bookings, follow-ups). Rows made before this revision are marked urgent when they have a clinical
deadline (appointments) or are still waiting (the waitlist): they keep today's behaviour, any free slot.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 19:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

URGENT_ARRIVALS = "ix_booking_appointments_urgent_arrivals"


def _has_column(table: str, column: str) -> bool:
    return any(c["name"] == column for c in sa.inspect(op.get_bind()).get_columns(table))


def upgrade() -> None:
    # A database adopted from create_all already has the columns: add only what is missing.
    if not _has_column("booking_appointments", "urgency"):
        with op.batch_alter_table("booking_appointments") as batch:
            batch.add_column(sa.Column("urgency", sa.String(), nullable=False, server_default="routine"))
        op.execute("UPDATE booking_appointments SET urgency = 'urgent' WHERE respond_by IS NOT NULL")
    if not _has_column("booking_waitlist", "urgency"):
        with op.batch_alter_table("booking_waitlist") as batch:
            batch.add_column(sa.Column("urgency", sa.String(), nullable=False, server_default="routine"))
        op.execute("UPDATE booking_waitlist SET urgency = 'urgent' WHERE status = 'waiting'")
    indexes = {i["name"] for i in sa.inspect(op.get_bind()).get_indexes("booking_appointments")}
    if URGENT_ARRIVALS not in indexes:
        op.create_index(
            URGENT_ARRIVALS, "booking_appointments", ["pcn_code", "urgency", "created_at"], unique=False
        )


def downgrade() -> None:
    op.drop_index(URGENT_ARRIVALS, table_name="booking_appointments")
    with op.batch_alter_table("booking_waitlist") as batch:
        batch.drop_column("urgency")
    with op.batch_alter_table("booking_appointments") as batch:
        batch.drop_column("urgency")
