"""The plain JSON route for programs (`agnews.serving.http_api`): its answers, its errors, its login,
and a client nobody here wrote (huggingface_hub's InferenceClient) against it."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from helpers import ServedApp

from agnews.analyses.calibration.schema import PART as CALIBRATION
from agnews.dataset.ag_news import AG_NEWS_CLASSES as LABELS
from agnews.serving import http_api
from agnews.serving.http_api import MAX_BODY_BYTES, MAX_TEXTS, PATH, answer, parse_request
from agnews.serving.predictor import MAX_RAW_CHARS
from agnews.text import clean_text

HEADLINES = [
    "Oil prices rise as OPEC cuts output",
    "Striker scores twice as champions win the cup final",
    "Chip maker unveils a faster processor for laptops",
]


def _post(url: str, payload: object, **options: object) -> httpx.Response:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {"Content-Type": "application/json", **options.pop("headers", {})}  # type: ignore[dict-item]
    return httpx.post(url.rstrip("/") + PATH, content=body, headers=headers, timeout=30, **options)  # type: ignore[arg-type]


def _threshold(served_app: ServedApp) -> float | None:
    calibration = served_app.run.get(CALIBRATION)
    return None if calibration is None else calibration.review_threshold


def _expected(served_app: ServedApp, text: str) -> list[dict[str, object]]:
    probabilities = served_app.predictor.probabilities(text)
    ranked = sorted(probabilities.items(), key=lambda item: item[1], reverse=True)
    threshold = _threshold(served_app)
    review = {} if threshold is None else {"needs_review": max(probabilities.values()) < threshold}
    return [{"label": label, "score": pytest.approx(score, abs=1e-6), **review} for label, score in ranked]


def test_one_text_and_a_list_answer_what_the_predictor_gives(served_app: ServedApp) -> None:
    single = _post(served_app.url, {"inputs": HEADLINES[0]})
    assert single.status_code == 200, single.text
    assert single.json() == [_expected(served_app, HEADLINES[0])]  # the Hub's shape: a list per text

    several = _post(served_app.url, {"inputs": HEADLINES})
    assert several.status_code == 200, several.text
    answers = several.json()
    assert answers == [_expected(served_app, text) for text in HEADLINES]
    for classes in answers:
        assert sorted(c["label"] for c in classes) == sorted(LABELS)
        assert [c["score"] for c in classes] == sorted((c["score"] for c in classes), reverse=True)


def test_top_k_and_the_description(served_app: ServedApp) -> None:
    top = _post(served_app.url, {"inputs": HEADLINES[1], "parameters": {"top_k": 2}})
    assert top.status_code == 200 and [len(classes) for classes in top.json()] == [2]
    assert top.json()[0] == _expected(served_app, HEADLINES[1])[:2]
    described = httpx.get(served_app.url.rstrip("/") + PATH, timeout=30).json()
    assert described["labels"] == list(LABELS) and described["backend"] == served_app.predictor.backend
    assert described["limits"]["texts_per_request"] == MAX_TEXTS
    assert described["review_threshold"] == _threshold(served_app)


def test_needs_review_follows_the_run_threshold() -> None:
    probabilities = {"World": 0.55, "Sports": 0.25, "Business": 0.15, "Sci/Tech": 0.05}
    assert [c["needs_review"] for c in answer(probabilities, 4, 0.6)] == [True] * 4
    assert [c["needs_review"] for c in answer(probabilities, 4, 0.5)] == [False] * 4
    assert answer(probabilities, 1, None) == [{"label": "World", "score": 0.55}]


@pytest.mark.parametrize(
    ("payload", "status", "message"),
    [
        (b"{not json", 422, "the body is not JSON"),
        ({"text": "Oil prices"}, 422, '"inputs"'),
        ({"inputs": []}, 422, "non-empty list of texts"),
        ({"inputs": ["Oil", 3]}, 422, "non-empty list of texts"),
        ({"inputs": "   "}, 422, "inputs is empty once markup"),
        ({"inputs": ["Oil prices", "<p> </p>"]}, 422, "inputs[1] is empty once markup"),
        ({"inputs": ["Oil"] * (MAX_TEXTS + 1)}, 413, f"the limit is {MAX_TEXTS}"),
        ({"inputs": "x" * (MAX_RAW_CHARS + 1)}, 413, f"the limit is {MAX_RAW_CHARS:,}"),
        ({"inputs": "Oil", "parameters": {"temperature": 2}}, 422, "unknown parameters ['temperature']"),
        ({"inputs": "Oil", "parameters": {"function_to_apply": "sigmoid"}}, 422, 'only "softmax"'),
        ({"inputs": "Oil", "parameters": {"top_k": 0}}, 422, "top_k must be a positive integer"),
    ],
)
def test_bad_requests_get_a_json_error_naming_the_field_or_limit(
    served_app: ServedApp, payload: object, status: int, message: str
) -> None:
    response = _post(served_app.url, payload)
    assert response.status_code == status, response.text
    assert message in response.json()["error"]
    assert "Traceback" not in response.text


def test_a_body_over_the_limit_is_refused_before_it_is_read(served_app: ServedApp) -> None:
    declared = _post(served_app.url, b"x" * (MAX_BODY_BYTES + 1))
    assert declared.status_code == 413 and f"{MAX_BODY_BYTES:,} bytes" in declared.json()["error"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit holds on the stream too
        for _ in range(MAX_BODY_BYTES // 65536 + 2):
            yield b"x" * 65536

    streamed = httpx.post(served_app.url.rstrip("/") + PATH, content=chunks(), timeout=30)
    assert streamed.status_code == 413


def test_the_parser_alone() -> None:
    assert parse_request(b'{"inputs": "Oil"}') == http_api.Parsed(["Oil"], None, single=True)  # every class
    parsed = parse_request(b'{"inputs": ["a b", "c"], "parameters": {"top_k": 9}, "run": "quick-s1"}')
    assert parsed == http_api.Parsed(["a b", "c"], 9, single=False, run="quick-s1")
    assert parsed.where(1) == "inputs[1]"
    with pytest.raises(http_api.RequestProblem, match="top_k"):
        parse_request(b'{"inputs": "Oil", "parameters": {"top_k": true}}')
    for run in (b'""', b"3", b'["quick"]'):
        with pytest.raises(http_api.RequestProblem, match='"run" must be the name'):
            parse_request(b'{"inputs": "Oil", "run": ' + run + b"}")
    http_api.check_texts(parsed, clean_text)
    with pytest.raises(http_api.RequestProblem, match="inputs\\[1\\] is empty once markup"):
        http_api.check_texts(http_api.Parsed(["Oil", "<p> </p>"], None, single=False), clean_text)


def test_concurrent_requests_are_answered_together_and_each_gets_its_own(served_app: ServedApp) -> None:
    """Requests sent at once: every one gets the answer for its own texts, and the model was called
    fewer times than there were requests (they were batched)."""
    import concurrent.futures

    calls: list[int] = []
    predictor = served_app.predictor
    original = predictor.probabilities_batch

    def counting(texts: list[str]) -> list[dict[str, float]]:
        calls.append(len(texts))
        return original(texts)

    texts = [f"{HEADLINES[i % 3]} ({i})" for i in range(24)]
    predictor.probabilities_batch = counting  # type: ignore[method-assign]
    try:
        with concurrent.futures.ThreadPoolExecutor(24) as pool:
            responses = list(pool.map(lambda text: _post(served_app.url, {"inputs": text}), texts))
    finally:
        del predictor.probabilities_batch
    assert all(r.status_code == 200 for r in responses)
    for text, response in zip(texts, responses, strict=True):
        assert response.json() == [_expected(served_app, text)]
    assert sum(calls) == len(texts) and len(calls) < len(texts)


@pytest.fixture
def hub_client_online(monkeypatch: pytest.MonkeyPatch) -> None:
    """huggingface_hub refuses every request, even to this machine, while HF_HUB_OFFLINE is set (as
    the tests set it); the clients below talk only to the local server."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.delenv("HF_TOKEN", raising=False)


