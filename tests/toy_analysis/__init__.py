"""A toy analysis, added the way the README's "Add an analysis" says: this folder, and its line in a
list of analyses (`tests/test_toy_analysis.py` passes `(*ANALYSES, WORD_COUNTS)`)."""
