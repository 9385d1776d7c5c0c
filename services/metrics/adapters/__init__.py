"""Metrics adapters: tables, SQL repositories, the SQL unit of work, the in-process live feed."""
