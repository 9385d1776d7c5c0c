"""Metrics use cases: one handler per command, read-side queries, all over the unit-of-work port."""
