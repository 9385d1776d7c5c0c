"""Schema migrations of the metrics database (Alembic; `mhp db --help`)."""
