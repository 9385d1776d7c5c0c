"""Triage's rules and its call aggregate, free of I/O (see docs/layers.md).

- `intake`: identity plausibility, red flags and worklist priority of a new call.
- `deadlines`: callback targets per channel and PCN, measured in working hours.
- `mhts`: the MHP's decision, checked and turned into an outcome by the UK MHTS table and scope rules.
- `call`: the call aggregate: its status, its decisions (supersede, retry) and its deadline escalation.
"""
