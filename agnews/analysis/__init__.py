"""Analyses across runs: comparisons that belong to no single run."""
