"""The platform's own shared package: event contracts and the messaging, database and logging plumbing."""
