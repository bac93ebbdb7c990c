"""Cross-domain: the run's model on labelled files from elsewhere (`declaration.py` says what it adds)."""
