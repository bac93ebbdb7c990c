"""Data is text, never markup, and no page names a server path (issue 30, items 6 and 10).

What a file brings (texts, label values, headers, its name) is shown as the characters it is, in the
app's Markdown and in the report; the report forbids the browser every outside load (a real
Chromium counts its requests: zero); messages, notices, the Compare picker and the cross-domain
summary name files relative to the runs folder; an uploaded file is taken out of Gradio's upload
folder at once, so Gradio's file route cannot serve it to anyone again.
"""

from __future__ import annotations

import html
import json
import shutil
from pathlib import Path

import gradio as gr
import pandas as pd
import pytest
from helpers import ServedApp, drawn_figures, report_in_chromium
from markdown_it import MarkdownIt
from test_app_security import request, upload
from test_cross_domain import NEWS_MAP, news_rows, write_csv

from agnews.analyses.cross_domain.present import cross_domain_summary
from agnews.analyses.cross_domain.schema import FAMILY as CROSS_DOMAIN
from agnews.dataset.ag_news import AG_NEWS_CLASSES as LABELS
from agnews.present.notices import part_notice
from agnews.present.report import build_report
from agnews.rundir.edit import edit_run
from agnews.rundir.run import Run
from agnews.ui import compare
from agnews.ui.app import header
from agnews.ui.common import row_details
from agnews.ui.run_state import PageRuns

EVIL = "http://127.0.0.1:9"  # nothing listens there: a fetch would fail, but the browser would try
HOSTILE = (
    f"![pic]({EVIL}/md.png) <img src={EVIL}/raw.png> `tick` **bold** [link]({EVIL}/a) &lt; &#60;\n"
    "# heading\n1. item\n    code"
)
TEXT_COLUMN = f"text `x` ![h]({EVIL}/header.png)"
LABEL_COLUMN = f"label <img src={EVIL}/column.png>"
UNMAPPED = (f"![l]({EVIL}/label.png)", f"<img src={EVIL}/value.png>", "a`b")
FILE_NAME = "wire `x` [y] (z).csv"
# The most permissive CommonMark renderer (raw HTML on): user strings must survive it as text.
RENDER = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"]).render


def shown_as_text(markdown: str, *strings: str) -> bool:
    """Whether `markdown` renders with each of `strings` present as plain, escaped text (its line
    breaks as spaces) and no image, tag or code span made from them."""
    rendered = RENDER(markdown)
    plain = [html.escape(" ".join(s.split()), quote=False) for s in strings]
    return all(p in " ".join(rendered.split()) for p in plain) and "<img" not in rendered


