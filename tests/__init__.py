"""The platform's test suite."""
