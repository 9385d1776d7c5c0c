"""Schema migrations of the triage database (Alembic; `mhp db --help`)."""