@pytest.fixture(scope="module", name="hostile_run")
def hostile_run_folder(synthetic_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the synthetic run under `runs/`, with a cross-domain part made from a file whose name,
    header, label values and texts carry Markdown and HTML."""
    from agnews.analyses.cross_domain.stage import cross_domain_run

    folder = tmp_path_factory.mktemp("hostile")
    path = folder / "runs" / "quick"
    shutil.copytree(synthetic_run, path)
    rows = [[label, f"{text} {HOSTILE}"] for label, text in news_rows(4)]
    rows += [[value, f"some text {HOSTILE}"] for value in UNMAPPED]
    news = write_csv(folder / FILE_NAME, [LABEL_COLUMN, TEXT_COLUMN], rows)
    cross_domain_run(
        path,
        news,
        text_columns=[TEXT_COLUMN],
        label_column=LABEL_COLUMN,
        label_map=NEWS_MAP,
        name="wire",
        progress=False,
    )
    return path


def test_literal_renders_every_string_as_its_characters() -> None:
    from agnews.present.markup import literal

    blocks = ["- list", "+ x", "> quote", "12) x", "===", "***", "|a|b|", "~~s~~", "$$x$$", "\\`"]
    for text in [HOSTILE, *blocks]:
        shown = " ".join(RENDER(literal(text)).split())  # as a browser lays it out: blanks collapse
        assert shown == f"<p>{html.escape(' '.join(text.split()), quote=False)}</p>", text
    assert literal("the run's news.csv: 3/4") == "the run's news.csv: 3/4"  # readable where harmless


def test_the_cross_domain_summary_shows_the_files_own_strings_as_text(hostile_run: Path) -> None:
    metrics = Run.load(hostile_run).members(CROSS_DOMAIN)["wire"].metrics
    summary = cross_domain_summary(metrics)
    assert shown_as_text(summary, FILE_NAME, TEXT_COLUMN, LABEL_COLUMN, *UNMAPPED)
    assert metrics.source not in summary and str(hostile_run.parent.parent) not in summary  # its name only


def test_row_details_and_the_compare_row_show_a_text_as_text() -> None:
    probabilities = {f"prob_{i}": 0.25 for i in range(len(LABELS))}
    row = {"row_id": 7, "text": HOSTILE, "label": 0, "pred": 1, "confidence": 0.5, **probabilities}
    rows = pd.DataFrame([{**row, "label_name": LABELS[0], "pred_name": LABELS[1]}])
    details, _ = row_details(rows, 7, LABELS)
    assert shown_as_text(details, HOSTILE)
    change = {"change": "fixed", "pred_a": LABELS[1], "pred_b": LABELS[0], "confidence_a": 0.5}
    pair = rows.assign(**change, confidence_b=0.6)
    assert shown_as_text(compare.row_markdown(pair, 7), HOSTILE)


def test_the_report_forbids_outside_loads_and_shows_the_file_as_text(hostile_run: Path) -> None:
    report = build_report(Run.load(hostile_run))
    head, body = report.split("</head>")
    policy = head.split('http-equiv="Content-Security-Policy" content="')[1].split('"')[0]
    assert "default-src 'none'" in policy and "http" not in policy and "*" not in policy
    assert head.index("Content-Security-Policy") < head.index("<script")  # in force before any script
    assert "<img" not in body and f"{EVIL}/label.png" in body  # the label value is there, as text
    assert str(hostile_run) not in report and str(hostile_run.parent) not in report


@pytest.mark.slow
def test_the_report_fetches_nothing_in_chromium(hostile_run: Path, tmp_path: Path) -> None:
    report = build_report(Run.load(hostile_run))
    with report_in_chromium(report, tmp_path / "report.html") as (page, page_errors, requested):
        page.wait_for_load_state("networkidle")
        figures = page.evaluate("document.querySelectorAll('.plotly-graph-div').length")
        drawn = drawn_figures(page)
        shown = page.inner_text("body")
    assert requested == []
    assert page_errors == []
    assert drawn == figures > 0  # the policy lets plotly.js draw every figure
    assert f"![l]({EVIL}/label.png)" in shown  # the label value reads as the file wrote it


def test_notices_and_warnings_name_the_run_relative_to_the_runs_folder(hostile_run: Path) -> None:
    with edit_run(hostile_run) as edit:
        edit.remove("map")
    run = Run.load(hostile_run)
    notice = part_notice(run, "map", "maps")
    assert "`agnews analyze runs/quick --stages map`" in notice and str(hostile_run) not in notice
    run.warnings.append(f"{hostile_run / 'map.parquet'}: damaged; `agnews analyze {hostile_run}` re-makes it")
    said = header(run)
    assert "runs/quick/map.parquet: damaged" in said and str(hostile_run) not in said


def test_the_compare_picker_offers_names_and_refuses_any_other(hostile_run: Path) -> None:
    other = hostile_run.parent / "other"
    if not other.exists():
        shutil.copytree(hostile_run, other)
    run = Run.load(hostile_run)
    with gr.Blocks() as demo, gr.Tab("Compare") as tab:
        compare.build(run, tab, pages=PageRuns(run, root=hostile_run.parent), runs_root=hostile_run.parent)
    [picker] = [b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "compare-picker"]
    assert [value for _, value in picker.choices] == ["runs/other"]  # no server path in the page
    show = next(f.fn for f in demo.fns.values() if f.api_name == "compare")
    summary = next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "compare-summary")
    assert "McNemar" in show("runs/other", None)[summary]
    refused = show(str(other), None)[summary]  # a path, even of a listed run, names nothing
    assert "Cannot compare" in refused and "not one of the runs" in refused


def test_an_upload_is_taken_out_of_gradios_reach(served_app: ServedApp) -> None:
    content = b"category,text\nbusiness,stocks fall\nsports,team wins\n"
    status, body = upload(served_app.url, content, "wire.csv")
    assert status == 200, body
    stored = json.loads(body)[0]
    assert request(served_app.url, "GET", f"/gradio_api/file={stored}") == (200, content)  # served, so far

    payload = json.dumps({"data": [{"path": stored, "meta": {"_type": "gradio.FileData"}}]}).encode()
    headers = {"Content-Type": "application/json"}
    status, body = request(served_app.url, "POST", "/gradio_api/call/cross_domain_columns", payload, headers)
    assert status == 200, body
    event_id = json.loads(body)["event_id"]
    status, stream = request(served_app.url, "GET", f"/gradio_api/call/cross_domain_columns/{event_id}")
    assert b"event: complete" in stream and b'"category"' in stream  # the form filled from its header
    assert not Path(stored).exists()
    status, body = request(served_app.url, "GET", f"/gradio_api/file={stored}")
    assert status != 200 and content not in body
