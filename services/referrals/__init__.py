"""Referrals: onward care, signposting, DNA follow-up and escalation of bounced or unanswered referrals."""
