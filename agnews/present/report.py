"""A run as one self-contained HTML file: metrics, confusion, maps, worst errors and every analysis.

Made on demand, not a part: it is a view of the run's parts, drawn when asked (`agnews report RUN
--out FILE`, the app's download button, `agnews push`), so it cannot go stale when a part changes.
The figures and tables come from the functions the app's tabs use (`agnews.present.figures`,
`agnews.present.tables`), a missing part is named with the app's notice (`agnews.present.notices`).

The file opens offline in any browser: plotly.js is inlined once in the head and every figure only
calls it; there are no external scripts, styles or fonts. All text from the run is escaped, and the
file's Content-Security-Policy (`CONTENT_SECURITY_POLICY`) forbids the browser to fetch anything at
all: a text that slipped markup through would still load nothing from another host. Paths are
written relative to the run's folder (`agnews.present.paths`), so a report handed on (or pushed
to the Hub) does not tell where the run lay.
"""

from __future__ import annotations

import html
from dataclasses import asdict

import pandas as pd
from plotly.offline import get_plotlyjs

from agnews.formatting import count, number, percent
from agnews.present.dataset import class_summary, dataset_title
from agnews.present.figures import (
    confusion_figure,
)
from agnews.present.paths import shown_path
from agnews.present.sections import figure_html, markdown_section, section, table_html
from agnews.present.tables import (
    mistakes,
    per_class_table,
    summary_table,
    test_accuracy,
)
from agnews.rundir.catalog import load_attribute
from agnews.rundir.run import Run

REPORT_FILE = "report.html"  # its name beside the model in a pushed repository
WORST_ERRORS = 50  # the most confident mistakes listed, with their full text
# The app's figures are drawn inline; only a static page's look is set here.
STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 0.9em; }
th, td { border: 1px solid #cbd5e0; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #edf2f7; }
blockquote { border-left: 4px solid #a0aec0; margin: 0.5em 0; padding: 0.2em 1em; background: #f7fafc; }
code { background: #edf2f7; padding: 0 0.2em; }
"""

# Nothing is fetched: inline scripts (plotly.js and the calls that draw each figure) and inline
# styles (the page's and those plotly.js adds), images only as data: URLs (plotly's "download as
# PNG" draws one). No connect/font/frame source: default-src 'none' refuses everything else.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data: blob:; "
    "base-uri 'none'; form-action 'none'"
)


def _header(run: Run) -> str:
    test = run.metrics.test
    accuracy = test_accuracy(run)
    facts = {
        "run": shown_path(run.path, run.path.parent),
        "dataset": dataset_title(run),
        "classes": class_summary(run.classes),
        "base model": run.config.train.base_model,
        "test accuracy": f"{accuracy} (95% Wilson interval)",
        "macro F1": number(test.f1_macro),
        "test rows": count(test.rows),
        "made": run.config.created,
    }
    rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in facts.items())
    title = html.escape(f"{dataset_title(run)} classifier: {run.name}")
    return f"<h1>{title}</h1>\n<table>{rows}</table>\n"


def _metrics(run: Run) -> str:
    test = asdict(run.metrics.test)
    return section(
        "Test metrics",
        table_html(summary_table(test, asdict(run.baseline) if run.baseline else None)),
        table_html(per_class_table(test, run.classes)),
        figure_html(confusion_figure(run.metrics.test.confusion_matrix, run.classes), "confusion"),
    )


def _worst_errors(run: Run) -> str:
    wrong = mistakes(run.predictions)
    shown = wrong.head(WORST_ERRORS)
    table = pd.DataFrame(
        {
            "row_id": shown["row_id"].to_numpy(),
            "text": shown["text"].to_numpy(),
            "true": shown["label_name"].to_numpy(),
            "predicted": shown["pred_name"].to_numpy(),
            "confidence": shown["confidence"].map(percent).to_numpy(),
        }
    )
    note = (
        f"{count(len(wrong))} of {count(len(run.predictions))} test rows are misclassified; "
        f"the {len(shown)} most confident:"
    )
    return section("Worst errors", markdown_section(note), table_html(table))


def build_report(run: Run) -> str:
    """The whole report of `run` as one HTML document (a few MB: plotly.js and the maps' points)."""
    ranked = [
        (analysis.rank, load_attribute(analysis.report)(run))
        for analysis in run.catalog.analyses
        if analysis.report is not None
    ]
    sections = [
        _header(run),
        _metrics(run),
        _worst_errors(run),
        *(text for _, text in sorted(ranked, key=lambda r: r[0])),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">\n'
        f"<title>{html.escape(f'{run.name}: {dataset_title(run)} run report')}</title>\n"
        f"<style>{STYLE}</style>\n"
        f'<script type="text/javascript">{get_plotlyjs()}</script>\n</head>\n<body>\n'
        + "".join(sections)
        + "</body>\n</html>\n"
    )
