"""Schema migrations of the booking database (Alembic; `mhp db --help`)."""
