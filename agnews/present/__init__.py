"""What a run looks like, drawn and written: figures, tables, notices and the static report.

Below the app (`agnews.ui`) and the shipping code (`agnews.hub`), so that the tabs, `agnews push`
and `agnews report` draw a run with the same functions instead of copies.
"""
