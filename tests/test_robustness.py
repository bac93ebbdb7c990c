"""Behavioural stress tests: each perturbation on hand-made text, the per-test numbers on hand-made
probabilities, the stage on the synthetic run (its part checked against an independent prediction),
`agnews robustness` (alias `stress`) and its `--rows`, the Robustness tab through the served app, and
the model card."""

from __future__ import annotations

import fnmatch
import random
import re
import shutil
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import ROOT, ServedApp, as_legacy

from agnews.analyses.robustness import present as robustness_present
from agnews.analyses.robustness.numeric import EXAMPLES, choose_rows, flip_result
from agnews.analyses.robustness.schema import PART
from agnews.cli import main
from agnews.dataset.ag_news import AG_NEWS_CLASSES as LABELS
from agnews.inference import infer
from agnews.present.glossary import perturbation_title
from agnews.rundir.run import Run
from agnews.stats import wilson_interval
from agnews.text import AGENCY_MARKER
from agnews.training import perturb
from agnews.training.perturb import PERTURBATIONS, Perturbation

TESTS = {test.name: test for test in PERTURBATIONS}
HEADLINE = (
    "Oil Prices Climb (Reuters) Reuters - Crude oil prices climbed on Monday after OPEC ministers, "
    "meeting in Vienna, agreed to reduce output; John Smith said the market remained nervous."
)


def apply(name: str, text: str, row_id: int = 7, seed: int = 42) -> str | None:
    return perturb.perturb([text], [row_id], TESTS[name], seed)[0]


# --------------------------------------------------------------------------------------------------
# Perturbations
# --------------------------------------------------------------------------------------------------


def one_typo_apart(word: str, changed: str) -> bool:
    """Whether `changed` is `word` with two adjacent letters swapped, one dropped, or one replaced by
    a keyboard neighbour."""
    if len(changed) == len(word) - 1:
        return any(word[:i] + word[i + 1 :] == changed for i in range(len(word)))
    if len(changed) != len(word):
        return False
    diff = [i for i in range(len(word)) if word[i] != changed[i]]
    if len(diff) == 2 and diff[1] == diff[0] + 1:
        i = diff[0]
        return word[i] == changed[i + 1] and word[i + 1] == changed[i]
    if len(diff) == 1:
        i = diff[0]
        return changed[i].lower() in perturb.keyboard_neighbours()[word[i].lower()]
    return False


def test_typos_change_about_one_word_in_ten_each_by_one_edit() -> None:
    texts = [HEADLINE, "Stocks fall", " ".join(f"market{'x' * (i % 5)}" for i in range(45))]
    for row_id, text in enumerate(texts):
        changed = apply("typos", text, row_id)
        assert changed is not None
        words, typoed = text.split(), changed.split()
        assert len(words) == len(typoed)  # words of 4+ letters keep at least 3
        differ = [(a, b) for a, b in zip(words, typoed, strict=True) if a != b]
        candidates = len(perturb.TYPO_WORD.findall(text))
        assert len(differ) == max(1, round(candidates * perturb.TYPO_RATE))
        for word, typo in differ:  # the typo is in the word's letters, not in the punctuation around them
            core = perturb.TYPO_WORD.search(word)
            before, after = word[: core.start()], word[core.end() :]
            assert typo.startswith(before) and typo.endswith(after), (word, typo)
            assert one_typo_apart(core.group(), typo[len(before) : len(typo) - len(after)]), (word, typo)
    assert apply("typos", "A cat ran to us.") is None  # no word of four letters


def test_each_typo_kind_is_a_single_edit() -> None:
    rng = random.Random(0)
    for word in ("market", "Reuters", "OPEC", "aaaa", "Vienna") * 20:
        assert one_typo_apart(word, perturb.typo(word, rng)), word
    assert set(perturb.keyboard_neighbours()["s"]) == set("adwezx")
    assert set(perturb.keyboard_neighbours()["p"]) == set("ol")