@pytest.mark.usefixtures("hub_client_online")
def test_inference_client_gets_the_pages_labels_and_scores(served_app: ServedApp) -> None:
    """huggingface_hub's InferenceClient, pointed at the route's URL, reads the Hub's shape."""
    from huggingface_hub import InferenceClient

    client = InferenceClient(model=served_app.url.rstrip("/") + PATH)
    for text in HEADLINES:
        got = client.text_classification(text)
        page = served_app.predictor.probabilities(text)  # what the page's /classify shows
        assert {element.label: element.score for element in got} == pytest.approx(page, abs=1e-6)
        assert got[0].label == max(page, key=page.__getitem__)


@pytest.fixture(scope="module")
def guarded_url(served_app: ServedApp) -> Iterator[str]:
    """A second server of the same run and predictor, launched with a login."""
    from agnews.serving.logins import Logins
    from agnews.serving.predictor import Predictor
    from agnews.serving.predictors import Predictors
    from agnews.ui import build_app
    from agnews.ui.app import launch_options

    demo = build_app(served_app.run, served_app.predictor)
    predictors = Predictors(served_app.run, served_app.predictor, Predictor.from_run)
    options = launch_options(predictors, lambda: served_app.run, Logins({"ann": "s3cret"}))
    _, url, _ = demo.launch(prevent_thread_lock=True, quiet=True, **options)
    try:
        yield url.rstrip("/")
    finally:
        demo.close()


@pytest.mark.usefixtures("hub_client_online")
def test_the_login_applies_to_the_route(guarded_url: str, served_app: ServedApp) -> None:
    basic = "Basic " + base64.b64encode(b"ann:s3cret").decode()
    wrong = "Basic " + base64.b64encode(b"ann:guess").decode()
    for headers in ({}, {"Authorization": wrong}, {"Authorization": "Bearer ann:guess"}):
        refused = _post(guarded_url, {"inputs": HEADLINES[0]}, headers=headers)
        assert refused.status_code == 401 and "login" in refused.json()["error"]
    assert httpx.get(guarded_url + PATH, timeout=30).status_code == 401
    for good in (basic, "Bearer ann:s3cret"):
        allowed = _post(guarded_url, {"inputs": HEADLINES[0]}, headers={"Authorization": good})
        assert allowed.status_code == 200 and allowed.json() == [_expected(served_app, HEADLINES[0])]

    from huggingface_hub import InferenceClient

    client = InferenceClient(model=guarded_url + PATH, token="ann:s3cret")
    assert (
        client.text_classification(HEADLINES[0])[0].label == _expected(served_app, HEADLINES[0])[0]["label"]
    )
    # The page's own API still wants the page's login.
    assert httpx.get(guarded_url + "/config", timeout=30).status_code == 401


def test_the_docs_document_the_route_with_curl() -> None:
    page = (Path(__file__).resolve().parents[1] / "docs" / "app.md").read_text()
    assert f"curl -s http://127.0.0.1:7860{PATH}" in page
