"""The page's own CSS, launched with every server of this app (`agnews.ui.app.LAUNCH_LIMITS`).

Gradio cuts a table header that is wider than its column with "…" ("conf…", "r…"); here a header
wraps between its words instead, and the tables' column widths leave each word its room (the
browser tests check that no header is cut: `tests/test_page_linked_views.py`).
"""

CSS = """
[role="columnheader"] .header.text {
  white-space: normal;
  text-overflow: clip;
  word-break: normal;
  overflow-wrap: normal;
}
"""