def test_perturbations_are_seeded_per_row() -> None:
    texts = [HEADLINE.replace("Monday", day) for day in ("Monday", "Tuesday", "Friday", "Sunday")]
    ids = [3, 10, 11, 500]
    for test in PERTURBATIONS:
        once = perturb.perturb(texts, ids, test, 42)
        assert once == perturb.perturb(texts, ids, test, 42), test.name
        # a row's perturbation does not depend on the other rows chosen
        assert perturb.perturb(texts[2:3], ids[2:3], test, 42) == once[2:3], test.name
    typos = perturb.perturb(texts, ids, TESTS["typos"], 42)
    assert typos != perturb.perturb(texts, ids, TESTS["typos"], 43)


def test_punctuation_is_stripped_and_dashes_split_words() -> None:
    assert apply("no_punctuation", 'U.S. oil-rich firms (AP) rally, as "OPEC" cuts!') == (
        "US oil rich firms AP rally as OPEC cuts"
    )
    assert apply("no_punctuation", "Dollar at $1.20 and/or 5% down") == "Dollar at $120 and or 5 down"
    assert apply("no_punctuation", "Stocks fall on Wall Street") is None


AGENCY_REMOVED = {
    "Oil Rises (Reuters) Reuters - Crude prices rose on Monday.": "Oil Rises Crude prices rose on Monday.",
    "Ky. Firm Wins Grant (AP) AP - A company won a grant.": "Ky. Firm Wins Grant A company won a grant.",
    "Blast in Baghdad BAGHDAD (AFP) - A car bomb exploded.": "Blast in Baghdad BAGHDAD A car bomb exploded.",
    "Leafs Win TORONTO (CP) -- The Maple Leafs won again.": "Leafs Win TORONTO The Maple Leafs won again.",
    "AP - A company founded by a researcher won a grant.": "A company founded by a researcher won a grant.",
}


def test_agency_markers_are_removed_or_added() -> None:
    for text, expected in AGENCY_REMOVED.items():
        assert apply("agency_removed", text) == expected
        assert apply("agency_added", text) is None  # already has one
    plain = "APPLE unveils a new iPod; the AP stylebook changes."  # letters, not markers
    assert apply("agency_removed", plain) is None
    added = [apply("agency_added", plain, row_id) for row_id in range(30)]
    assert all(AGENCY_MARKER.match(text) and text.endswith(plain) for text in added)
    assert {text[: -len(plain)] for text in added} == set(perturb.AGENCY_TAGS)


def test_prefix_and_boilerplate_keep_the_text() -> None:
    prefixed = [apply("neutral_prefix", HEADLINE, row_id) for row_id in range(20)]
    assert {text[: -len(HEADLINE) - 1] for text in prefixed} == set(perturb.NEUTRAL_PREFIXES)
    suffixed = [apply("boilerplate_suffix", HEADLINE, row_id) for row_id in range(30)]
    assert {text[len(HEADLINE) + 1 :] for text in suffixed} == set(perturb.BOILERPLATE)


def test_names_are_swapped_whole_word_and_consistently() -> None:
    text = "John met Mary, then John left; Johnson and john stay, as does JOHN."
    swapped = apply("name_swap", text)
    match = re.fullmatch(
        r"(\w+) met (\w+), then (\w+) left; Johnson and john stay, as does JOHN\.", swapped or ""
    )
    assert match, swapped
    first, second, third = match.groups()
    names = perturb.first_names()
    assert first == third != "John" and second != "Mary" and {first, second} <= set(names)
    assert apply("name_swap", "Stocks fall as Johnson and Maryland report") is None
    # after a capitalised word a listed name is a surname: who the story is about stays
    assert apply("name_swap", "Ariel Sharon meets Thierry Henry in Paris") is None
    surname_kept = apply("name_swap", "Sharon Stone met Ariel Sharon")
    assert surname_kept is not None and surname_kept.endswith(" Stone met Ariel Sharon")


