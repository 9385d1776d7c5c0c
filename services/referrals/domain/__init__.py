"""Referrals' rules and aggregates, free of I/O: referrals, signposting, DNA follow-up, the directory."""
