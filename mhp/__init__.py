"""The `mhp` operator CLI: run the platform, one service, synthetic traffic, reports."""
