"""Booking's rules and aggregates, no I/O: the rota, slot allocation, appointments, the waitlist, caps."""
