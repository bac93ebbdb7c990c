"""The page's own CSS, launched with every server of this app (`agnews.ui.app.LAUNCH_LIMITS`).

Gradio cuts a table header that is wider than its column with "…" ("conf…", "r…"); here a header
wraps between its words instead, and the tables' column widths leave each word its room (the
browser tests check that no header is cut: `tests/test_page_linked_views.py`).

The tab bar's buttons are narrower than Gradio's: with its default padding the page's fifteen tabs
do not fit a 1366-pixel-wide window, and Gradio hides the last ones (Data, Tuning, Train) behind a
"more" menu. The rule covers the hidden copy of the bar Gradio measures the buttons in, so that it
counts them at the width they are drawn; `tests/test_page_layout.py` checks that every tab shows.
"""

CSS = """
[role="columnheader"] .header.text {
  white-space: normal;
  text-overflow: clip;
  word-break: normal;
  overflow-wrap: normal;
}
.tab-wrapper > .tab-container > button {
  padding: 0 10px;
}
"""
