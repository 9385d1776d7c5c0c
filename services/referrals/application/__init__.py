"""Referrals' use cases: one handler per command over the unit-of-work port, and the read-side queries."""
