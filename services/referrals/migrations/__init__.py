"""Schema migrations of the referrals database (Alembic; `mhp db --help`)."""
