"""Dataset checks: what looks wrong with the data a run was trained and tested on (`declaration.py` says
what it adds)."""
