"""A toy analysis, added the way docs/architecture.md's "To add an analysis" says: this folder, and
its line in a list of analyses (`tests/test_toy_analysis.py` passes `(*ANALYSES, WORD_COUNTS)`)."""
