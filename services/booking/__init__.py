"""Booking: the MHP rota, risk-driven booking, direct bookings, attendance and the FHIR practice API."""
