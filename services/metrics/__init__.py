"""Metrics: projections of every event into the monthly PCN return, the trust view and the live dashboard."""
