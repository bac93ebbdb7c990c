"""Slices: where is the model weak, by kind of text (`declaration.py` says what it adds)."""