def test_the_name_list_ships_as_package_data() -> None:
    names = perturb.first_names()
    assert len(names) >= 300 and len(set(names)) == len(names)
    assert all(re.fullmatch(r"[A-Z][a-z]+", name) for name in names)
    # names that are also words a headline capitalises are left out
    assert not {"May", "Will", "Bill", "Mark", "Grant", "Rose", "Chase", "Jordan", "Al"} & set(names)
    # pyproject's package data carries the file into a wheel, not only into an editable install
    settings = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = settings["tool"]["setuptools"]["package-data"]["agnews"]
    assert any(fnmatch.fnmatch(f"training/{perturb.NAMES_FILE}", pattern) for pattern in patterns)
    assert (ROOT / "agnews" / "training" / perturb.NAMES_FILE).is_file()


def test_casing_tests_and_the_cased_tokenizer_check() -> None:
    from transformers import AutoTokenizer

    from agnews.models import bundled_minilm_path

    assert apply("upper_case", "Oil rises") == "OIL RISES" and apply("upper_case", "OIL 42") is None
    assert apply("lower_case", "Oil RISES") == "oil rises" and apply("lower_case", "oil") is None
    assert {test.name for test in PERTURBATIONS if test.cased_only} == {"upper_case", "lower_case"}
    uncased = AutoTokenizer.from_pretrained(bundled_minilm_path())
    cased = AutoTokenizer.from_pretrained(bundled_minilm_path(), do_lower_case=False)
    assert not perturb.tokenizer_is_cased(uncased)
    assert perturb.tokenizer_is_cased(cased)


# --------------------------------------------------------------------------------------------------
# The numbers of one test, and the choice of rows
# --------------------------------------------------------------------------------------------------


def test_flip_result_counts_flips_and_the_confidence_change() -> None:
    rows = pd.DataFrame({"row_id": [10, 11, 12, 13], "text": ["a", "b", "c", "d"], "label": [0, 1, 2, 3]})
    before = np.array(
        [[0.9, 0.1, 0.0, 0.0], [0.2, 0.7, 0.1, 0.0], [0.1, 0.1, 0.6, 0.2], [0.0, 0.0, 0.3, 0.7]]
    )
    # row 11 does not apply; 10 stays (0.9 -> 0.8), 12 flips to Sci/Tech (0.6 -> 0.3), 13 flips to
    # World (0.7 -> 0.1)
    after = np.array([[0.8, 0.2, 0.0, 0.0], [0.1, 0.1, 0.3, 0.5], [0.6, 0.1, 0.2, 0.1]])
    test = Perturbation("demo", "a demo", perturb.upper_case)
    result = flip_result(test, rows, ["A", None, "C", "D"], before, after, LABELS)
    assert (result.rows, result.flipped) == (3, 2)
    assert result.flip_rate == pytest.approx(2 / 3)
    assert (result.low, result.high) == pytest.approx(wilson_interval(2, 3))
    assert result.mean_confidence_change == pytest.approx(((0.8 - 0.9) + (0.3 - 0.6) + (0.1 - 0.7)) / 3)
    assert [e.row_id for e in result.examples] == [13, 12]  # largest drop first
    first = result.examples[0]
    assert (first.label, first.text, first.perturbed) == ("Sci/Tech", "d", "D")
    assert (first.pred_before, first.pred_after) == ("Sci/Tech", "World")
    assert (first.confidence_before, first.confidence_after) == pytest.approx((0.7, 0.6))
    assert (
        len(flip_result(test, rows, ["A", None, "C", "D"], before, after, LABELS, examples=1).examples) == 1
    )

    nothing = flip_result(test, rows, [None] * 4, before, after[:0], LABELS)
    assert (nothing.rows, nothing.flip_rate, nothing.mean_confidence_change) == (0, None, None)
    with pytest.raises(ValueError, match="2 perturbed predictions for 3 perturbed rows"):
        flip_result(test, rows, ["A", None, "C", "D"], before, after[:2], LABELS)


