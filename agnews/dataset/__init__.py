"""Reading any labelled text dataset: a folder or files (CSV, TSV, JSON lines, parquet), a Hub
dataset by id, or AG News in its own two layouts, into cleaned splits with class ids and a
description a run records.

Torch-free on purpose: `agnews data check` and the page read data without loading a model. The one
module that knows AG News's classes is `agnews.dataset.ag_news`; every other dataset's classes are
read from its training split (`agnews.dataset.classes` states the rules).
"""
