"""The access audit: an append-only row for every read and change of patient data (issue 11).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 07:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from shared.audit import create_access_audit_table

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_access_audit_table(op)


def downgrade() -> None:
    op.drop_table("access_audit")