def test_rows_are_chosen_stratified_and_seeded() -> None:
    predictions = pd.DataFrame(
        {"row_id": range(200), "text": [f"t{i}" for i in range(200)], "label": [i % 4 for i in range(200)]}
    )
    chosen, selection = choose_rows(predictions, 40, seed=1)
    assert np.bincount(chosen["label"]).tolist() == [10, 10, 10, 10]
    assert selection == "40 of 200 test rows, stratified by label (seed 1)"
    assert chosen["row_id"].tolist() == choose_rows(predictions, 40, seed=1)[0]["row_id"].tolist()
    assert chosen["row_id"].tolist() != choose_rows(predictions, 40, seed=2)[0]["row_id"].tolist()
    every, selection = choose_rows(predictions, 500, seed=1)
    assert len(every) == 200 and "no more than the 500 asked for" in selection
    assert choose_rows(predictions, None, seed=1)[1] == "all 200 test rows"


# --------------------------------------------------------------------------------------------------
# The stage on the synthetic run, and `agnews robustness`
# --------------------------------------------------------------------------------------------------


def test_the_run_has_a_robustness_part_that_agrees_with_the_model(synthetic_run: Path) -> None:
    run = Run.load(synthetic_run)
    report = run.get(PART)
    assert report is not None, run.warnings
    predictions = run.predictions
    assert report.rows == len(predictions) and report.rows_requested == 1000  # fewer rows than asked
    assert (
        report.selection == f"all {len(predictions)} test rows (the run has no more than the 1,000 asked for)"
    )
    assert not report.tokenizer_cased
    assert set(report.not_run) == {"upper_case", "lower_case"}
    assert [t.name for t in report.tests] == [t.name for t in PERTURBATIONS if not t.cased_only]
    assert set(run.manifest.parts["robustness"].made_from) == {"model", "config", "predictions"}

    texts, ids = predictions["text"].tolist(), predictions["row_id"].tolist()
    model, tokenizer = run.load_classifier(), run.load_tokenizer()
    settings = {"batch_size": run.config.train.eval_batch_size, "max_length": run.config.train.max_length}
    original = infer(model, tokenizer, texts, progress=False, **settings).probs.argmax(axis=1)
    for result in report.tests:
        perturbed = perturb.perturb(texts, ids, TESTS[result.name], report.seed)
        applied = [i for i, text in enumerate(perturbed) if text is not None]
        assert result.rows == len(applied) > 0, result.name
        assert result.flip_rate == pytest.approx(result.flipped / result.rows)
        assert len(result.examples) == min(result.flipped, EXAMPLES)
        for example in result.examples:
            i = ids.index(example.row_id)
            assert (example.text, example.perturbed) == (texts[i], perturbed[i])
            assert example.pred_before == LABELS[original[i]] != example.pred_after
    # the flips of one test, predicted again independently of the stage
    result = next(t for t in report.tests if t.name == "agency_added")
    perturbed = perturb.perturb(texts, ids, TESTS["agency_added"], report.seed)
    applied = [i for i, text in enumerate(perturbed) if text is not None]
    after = infer(model, tokenizer, [perturbed[i] for i in applied], progress=False, **settings).probs
    assert result.flipped == int((after.argmax(axis=1) != original[applied]).sum())


