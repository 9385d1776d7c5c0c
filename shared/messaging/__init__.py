"""Messaging plumbing: topology, transactional outbox and relay, inbox, poison handling and log context."""
