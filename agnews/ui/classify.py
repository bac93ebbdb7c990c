"""Classify tab: a text in, its class probabilities out, then its place on the map and its words.

Separate events: the probabilities come back first from a small, fast endpoint (the page's
`classify_page`; `/classify` for API clients, below); placing the text on the map and scoring its
words follow it, side by side, so the slower parts never hold up the answer. API clients may call
any of the three directly, so each checks its input itself: empty text is a message (`gr.Error`),
never a traceback. A whole CSV file is classified in the accordion below (`agnews.ui.file_upload`).
When the run has a review threshold (`calibration.json`), a line under the probabilities says
whether the confidence is below it ("needs review"), and the CSV output gains a `needs_review` column.

Classifying is batched by Gradio's queue (`batch=True`): requests waiting together are answered by
one call (`Predictor.probabilities_batch`), which saves the queue's work per event. Gradio fails
every request of a batch when its function raises, and in Gradio 6 an event's `validator` cannot
refuse a request of a batched event (the validator's answer comes back as a tuple, which the queue
takes for "valid"). So the batch function decides per request: a batch of empty texts only (what a
lone caller gets) fails with the message; in a batch that also holds real texts, those are answered
and each empty one gets the message as its label, with no probabilities, and the map and words
events that follow it refuse it with the same message. A text the model fails on (`Unclassified`)
is answered the same way, with the reason, and never fails the other requests of its batch.
Warnings cannot reach the caller of a batched request either, so a text that had to be cut says so
from the words event (`/explain`), which the page always runs after the probabilities.

A page may show another run than the app's (`?run=NAME`, `agnews.ui.run_state`), and every event
reads the page's run (`PageRuns.current`), except the batched ones: Gradio calls a batched function
in the context of the batch's first request only, so it cannot tell whose page each text came from.
So the page's own Classify (`classify_page`, private) sends its page's run by name with the text, from
a hidden box the page fills when it opens, and a batch is answered per named run with that run's
model; `/classify`, for programs, takes the text alone (as `gradio_client` and Gradio's HTTP API call
it) and answers with the app's run. Both are batched, one batch at a time between them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import gradio as gr
import numpy as np
import pandas as pd

from agnews.formatting import count, percent
from agnews.present.markup import literal
from agnews.present.tables import example_texts, map_points
from agnews.present.word_scores import CSS, word_scores_html
from agnews.rundir.facts import REVIEW, ReviewRule
from agnews.rundir.files import RunError
from agnews.rundir.run import Run
from agnews.serving.map_index import MapIndex
from agnews.serving.predictor import (
    MAX_CHARS,
    MAX_RAW_CHARS,
    Predictor,
    UnclassifiableTextError,
    Unclassified,
)
from agnews.serving.predictors import Predictors
from agnews.ui import file_upload
from agnews.ui.common import notice, rows_table
from agnews.ui.live import Follower, Snapshot, Status
from agnews.ui.run_state import PageRuns
from agnews.ui.throttle import HEAVY_QUEUE, limited

if TYPE_CHECKING:
    import plotly.graph_objects as go

NEIGHBOURS = 8
# The neighbour table's columns: `rows_table`'s with the similarity second.
NEIGHBOUR_WIDTHS = ["8%", "9%", "47%", "12%", "12%", "12%"]
# Requests answered by one call at most: the queue takes whatever is waiting, up to this. What a
# batch saves is the queue's work per event, not model time (on CPU a batch costs about what its texts
# cost one by one): under 32 clients the server spent a third of the CPU per request it spent
# unbatched (bench/app_load.py, docs/performance.md).
CLASSIFY_BATCH = 32
# Batches (the page's and the programs' `/classify` alike) run one at a time, each on one core
# (`Predictor(threads=1)`), leaving the other core to the server itself (HTTP, queue, JSON). Two at
# a time measured no faster and spent more CPU per request (smaller batches).
CLASSIFY_CONCURRENCY = 1
# False builds both as they were before batching (one text per call, the queue's default
# concurrency): bench/app_load.py's same-run baseline. The app always batches.
BATCHED = True
EMPTY_MESSAGE = (
    "Type or paste a text first: nothing is left to classify once markup and control characters are removed."
)
GONE_MESSAGE = "The run this page shows is no longer on the server: open the page again."
CUT_MESSAGE = (
    f"Long text: only its first {count(MAX_CHARS)} characters were classified (the model reads about the "
    "first 600 characters of English anyway)."
)
# Classes listed with their probability after a text is classified; the rest are the tail.
SHOWN_CLASSES = 10
TEXT_INFO = (
    "Enter classifies; Shift+Enter starts a new line. The model reads about the first 600 characters; "
    f"longer texts are cut at {count(MAX_CHARS)}."
)


MAP_POINTS = "map points"  # what `shown_points` keeps with a loaded run (`Run.derived`)


def shown_points(run: Run) -> pd.DataFrame | None:
    """The run's predictions with their map coordinates (`agnews.present.tables.map_points`), None
    without a map; made once per loaded run (`Run.derived`): what this tab places text among and the
    Map tab draws, for whichever run a page shows."""
    return run.derived(MAP_POINTS, lambda: map_points(run))


def fine_tuned_map(run: Run) -> tuple[MapIndex, pd.DataFrame] | None:
    """The index that places new text on the run's fine-tuned map, with the map's points (made once
    per loaded run); None if absent.

    Only the fine-tuned map: placing on the base map would need the base encoder loaded too (twice
    the memory and start-up time) for a picture the Map tab already shows.
    """
    points = shown_points(run)  # not inside `derived` below: a run derives one view at a time
    vectors = (run.embeddings or {}).get("finetuned_cls")
    if points is None or vectors is None:
        return None
    coordinates = points[["finetuned_x", "finetuned_y"]].to_numpy()
    return run.derived("fine-tuned map index", lambda: (MapIndex(vectors, coordinates), points))


def checked_text(predictor: Predictor, value: str | None) -> tuple[str, bool]:
    """What the model will read of `value` and whether it was cut; empty text raises `gr.Error`."""
    text, cut = predictor.model_text(value or "")
    if not text:
        raise gr.Error(EMPTY_MESSAGE, print_exception=False)
    return text, cut


def unclassified_message(reason: str) -> str:
    """What the page says about a text the model failed on."""
    return f"Not classified: {reason}."


@contextmanager
def model_failures_as_messages() -> Iterator[None]:
    """A text the model fails on becomes a message on the page (`gr.Error`), not a traceback."""
    try:
        yield
    except UnclassifiableTextError as exc:
        raise gr.Error(unclassified_message(str(exc)), print_exception=False) from exc


def text_vector(predictor: Predictor, value: str | None) -> np.ndarray:
    """The fine-tuned [CLS] vector of a typed text, comparable with the run's stored ones (what places
    it on the map and finds its nearest training rows); empty text raises `gr.Error`."""
    with model_failures_as_messages():
        return predictor.cls_vector(checked_text(predictor, value)[0])


def classify_text(predictor: Predictor, value: str | None) -> dict[str, float]:
    """`/classify` unbatched (`BATCHED = False`, the benchmark's baseline): one text, the cut warned."""
    text, cut = checked_text(predictor, value)
    if cut:
        gr.Warning(CUT_MESSAGE)
    with model_failures_as_messages():
        return predictor.probabilities(text)


def classify_texts(predictor: Predictor, values: list[str | None]) -> list[list[dict[str, float] | str]]:
    """`/classify`, batched, for requests all answered by `predictor` (see `classify_on_runs`)."""
    return classify_on_runs(lambda _name: predictor, values, [None] * len(values))


def classify_on_runs(
    predictor_of: Callable[[str | None], Predictor | None],
    values: list[str | None],
    runs: list[str | None],
) -> list[list[dict[str, float] | str]]:
    """The page's Classify (`classify_page`), batched: the probabilities of each text
    (`Predictor.probabilities_batch`) by the model of the run its request named (`predictor_of(name)`,
    None for a name that is no run's).

    Gradio hands a batched function one list per input and takes one list per output back. If every
    text is empty the batch fails with the message (each of its requests gets it as an error); else
    an empty text's answer is the message itself, as the label (see the module's docstring), and so
    is a text the model fails on (the reason) and one whose run is gone (`GONE_MESSAGE`).
    """
    labels: list[dict[str, float] | str] = [GONE_MESSAGE] * len(values)
    for name in dict.fromkeys(runs):
        asked = [i for i, run in enumerate(runs) if run == name]
        predictor = predictor_of(name)
        if predictor is not None:
            for i, label in zip(asked, answers(predictor, [values[i] for i in asked]), strict=True):
                labels[i] = label
    if all(label == EMPTY_MESSAGE for label in labels):
        raise gr.Error(EMPTY_MESSAGE, print_exception=False)
    return [labels]


def answers(predictor: Predictor, values: list[str | None]) -> list[dict[str, float] | str]:
    """Each text's probabilities by `predictor`, or what the page says instead: `EMPTY_MESSAGE` for
    an empty text, the reason for one the model fails on (`Unclassified`)."""
    texts = [predictor.model_text(value or "")[0] for value in values]
    found = iter(predictor.probabilities_batch([text for text in texts if text]) if any(texts) else [])
    labels: list[dict[str, float] | str] = []
    for text in texts:
        answer = next(found) if text else EMPTY_MESSAGE
        labels.append(unclassified_message(answer.reason) if isinstance(answer, Unclassified) else answer)
    return labels


def explain_text(predictor: Predictor, value: str | None) -> str:
    """The text's word scores drawn as HTML (`/explain`, `agnews.present.word_scores`); a text that had
    to be cut says so (`gr.Warning`).

    This event warns for the page: `/classify` is batched, and Gradio delivers no warnings from a
    batched function; the map event runs beside this one and would repeat the warning.
    """
    text, cut = checked_text(predictor, value)
    if cut:
        gr.Warning(CUT_MESSAGE)
    with model_failures_as_messages():
        scores = predictor.word_scores(text)
    return word_scores_html(scores.label, scores.probability, scores.words, scores.changes)


def word_scores_view(elem_id: str) -> gr.HTML:
    """The component a text's word scores are drawn in (`explain_text`'s HTML, escaped there)."""
    return gr.HTML("", css_template=CSS, js_on_load=None, elem_id=elem_id)


def review_note(rule: ReviewRule | None, probabilities: dict[str, float] | str | None) -> str:
    """Whether a prediction's confidence is below the run's review threshold, in one line ("" when
    the run has no threshold or there is no prediction)."""
    if rule is None or rule.threshold is None or not isinstance(probabilities, dict):
        return ""
    confidence, threshold = max(probabilities.values()), rule.threshold
    why = f"the review threshold {percent(threshold)}, {literal(rule.basis)}"  # a login name is text
    if confidence < threshold:
        return f"**Needs review**: confidence {percent(confidence)} is below {why}."
    return f"Confidence {percent(confidence)} is at or above {why}."


def place_text(
    predictor: Predictor, index: MapIndex, points: pd.DataFrame, value: str | None
) -> tuple[go.Figure, pd.DataFrame]:
    """The map with the text starred and its nearest stored neighbours ringed, and those neighbours.

    Colours are those of the model's classes (`Predictor.classes`, the run's)."""
    from agnews.present.figures import (
        map_figure,  # plotly: loaded with the first placed text, not at start-up
    )

    placement = index.place(text_vector(predictor, value), k=NEIGHBOURS)
    figure = map_figure(
        points,
        x="finetuned_x",
        y="finetuned_y",
        classes=predictor.classes,
        hover=False,
        placed=(placement.x, placement.y),
        neighbours=placement.neighbours,
    )
    table = rows_table(points.iloc[placement.neighbours])
    table.insert(1, "similarity", np.round(placement.similarities.astype(float), 3))
    return figure, table


def class_title(run: Run) -> str:
    """What the probabilities are called: the topic of news, else the class."""
    return "Topic" if run.config.data.description().domain == "news" else "Class"


@dataclass(frozen=True)
class ClassifyTab:
    """What the page needs of the built tab: the live run's `follower` of the map (None when the map
    is there from the start or will not come)."""

    follower: Follower | None


def build(
    run: Run,
    points: pd.DataFrame | None,
    pages: PageRuns,
    predictors: Predictors,
    *,
    coming: bool = False,
) -> ClassifyTab:
    """Lay out the tab inside the current `gr.Tab` for the app's `run` and wire its chained events,
    which answer for the run each page shows (`pages`) with its model (`predictors`).

    `points` are the app's run's predictions with map coordinates (`agnews.present.tables.map_points`),
    None without a map: what `shown_points` gives for that run from now on.
    `coming`: the app's run's map is being built in the background; the placement panel then waits
    hidden and the returned tab's `follower` shows it (and starts placing text) once the map part
    exists. A page on another run shows the placement panel as that run has a map or not.
    """
    run.derived(MAP_POINTS, lambda: points)  # the app made them already: not made twice
    located = fine_tuned_map(run)
    with gr.Row():
        with gr.Column(scale=3):
            text = gr.Textbox(
                label="Text to classify",
                lines=1,  # one line: Enter submits (Gradio's rule), Shift+Enter adds a line; grows to 8
                max_lines=8,
                max_length=MAX_RAW_CHARS,
                info=TEXT_INFO,
                elem_id="classify-text",
            )
            button = gr.Button("Classify", variant="primary", elem_id="classify-button")
            # The page's run by name, sent with its texts (see the module's docstring): "" is the app's
            # run; a page on another run gets that run's name when it opens.
            shown_run = gr.Textbox("", visible=False, elem_id="classify-run")
        with gr.Column(scale=2):
            probabilities = gr.Label(
                label=class_title(run), num_top_classes=SHOWN_CLASSES, elem_id="classify-label"
            )
            review_line = gr.Markdown(elem_id="classify-review")

    def page_predictor() -> Predictor:
        """The model of the run the page shows (inside an event that is not batched)."""
        return predictors.for_run(pages.current())

    def predictor_of(name: str | None) -> Predictor | None:
        """The model of the run named `name` ("" or None: the app's); None when no run has the name or
        no open page shows it."""
        path = pages.named(name) if name else pages.default
        if path not in pages.shown_paths():  # a page's own run only: a request cannot load others
            return None
        try:
            return None if path is None else predictors.for_run(pages.runs.current(path))
        except RunError:
            return None

    def classify_one(value: str | None, _run: str | None) -> dict[str, float]:
        return classify_text(page_predictor(), value)

    for_pages: Callable[..., object] = classify_one
    for_programs: Callable[..., object] = partial(classify_text, predictors.for_run(run))
    batching: dict[str, object] = {}
    if BATCHED:
        for_pages = partial(classify_on_runs, predictor_of)
        for_programs = partial(classify_texts, predictors.for_run(run))
        batching = {"batch": True, "max_batch_size": CLASSIFY_BATCH}
        batching |= {"concurrency_limit": CLASSIFY_CONCURRENCY, "concurrency_id": "classify"}
    classified = gr.on(
        [button.click, text.submit],
        for_pages,
        inputs=[text, shown_run],
        outputs=probabilities,
        api_name="classify_page",
        api_visibility="private",
        **batching,
    )
    gr.on([], for_programs, inputs=text, outputs=probabilities, api_name="classify", **batching)

    def review_rule() -> ReviewRule | None:
        return pages.current().fact(REVIEW)

    def review(value: dict[str, float] | str | None) -> str:
        return review_note(review_rule(), value)

    classified.success(review, probabilities, review_line, api_name="review")
    examples = gr.Examples(
        example_texts(run.predictions),
        inputs=text,
        label="Examples from the test split",
        elem_id="classify-examples",
    )
    gr.Markdown("**Which words drove the prediction** (occlusion: each word removed in turn)")
    words = word_scores_view("classify-words")
    missing = notice(
        "This run has no fine-tuned map or embeddings; "
        "run `agnews analyze RUN --stages embed,map` to add them.",
        "classify-map-missing",
        visible=located is None and not coming,
    )
    building = gr.Markdown(
        "> **Being built.** Your text's place on the map appears once the `embed` and `map` "
        "stages have made it.",
        visible=located is None and coming,
        elem_id="classify-map-building",
    )
    # Map above table, each the page's width: beside the map, the table's columns ran off-screen.
    with gr.Column(visible=located is not None, elem_id="classify-map-row") as placed_row:
        placed_map = gr.Plot(label="Your text on the fine-tuned map", elem_id="classify-map")
        neighbours = gr.Dataframe(
            label=f"{NEIGHBOURS} most similar test texts ([CLS] cosine)",
            interactive=False,
            wrap=True,
            column_widths=NEIGHBOUR_WIDTHS,
            elem_id="classify-neighbours",
        )

    def place(value: str | None) -> tuple[Any, pd.DataFrame]:
        page_run = pages.current()
        found = fine_tuned_map(page_run)
        if found is None:
            raise gr.Error("This run has no map (yet): the note above says why.", print_exception=False)
        return place_text(predictors.for_run(page_run), *found, value)

    classified.success(
        limited("place", place), text, [placed_map, neighbours], api_name="place", **HEAVY_QUEUE
    )
    classified.success(
        limited("explain", lambda value: explain_text(page_predictor(), value)),
        text,
        words,
        api_name="explain",
        **HEAVY_QUEUE,
    )
    file_upload.build(page_predictor, lambda: None if (rule := review_rule()) is None else rule.threshold)

    def shown(other: Run) -> dict[Any, Any]:
        """The tab on a page showing `other`, a run that is not the app's (so nothing is coming)."""
        has_map = fine_tuned_map(other) is not None
        return {
            shown_run: other.name,
            probabilities: gr.update(label=class_title(other)),
            examples.dataset: gr.update(samples=[[t] for t in example_texts(other.predictions)]),
            missing: gr.update(visible=not has_map),
            building: gr.update(visible=False),
            placed_row: gr.update(visible=has_map),
        }

    pages.refresh(shown, [shown_run, probabilities, examples.dataset, missing, building, placed_row])
    follower = _placement_follower(missing, building, placed_row) if located is None and coming else None
    return ClassifyTab(follower)


def _placement_follower(missing: gr.Markdown, building: gr.Markdown, placed_row: gr.Column) -> Follower:
    """Shows the placement panel once the live run has its map (the place event finds it then), or
    the notice that it has none once the building is over without one."""
    shown = gr.State(False)

    def fill(snapshot: Snapshot, status: Status, filled: bool) -> dict[Any, Any]:
        if filled:
            return {}
        snapshot.run.derived(MAP_POINTS, lambda: snapshot.points)  # the live run made them already
        if fine_tuned_map(snapshot.run) is None:
            if status.finished:
                return {building: gr.update(visible=False), missing: gr.update(visible=True)}
            return {}
        return {shown: True, building: gr.update(visible=False), placed_row: gr.update(visible=True)}

    return Follower([shown, missing, building, placed_row], fill, [shown])
