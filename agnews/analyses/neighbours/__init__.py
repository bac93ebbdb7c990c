"""Neighbours: the training rows nearest a test row or a text (`declaration.py` says what it adds)."""
