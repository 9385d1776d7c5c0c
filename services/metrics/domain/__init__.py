"""Metrics rules, pure and without I/O: what the archive may keep (privacy), how each event folds into its
fact (folding), the monthly return and the trust view's outlier flags. Months are Europe/London months."""
