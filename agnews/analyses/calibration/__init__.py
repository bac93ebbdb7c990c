"""Calibration: can the run's confidence be taken at its word (`declaration.py` says what it adds)."""
