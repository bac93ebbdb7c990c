"""Every analysis on data other than AG News: a two-class dataset that is not news, and 25 classes
with hostile names. Each analysis either works for the run's classes or is left out with its
reason, recorded in its part and shown on its tab's text, its Overview card and its report section."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from analysis_runs import MANY_CLASSES, TWO_CLASSES, build_class_run

from agnews.analyses.calibration.schema import PART as CALIBRATION
from agnews.analyses.dataset_checks.numeric import UNKNOWN_SHARE, unknown_tokens
from agnews.analyses.dataset_checks.present import warnings_markdown
from agnews.analyses.dataset_checks.schema import PART as DATASET_CHECKS
from agnews.analyses.label_issues.schema import TRAIN_PART as LABEL_ISSUES_TRAIN
from agnews.analyses.robustness.present import card as robustness_card
from agnews.analyses.robustness.present import descriptions, explanation
from agnews.analyses.robustness.present import report_section as robustness_report
from agnews.analyses.robustness.schema import PART as ROBUSTNESS
from agnews.analyses.slices.present import card as slices_card
from agnews.analyses.slices.present import definitions
from agnews.analyses.slices.present import report_section as slices_report
from agnews.analyses.slices.schema import PART as SLICES
from agnews.dataset.ag_news import ag_news_description
from agnews.present.glossary import perturbation_title
from agnews.rundir.declarations import NEWS, Applies
from agnews.rundir.run import Run


@pytest.fixture(scope="module")
def two_class_run(tiny_distilbert: Path, tmp_path_factory: pytest.TempPathFactory) -> Run:
    return Run.load(build_class_run(tmp_path_factory.mktemp("two") / "run", tiny_distilbert, TWO_CLASSES))


@pytest.fixture(scope="module")
def many_class_run(tiny_distilbert: Path, tmp_path_factory: pytest.TempPathFactory) -> Run:
    out = tmp_path_factory.mktemp("many") / "run"
    return Run.load(build_class_run(out, tiny_distilbert, MANY_CLASSES, domain=NEWS))


def test_applies_refuses_by_domain_and_rows_with_reasons() -> None:
    news = ag_news_description("local")
    other = news.__class__(**{**news.to_dict(), "name": "reviews", "domain": None, "text_columns": ("text",)})
    assert Applies(domains=(NEWS,)).refusal({}, news) is None
    said = Applies(domains=(NEWS,)).refusal({}, other)
    assert said is not None and "news text only" in said and "reviews" in said
    assert Applies(languages=("en",)).refusal({}, other) is None  # data is taken as English
    assert Applies(languages=("de",)).refusal({}, other) is not None
    counts = {f"c{i}": 3 for i in range(30)}
    many = Applies(min_rows_per_class=5).refusal(counts, news)
    assert many is not None and "at least 5 training rows" in many and "and 20 more classes" in many
    assert Applies(min_rows_per_class=3).refusal(counts, news) is None
    assert Applies(domains=(NEWS,), languages=("en",)).limits()[0] == "news text only"


def test_unknown_token_share_warns_from_its_threshold() -> None:
    read = unknown_tokens([[1, 2, 3, 4], [5, 6, 7, 8]], 100, "[UNK]")
    assert (read.share, read.warn) == (0.0, False)
    unread = unknown_tokens([[100, 100, 3, 4], [5, 6, 7, 8]], 100, "[UNK]")
    assert unread.share == pytest.approx(0.25) and unread.share >= UNKNOWN_SHARE and unread.warn
    byte_level = unknown_tokens([[1, 2]], None, None)
    assert (byte_level.share, byte_level.warn) == (None, False)


def test_two_classes_not_news(two_class_run: Run) -> None:
    run = two_class_run
    assert run.classes == TWO_CLASSES
    robustness = run.get(ROBUSTNESS)
    assert robustness is not None
    ran = {t.name for t in robustness.tests}
    for news_only in ("agency_added", "agency_removed"):
        assert news_only not in ran and "news text only" in robustness.not_run[news_only]
    assert {"typos", "name_swap"} <= ran  # English-only: the data is taken as English
    assert "English text only" in descriptions(robustness)
    assert all(t.rows > 0 and t.flip_rate is not None for t in robustness.tests)  # never a 0-row rate
    shown = perturbation_title("agency_added")  # the page and the report name a test in words
    assert shown in explanation(robustness) and shown in robustness_report(run)
    assert all(e.label in TWO_CLASSES for t in robustness.tests for e in t.examples)
    slices = run.get(SLICES)
    assert slices is not None
    assert "agency" not in slices.report.tags and "agency" not in slices.tags.columns
    assert "news text only" in slices.report.not_computed["agency"]
    assert "agency" in definitions(slices.report) and "agency" in slices_report(run)
    assert "agency" in slices_card(run, False).rule
    assert all(s.rows > 0 for s in slices.report.slices)  # a tag of no rows is left out, not 0%
    issues = run.get(LABEL_ISSUES_TRAIN)
    assert issues is not None and set(issues.info.flagged_by_label) == set(TWO_CLASSES)
    checks = run.get(DATASET_CHECKS)
    assert checks is not None and set(checks.class_balance[0].counts) == set(TWO_CLASSES)
    assert checks.unknown_tokens is not None and "Unknown tokens" in warnings_markdown(checks)
    assert robustness_card(run, False).headline


def test_many_hostile_classes_news(many_class_run: Run) -> None:
    run = many_class_run
    assert len(run.classes) == len(MANY_CLASSES)
    robustness = run.get(ROBUSTNESS)
    assert robustness is not None and "agency_added" in {t.name for t in robustness.tests}
    slices = run.get(SLICES)
    assert slices is not None and "agency" in slices.report.tags
    issues = run.get(LABEL_ISSUES_TRAIN)
    assert issues is not None and set(issues.info.flagged_by_label) == set(MANY_CLASSES)
    flagged = issues.rows[issues.rows["flagged"]]
    assert np.isin(flagged["label"], np.arange(len(MANY_CLASSES))).all()
    checks = run.get(DATASET_CHECKS)
    assert checks is not None and set(checks.class_balance[0].counts) == set(MANY_CLASSES)
    shown = warnings_markdown(checks)
    assert "<b>bold</b>" not in shown  # class names are text, never HTML
    assert run.get(CALIBRATION) is not None
