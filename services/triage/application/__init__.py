"""Triage's use cases: commands, one handler per command, the unit-of-work port and read-side queries."""
