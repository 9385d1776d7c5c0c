"""Benchmarks: speed measured as ratios against a raw-broker baseline taken in the same run."""
