"""Referrals' entry points: the AMQP subscription table, HTTP API and watchdog; they only translate."""
