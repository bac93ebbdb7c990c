"""Tuning: the search that chose a run's settings (`declaration.py` says what it adds to a run)."""
