"""The platform's services; each runs alone (`python -m services.<name>`) and talks to others by events."""
