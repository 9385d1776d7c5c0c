"""Figures kept as events arrive (issue 17): counters and medians per (PCN, scope, month, name), their
samples, each fact's contribution, deadline and waiting cases, the practices seen; indexes for a call's
appointments and the open escalations. Backfilled from the projections, so reports stay right at once.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 06:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("ix_metrics_appointments_call", "metrics_appointments", ["call_id"]),
    ("ix_metrics_escalations_resolved", "metrics_escalations", ["resolved_at"]),
)


def _backfill(bind: sa.Connection) -> None:
    """The kept figures of the facts already projected (empty on a new database)."""
    # Imported here: the rows are the service's own (adapters.kept), computed by its domain rules.
    from services.metrics.adapters.kept import kept_rows
    from services.metrics.adapters.repositories import TABLE_OF
    from services.metrics.domain.contributions import all_contributions, source_key
    from services.metrics.domain.facts import fact_from_row

    facts = [
        fact_from_row(kind, dict(row))
        for kind, table in TABLE_OF.items()
        for row in bind.execute(sa.select(table)).mappings()
    ]
    if not facts:
        return
    shares = all_contributions(facts)
    pcn_of = {source_key(f): f.pcn_code for f in facts}
    practices = {(f.pcn_code, f.practice_ods) for f in facts}
    for table, rows in kept_rows({k: (pcn_of[k], c) for k, c in shares.items()}, practices).items():
        if rows:
            bind.execute(sa.insert(table), rows)


def upgrade() -> None:
    from services.metrics.adapters.kept_tables import KEPT_TABLES

    bind = op.get_bind()
    inspector = sa.inspect(bind)
    existing = set(inspector.get_table_names())
    # A database adopted from create_all already has the new tables and indexes: make only what is missing.
    created = [t for t in KEPT_TABLES if t.name not in existing]
    for table in created:
        table.create(bind)
    for name, table_name, columns in INDEXES:
        if name not in {i["name"] for i in inspector.get_indexes(table_name)}:
            op.create_index(name, table_name, columns)
    if created:
        _backfill(bind)


def downgrade() -> None:
    from services.metrics.adapters.kept_tables import KEPT_TABLES

    for name, table_name, _ in INDEXES:
        op.drop_index(name, table_name=table_name)
    for table in reversed(KEPT_TABLES):
        table.drop(op.get_bind())
