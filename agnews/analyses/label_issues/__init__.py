"""Label issues: which given labels are likely wrong (`declaration.py` says what it adds to a run)."""
