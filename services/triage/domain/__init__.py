"""Triage's rules and its call aggregate, free of I/O (see docs/layers.md).

- `intake`: identity plausibility and worklist priority of a new call.
- `red_flags`: the trust's red-flag vocabulary (parsed, validated, matched on normalised text).
- `out_of_hours`: when a red-flag call goes at once to the out-of-hours route, and which route.
- `deadlines`: callback targets per channel and PCN, measured in working hours.
- `mhts`: the MHP's decision, checked and turned into an outcome by the UK MHTS table and scope rules.
- `call`: the call aggregate: its status, its decisions (supersede, retry) and its deadline escalation.
"""
