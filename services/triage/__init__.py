"""Triage: turns every request for mental-health help into a recorded, deadline-bound MHP decision."""