def test_stress_command_takes_a_row_count(
    synthetic_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = tmp_path / "run"
    shutil.copytree(synthetic_run, copy)
    rows, available = 20, len(Run.load(synthetic_run).predictions)
    assert main(["robustness", str(copy), "--rows", str(rows)]) == 0
    out = capsys.readouterr().out
    report = Run.load(copy).get(PART)
    assert (report.rows, report.rows_requested) == (rows, rows)
    assert report.selection.startswith(f"{rows} of {available} test rows, stratified by label")
    typos = report.tests[0]
    assert f"| typos | {typos.rows} | {typos.flipped} | {typos.flip_rate:.1%} (" in out
    assert f"upper_case: not run: {perturb.UNCASED_REASON}" in out


def test_casing_tests_run_where_the_tokenizer_is_cased(synthetic_run: Path, tmp_path: Path) -> None:
    from transformers import AutoTokenizer

    from agnews.analyses.robustness.schema import RobustnessSettings
    from agnews.training.context import StageContext
    from agnews.training.stages import run_stage

    copy = tmp_path / "run"
    shutil.copytree(synthetic_run, copy)
    run = Run.load(copy)
    cased = AutoTokenizer.from_pretrained(run.model_path, do_lower_case=False)
    context = StageContext(
        run.config.train,
        progress=False,
        tokenizer=cased,
        settings={"robustness": RobustnessSettings(rows=12)},
    )
    assert run_stage(copy, "robustness", context, optional=False) is None
    report = Run.load(copy).get(PART)
    # every test ran, but one that found nothing to edit in these rows (left out with that reason)
    assert report.tokenizer_cased and all("changed none" in why for why in report.not_run.values())
    ran = [t.name for t in report.tests]
    assert sorted([*ran, *report.not_run]) == sorted(t.name for t in PERTURBATIONS)
    assert {"upper_case", "lower_case"} <= set(ran)  # the casing tests run where the tokenizer keeps case
    upper = next(t for t in report.tests if t.name == "upper_case")
    assert upper.rows == 12  # every AG News text has a small letter to raise
    assert all(e.perturbed == e.text.upper() for e in upper.examples)


@pytest.mark.parametrize("value", ["0", "-5", "ten", "1.5", ""])
def test_bad_row_counts_are_refused(value: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        main(["stress", str(tmp_path), "--rows", value])
    assert (
        f"argument --rows: expected a positive number of rows or 'all', got {value!r}"
        in capsys.readouterr().err
    )


def test_row_counts_parse() -> None:
    from agnews.command_line import row_count

    assert row_count("all") is None and row_count("ALL") is None and row_count("250") == 250


def test_the_command_defaults_to_a_thousand_rows(synthetic_run: Path, tmp_path: Path) -> None:
    copy = tmp_path / "run"
    shutil.copytree(synthetic_run, copy)
    assert main(["robustness", str(copy)]) == 0
    assert Run.load(copy).manifest.parts["robustness"].settings == {"rows": 1000}


def test_stress_refuses_old_and_broken_runs(
    synthetic_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    legacy = tmp_path / "legacy"
    shutil.copytree(synthetic_run, legacy)
    as_legacy(legacy)
    assert main(["stress", str(legacy)]) == 2
    assert (
        f"{legacy}: made by an older agnews; run `agnews migrate {legacy}` first" in capsys.readouterr().err
    )
    modelless = tmp_path / "modelless"
    shutil.copytree(synthetic_run, modelless)
    shutil.rmtree(modelless / "model")
    assert main(["stress", str(modelless)]) == 2
    assert "model: missing (the fine-tuned model)" in capsys.readouterr().err
    assert main(["stress", str(tmp_path / "nowhere")]) == 2
    assert "run directory not found" in capsys.readouterr().err


# --------------------------------------------------------------------------------------------------
# The Robustness tab and the model card
# --------------------------------------------------------------------------------------------------


def test_marked_diff_marks_the_changed_words_and_escapes_html() -> None:
    original, perturbed = robustness_present.marked_diff(
        "Oil <b>rises</b> as OPEC cuts", "Update: Oil <b>rises</b> as OPCE cuts"
    )
    assert original == "Oil &lt;b&gt;rises&lt;/b&gt; as <mark>OPEC</mark> cuts"
    assert perturbed == "<mark>Update:</mark> Oil &lt;b&gt;rises&lt;/b&gt; as <mark>OPCE</mark> cuts"


def test_robustness_tab_through_the_served_app(served_app: ServedApp) -> None:
    from gradio_client import Client

    report = served_app.run.get(PART)
    client = Client(served_app.url, verbose=False)
    _, table, _glosses, explanation, tests, choice, note, examples = client.predict(
        api_name="/robustness_open"
    )
    assert [row[0] for row in table["data"]] == [perturbation_title(t.name) for t in report.tests]
    first = report.tests[0]
    assert table["data"][0][1:4] == [first.rows, first.flipped, f"{first.flip_rate:.1%}"]
    why = perturb.UNCASED_REASON
    uncased = ", ".join(f"**{perturbation_title(name)}**" for name in ("upper_case", "lower_case"))
    assert f"- Not run: {uncased}: {why}" in explanation
    assert explanation.startswith(f"**Rows:** {report.selection}. **Model:** {report.backend}")
    for test in report.tests:
        assert f"- **{perturbation_title(test.name)}**: {test.description}" in tests
    shown = report.most_flipping()  # the test the Overview's card names
    title = perturbation_title(shown.name)
    assert choice["value"] == shown.name and note.startswith(f"**{title}** flipped {shown.flipped} of")
    assert [value for _, value in choice["choices"]] == [t.name for t in report.tests]
    assert [row[0] for row in examples["data"]] == [e.row_id for e in shown.examples]

    assert sum(len(test.examples) for test in report.tests) > 0  # the loop below checks rows
    for test in report.tests:
        note, examples = client.predict(test.name, api_name="/robustness_examples")
        assert [row[0] for row in examples["data"]] == [e.row_id for e in test.examples]
        assert str(test.rows) in note
        for row, example in zip(examples["data"], test.examples, strict=True):
            assert row[2:4] == [
                f"{example.pred_before} {example.confidence_before:.0%}",
                f"{example.pred_after} {example.confidence_after:.0%}",
            ]
            assert "<mark>" in row[4] + row[5]  # the change is shown


def test_robustness_tab_of_a_run_still_being_built(
    served_app: ServedApp, synthetic_run: Path, tmp_path: Path
) -> None:
    from agnews.rundir.edit import edit_run
    from agnews.ui import build_app
    from agnews.ui.live import LiveRun

    path = tmp_path / "run"
    shutil.copytree(synthetic_run, path)
    kept = (path / "robustness.json").read_bytes()
    with edit_run(path) as edit:
        edit.remove("robustness")
    live = LiveRun(Run.load(path), ("robustness",), running=lambda: True)
    demo = build_app(live.current(), served_app.predictor, live)
    config = str(demo.get_config_file())
    assert "The robustness table appears when the `robustness` stage has made it" in config
    [opened] = [f for f in demo.fns.values() if f.api_name == "robustness_open"]
    assert list(opened.fn(False).values()) == [False]  # opened before the part exists: the note stays
    with edit_run(path) as edit:  # the stage commits
        edit.file("robustness.json").write_bytes(kept)
        edit.record("robustness", ("model", "config", "predictions"))
    values = {getattr(c, "elem_id", None): v for c, v in opened.fn(False).items()}
    table = values["robustness-table"]
    assert table["test"].tolist() == [perturbation_title(t.name) for t in served_app.run.get(PART).tests]
    assert values["robustness-status"]["visible"] is False


def test_model_card_summarises_the_robustness_tests(synthetic_run: Path) -> None:
    from agnews.hub.card import build_model_card

    run = Run.load(synthetic_run)
    card = str(build_model_card(run, "someone/agnews-quick"))
    assert "### Robustness" in card
    for t in run.get(PART).tests:
        interval = f"{t.flip_rate:.1%} ({t.low:.1%} to {t.high:.1%})"
        assert f"| {t.name} | {t.rows} | {t.flipped} | {interval} |" in card
    assert "`upper_case`: not run; the tokenizer lower-cases every text" in card
