"""Referrals' adapters: its tables, SQL repositories, the SQL unit of work and the directory file."""
