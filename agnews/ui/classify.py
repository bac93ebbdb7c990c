"""Classify tab: a text in, its class probabilities out, then its place on the map and its words.

Separate events: the probabilities come back first from a small, fast endpoint (`/classify`, also
the one for API clients); placing the text on the map and scoring its words follow it, side by side,
so the slower parts never hold up the answer. API clients may call any of the three directly, so each
checks its input itself: empty text is a message (`gr.Error`), never a traceback. A whole CSV file
is classified in the accordion below (`agnews.ui.file_upload`). When the run has a review threshold
(`calibration.json`), a line under the probabilities says whether the confidence is below it
("needs review"), and the CSV output gains a `needs_review` column.

`/classify` is batched by Gradio's queue (`batch=True`): requests waiting together are answered by
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
from agnews.present.tables import example_texts
from agnews.present.word_scores import CSS, word_scores_html
from agnews.rundir.facts import REVIEW, ReviewRule
from agnews.rundir.run import Run
from agnews.serving.map_index import MapIndex
from agnews.serving.predictor import (
    MAX_CHARS,
    MAX_RAW_CHARS,
    Predictor,
    UnclassifiableTextError,
    Unclassified,
)
from agnews.ui import file_upload
from agnews.ui.common import notice, rows_table
from agnews.ui.live import Follower, Snapshot, Status
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
# Batches of /classify run one at a time, each on one core (`Predictor(threads=1)`), leaving the
# other core to the server itself (HTTP, queue, JSON). Two at a time measured no faster and spent
# more CPU per request (smaller batches).
CLASSIFY_CONCURRENCY = 1
# False builds /classify as it was before batching (one text per call, the queue's default
# concurrency): bench/app_load.py's same-run baseline. The app always batches.
BATCHED = True
EMPTY_MESSAGE = (
    "Type or paste a text first: nothing is left to classify once markup and control characters are removed."
)
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


def fine_tuned_map(run: Run, points: pd.DataFrame | None) -> tuple[MapIndex, pd.DataFrame] | None:
    """The index that places new text on the fine-tuned map, with the map's points; None if absent.

    Only the fine-tuned map: placing on the base map would need the base encoder loaded too (twice
    the memory and start-up time) for a picture the Map tab already shows.
    """
    vectors = (run.embeddings or {}).get("finetuned_cls")
    if points is None or vectors is None:
        return None
    return MapIndex(vectors, points[["finetuned_x", "finetuned_y"]].to_numpy()), points


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
    """`/classify`, batched: the four probabilities of each text (`Predictor.probabilities_batch`).

    Gradio hands a batched function one list per input and takes one list per output back. If every
    text is empty the batch fails with the message (each of its requests gets it as an error); else
    an empty text's answer is the message itself, as the label (see the module's docstring), and so
    is a text the model fails on: the reason, as the label.
    """
    texts = [predictor.model_text(value or "")[0] for value in values]
    if not any(texts):
        raise gr.Error(EMPTY_MESSAGE, print_exception=False)
    answers = iter(predictor.probabilities_batch([text for text in texts if text]))
    labels: list[dict[str, float] | str] = []
    for text in texts:
        found = next(answers) if text else EMPTY_MESSAGE
        labels.append(unclassified_message(found.reason) if isinstance(found, Unclassified) else found)
    return [labels]


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


@dataclass(frozen=True)
class ClassifyTab:
    """What the page needs of the built tab: the live run's `follower` of the map (None when the map
    is there from the start or will not come), and `located()`, the index that places new text on the
    map with the map's points, once it exists (the row editor places its texts with it too)."""

    follower: Follower | None
    located: Callable[[], tuple[MapIndex, pd.DataFrame] | None]


def build(
    run: Run,
    predictor: Predictor,
    points: pd.DataFrame | None,
    *,
    coming: bool = False,
    review: Callable[[], ReviewRule | None] | None = None,
) -> ClassifyTab:
    """Lay out the tab inside the current `gr.Tab` and wire its chained events.

    `points` are the predictions with map coordinates (`agnews.present.tables.map_points`), None
    without a map.
    `review()` is the run's review rule (`agnews.rundir.facts.REVIEW`) when a text is classified
    (default: the loaded run's); a live run may gain it after start-up.
    `coming`: the map is being built in the background; the placement panel then waits hidden and
    the returned tab's `follower` shows it (and starts placing text) once the map part exists.
    """

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
        with gr.Column(scale=2):
            probabilities = gr.Label(
                label="Topic" if run.config.data.description().domain == "news" else "Class",
                num_top_classes=min(len(run.classes), SHOWN_CLASSES),
                elem_id="classify-label",
            )
            review_line = gr.Markdown(elem_id="classify-review")
    handler: Callable[..., object] = partial(classify_text, predictor)
    batching: dict[str, object] = {}
    if BATCHED:
        handler = partial(classify_texts, predictor)
        batching = {"batch": True, "max_batch_size": CLASSIFY_BATCH}
        batching["concurrency_limit"] = CLASSIFY_CONCURRENCY
    classified = gr.on(
        [button.click, text.submit],
        handler,
        inputs=text,
        outputs=probabilities,
        api_name="classify",
        **batching,
    )
    current_review = review or (lambda: run.fact(REVIEW))
    classified.success(
        lambda value: review_note(current_review(), value), probabilities, review_line, api_name="review"
    )
    gr.Examples(example_texts(run.predictions), inputs=text, label="Examples from the test split")
    gr.Markdown("**Which words drove the prediction** (occlusion: each word removed in turn)")
    words = word_scores_view("classify-words")
    located = fine_tuned_map(run, points)
    follower = None
    # The index the place event uses: set now, or by the follower when the map arrives.
    holder: dict[str, tuple[MapIndex, pd.DataFrame] | None] = {"located": located}
    if located is None and not coming:
        notice(
            "This run has no fine-tuned map or embeddings; "
            "run `agnews analyze RUN --stages embed,map` to add them."
        )
    else:
        building = gr.Markdown(
            "> **Being built.** Your text's place on the map appears once the `embed` and `map` "
            "stages have made it.",
            visible=located is None,
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
            current = holder["located"]
            if current is None:
                raise gr.Error("The map is still being built")
            return place_text(predictor, *current, value)

        classified.success(
            limited("place", place), text, [placed_map, neighbours], api_name="place", **HEAVY_QUEUE
        )
        if located is None:
            follower = _placement_follower(holder, building, placed_row)
    classified.success(
        limited("explain", partial(explain_text, predictor)), text, words, api_name="explain", **HEAVY_QUEUE
    )
    file_upload.build(
        predictor,
        lambda: None if (found := current_review()) is None else found.threshold,
    )
    return ClassifyTab(follower, lambda: holder["located"])


def _placement_follower(
    holder: dict[str, tuple[MapIndex, pd.DataFrame] | None], building: gr.Markdown, placed_row: gr.Column
) -> Follower:
    """Shows the placement panel, and arms the place event, once the live run has its map."""
    shown = gr.State(False)

    def fill(snapshot: Snapshot, status: Status, filled: bool) -> dict[Any, Any]:
        if filled:
            return {}
        located = fine_tuned_map(snapshot.run, snapshot.points)
        if located is None:
            if status.finished:
                return {building: "> **Not available for this run.** The map could not be built."}
            return {}
        holder["located"] = located
        return {shown: True, building: gr.update(visible=False), placed_row: gr.update(visible=True)}

    return Follower([shown, building, placed_row], fill, [shown])
