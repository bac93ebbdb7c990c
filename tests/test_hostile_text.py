"""Hostile input against the served app (issue 30): one request must not stall the server, one bad
text fails alone (on the JSON route, the page's batched /classify and in files), a deeply nested body
and a cross-origin request with credentials get JSON refusals."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import httpx
import numpy as np
import pytest
from helpers import ServedApp

from agnews.serving import csv_batch
from agnews.serving.http_api import PATH
from agnews.serving.predictor import MAX_RAW_CHARS, Predictor

GOOD = "Oil prices rise as OPEC cuts output"
# A word the fake model fault below fails on, standing for any text a tokenizer or model raises on.
POISON = "POISONED"


def _post(url: str, payload: object, headers: dict[str, str] | None = None) -> httpx.Response:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return httpx.post(
        url.rstrip("/") + PATH,
        content=body,
        headers={"Content-Type": "application/json", **(headers or {})},
        timeout=60,
    )


@pytest.fixture
def poisoned(served_app: ServedApp, monkeypatch: pytest.MonkeyPatch) -> Predictor:
    """The served predictor, whose padded passes (the page's and the route's) and file inference
    raise on any batch that holds a text with POISON, as a tokenizer raises on a text it cannot read."""
    import agnews.inference

    predictor = served_app.predictor
    batch, infer = predictor._batch, agnews.inference.infer

    def failing_batch(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        if any(POISON in text for text in texts):
            raise ValueError("the tokenizer cannot read this")
        return batch(texts)

    def failing_infer(model: object, tokenizer: object, texts: list[str], **options: object) -> object:
        if any(POISON in text for text in texts):
            raise ValueError("the tokenizer cannot read this")
        return infer(model, tokenizer, texts, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(predictor, "_batch", failing_batch)
    monkeypatch.setattr(agnews.inference, "infer", failing_infer)
    return predictor


def test_the_page_answers_while_long_whitespace_texts_are_classified(served_app: ServedApp) -> None:
    """Four texts of 20,000 characters, mostly one run of spaces: before, cleaning them took seconds
    on the event loop, and `GET /` waited as long."""
    long_text = "Oil" + " " * (MAX_RAW_CHARS - 9) + "prices"
    payload = {"inputs": [long_text] * 4}
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        posts = [pool.submit(_post, served_app.url, payload) for _ in range(4)]
        time.sleep(0.2)  # the requests are in the server's hands
        began = time.perf_counter()
        page = httpx.get(served_app.url, timeout=60)
        waited = time.perf_counter() - began
        answers = [post.result() for post in posts]
    assert page.status_code == 200
    assert waited < 0.5, f"GET / waited {waited:.2f} s while long texts were classified"
    assert [answer.status_code for answer in answers] == [200] * 4


def test_twenty_unusable_texts_beside_twenty_good_ones_fail_alone(served_app: ServedApp) -> None:
    """Lone surrogates: before, they reached the tokenizer, which failed every request of the batch
    (500s); now cleaning removes them, a text of nothing else is refused (422) and the rest answered."""
    requests = [{"inputs": "\udfff\ud800"}] * 20 + [{"inputs": f"{GOOD} ({i})"} for i in range(20)]
    requests.append({"inputs": f"{GOOD} \ud800 (inside)"})
    with concurrent.futures.ThreadPoolExecutor(41) as pool:
        responses = list(pool.map(lambda payload: _post(served_app.url, payload), requests))
    bad, good, inside = responses[:20], responses[20:40], responses[40]
    assert [r.status_code for r in bad] == [422] * 20, [r.text for r in bad]
    assert all("inputs is empty" in r.json()["error"] for r in bad)
    assert [r.status_code for r in good] == [200] * 20, [r.text for r in good]
    assert inside.status_code == 200, inside.text


def test_a_text_the_model_fails_on_is_refused_and_its_batch_mates_answered(
    served_app: ServedApp, poisoned: Predictor
) -> None:
    requests = [{"inputs": [f"{GOOD} {i}", f"{POISON} {i}"]} for i in range(20)]
    requests += [{"inputs": f"{GOOD} and more ({i})"} for i in range(20)]
    with concurrent.futures.ThreadPoolExecutor(40) as pool:
        responses = list(pool.map(lambda payload: _post(served_app.url, payload), requests))
    bad, good = responses[:20], responses[20:]
    assert [r.status_code for r in good] == [200] * 20, [r.text for r in good]
    assert [r.status_code for r in bad] == [422] * 20, [r.text for r in bad]
    for response in bad:
        error = response.json()["error"]
        assert error.startswith("inputs[1]: the model could not read this text") and "Traceback" not in error


def test_the_pages_batch_and_a_file_answer_around_a_text_the_model_fails_on(poisoned: Predictor) -> None:
    from agnews.ui.classify import classify_texts

    [labels] = classify_texts(poisoned, [GOOD, f"{POISON} here", "  "])
    assert isinstance(labels[0], dict) and set(labels[0]) == set(poisoned.probabilities(GOOD))
    assert isinstance(labels[1], str) and labels[1].startswith("Not classified: the model could not read")
    assert isinstance(labels[2], str)  # empty: the page's own message

    texts = [GOOD, f"{POISON} row", "Striker scores twice in the cup final"]
    table = csv_batch.Table(header=["text"], rows=[[t] for t in texts], texts=texts, source="column text")
    rows, summary = csv_batch.classify_table(table, poisoned.probabilities_many, classes=poisoned.classes)
    assert [row[-1] for row in rows] == ["", csv_batch.NOTE_FAILED, ""]  # the note column
    assert rows[1][1:-1] == ["", "", "", "", ""] and all(rows[i][-2] for i in (0, 2))
    assert (summary.classified, summary.unclassified) == (2, 1)


def test_a_body_nested_too_deep_gets_the_json_422(served_app: ServedApp) -> None:
    depth = 100_000
    response = _post(served_app.url, b'{"inputs": ' + b"[" * depth + b"]" * depth + b"}")
    assert response.status_code == 422, response.text
    assert "nested too deep" in response.json()["error"]


def test_cross_origin_requests_with_credentials_are_refused(served_app: ServedApp) -> None:
    own = "{0.scheme}://{0.netloc}".format(urlsplit(served_app.url))
    foreign = "https://evil.example"
    payload = {"inputs": GOOD}
    for credentials in ({"Cookie": "session=1"}, {"Authorization": "Bearer ann:s3cret"}):
        refused = _post(served_app.url, payload, {"Origin": foreign, **credentials})
        assert refused.status_code == 403, refused.text
        assert "cross-origin" in refused.json()["error"]
        described = httpx.get(served_app.url.rstrip("/") + PATH, headers={"Origin": foreign, **credentials})
        assert described.status_code == 403
        assert _post(served_app.url, payload, {"Origin": own, **credentials}).status_code == 200
        assert _post(served_app.url, payload, credentials).status_code == 200  # curl: no Origin
    assert _post(served_app.url, payload, {"Origin": foreign}).status_code == 200  # nothing to abuse


def test_cleaning_runs_off_the_event_loop(served_app: ServedApp, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever a pattern costs, the route parses and cleans a request on a worker thread."""
    from agnews.serving import http_api

    on_loop: list[bool] = []
    parse, check = http_api.parse_request, http_api.check_texts

    def looked() -> None:
        try:
            asyncio.get_running_loop()
            on_loop.append(True)
        except RuntimeError:  # a worker thread runs no event loop
            on_loop.append(False)

    def parsing(body: bytes) -> http_api.Parsed:
        looked()
        return parse(body)

    def cleaning(parsed: http_api.Parsed, clean: Callable[[str], str]) -> None:
        looked()
        check(parsed, clean)

    monkeypatch.setattr(http_api, "parse_request", parsing)
    monkeypatch.setattr(http_api, "check_texts", cleaning)
    assert _post(served_app.url, {"inputs": GOOD}).status_code == 200
    assert on_loop == [False, False]
