"""Robustness: behavioural tests of a run's model (`declaration.py` says what it adds to a run)."""
