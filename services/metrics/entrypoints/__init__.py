"""Metrics entry points: they translate AMQP, HTTP and pages to commands and queries, and back."""
