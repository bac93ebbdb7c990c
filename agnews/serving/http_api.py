"""A plain JSON route for programs, in the shape of the Hugging Face text-classification inference API.

    POST /api/classify   {"inputs": "text"}  or  {"inputs": ["t1", "t2", ...]}
    ->  [[{"label": "Business", "score": 0.93, "needs_review": false}, ...], ...]

One list per text, every class of the model (its `id2label`), highest score first: what the Hub's
hosted inference answers for a text-classification model, so
`huggingface_hub.InferenceClient(model=URL).text_classification(...)` and code written against the
Hub's API work unchanged. `needs_review` (true below the run's review threshold, as on the page and
in classified files) rides on every element of a text's list where the run has a threshold; clients
that do not know it ignore it (InferenceClient keeps unknown keys).
`parameters.top_k` keeps the k best; `parameters.function_to_apply` may only be "softmax" (the graph
returns probabilities). `GET /api/classify` describes the route: classes, limits, backend.

Why a route beside Gradio's API: Gradio answers a program in two requests (POST, then an event stream
to read), which costs several times the model's own time for one headline (bench/app_latency.py). This
route is served by the same process and the same predictor (same cache), and requests that arrive
while a batch is being computed are answered together by one `Predictor.probabilities_batch` call, as
the page's batched /classify event does; batches run one at a time on one worker thread, leaving the
other core to the server. Reading and cleaning a request's JSON runs on a worker thread too: the
event loop only moves bytes, so one large request never delays another client's page.

Errors are JSON `{"error": ...}` naming the limit or the field: 413 for a body, text or batch over its
limit, 422 for anything malformed (not JSON, JSON nested too deep, no `inputs`, an empty text, unknown
parameters, a text the model fails on: `inputs[i]` is named, and the other requests batched with it
are answered), 403 for a cross-origin request that carries credentials (a cookie or `Authorization`:
another site's page must not use a visitor's login here; same-origin pages and clients that send no
`Origin`, such as curl, are served), 401
without a login when the app runs with `--auth` (HTTP Basic, or `Authorization: Bearer USER:PASS`
for clients that only send bearer tokens, as InferenceClient's `api_key`).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import anyio.to_thread
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from agnews.formatting import count
from agnews.serving.logins import Logins
from agnews.serving.predictor import MAX_CHARS, MAX_RAW_CHARS, Predictor, Unclassified, model_text

_log = logging.getLogger(__name__)

PATH = "/api/classify"
# Texts in one request. Larger jobs are files: the page's file upload or `agnews` batch tools.
MAX_TEXTS = 64
# Texts per model call when concurrent requests are answered together.
MAX_BATCH_TEXTS = 64
# A full request (MAX_TEXTS texts of MAX_RAW_CHARS characters) fits with room for JSON's escapes.
MAX_BODY_BYTES = 4 * 1024 * 1024


class RequestProblem(Exception):
    """A request refused before it reaches the model: its HTTP status and the message for the caller."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Batcher:
    """Answers concurrent requests together: texts that arrive while a batch is computed wait for the
    next one, which takes them all (up to MAX_BATCH_TEXTS). One batch runs at a time, on a worker
    thread, so the event loop keeps accepting requests meanwhile. Lives on the server's event loop."""

    classify: Callable[[list[str]], list[dict[str, float] | Unclassified]]
    _waiting: list[tuple[list[str], asyncio.Future[list[dict[str, float] | Unclassified]]]] = field(
        default_factory=list
    )
    _draining: bool = False

    async def submit(self, texts: list[str]) -> list[dict[str, float] | Unclassified]:
        future: asyncio.Future[list[dict[str, float] | Unclassified]] = (
            asyncio.get_running_loop().create_future()
        )
        self._waiting.append((texts, future))
        if not self._draining:
            self._draining = True
            asyncio.get_running_loop().create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._waiting:
                taken, count = [], 0
                while self._waiting and (not taken or count + len(self._waiting[0][0]) <= MAX_BATCH_TEXTS):
                    taken.append(self._waiting.pop(0))
                    count += len(taken[-1][0])
                texts = [text for request_texts, _ in taken for text in request_texts]
                try:
                    answers = await anyio.to_thread.run_sync(self.classify, texts)
                except Exception as exc:  # each waiting request gets the failure, none hangs
                    for _, future in taken:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                start = 0
                for request_texts, future in taken:
                    if not future.done():  # a caller that went away has cancelled its future
                        future.set_result(answers[start : start + len(request_texts)])
                    start += len(request_texts)
        finally:
            self._draining = False


def _authorised(request: Request, auth: Logins | None) -> bool:
    """Whether `request` carries one of the logins (always, when the app has none)."""
    if auth is None:
        return True
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            credentials = base64.b64decode(credentials, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False
    elif scheme.lower() != "bearer":
        return False
    user, _, password = credentials.partition(":")
    return auth.check(user, password)


async def _read_body(request: Request) -> bytes:
    """The request body, refused as soon as it passes MAX_BODY_BYTES (declared or streamed)."""
    declared = request.headers.get("content-length", "")
    too_large = RequestProblem(413, f"request body over the limit of {count(MAX_BODY_BYTES)} bytes")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_BODY_BYTES:
            raise too_large
    return bytes(body)


def _cross_origin_with_credentials(request: Request) -> bool:
    """Whether a browser sent `request` from another site's page with this site's credentials (a
    cookie or `Authorization`): the request forgery the route refuses. The host is compared, not the
    scheme, so a proxy that ends TLS in front of the app does not make its own page foreign."""
    origin = request.headers.get("origin")
    if origin is None or not ("cookie" in request.headers or "authorization" in request.headers):
        return False
    return urlsplit(origin).netloc.lower() != request.headers.get("host", "").lower()


@dataclass(frozen=True)
class Parsed:
    """A request's texts, how many classes to return for each, and whether `inputs` was one text."""

    texts: list[str]
    top_k: int | None  # None: every class
    single: bool

    def where(self, i: int) -> str:
        """How the request names its text `i`: `inputs`, or `inputs[i]` in a list."""
        return "inputs" if self.single else f"inputs[{i}]"


def parse_request(body: bytes, clean: Callable[[str], str]) -> Parsed:
    """The texts of a request body and how many classes to return for each (`clean`: the run's
    cleaning, which must leave a text some characters).

    Raises RequestProblem naming the field or the limit. Cleans every text (CPU work): call it off
    the event loop.
    """
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise RequestProblem(422, f"the body is not JSON ({exc})") from exc
    except RecursionError as exc:
        raise RequestProblem(422, "the body's JSON is nested too deep") from exc
    if not isinstance(payload, dict) or "inputs" not in payload:
        raise RequestProblem(422, 'the body must be a JSON object with "inputs": a text or a list of texts')
    inputs, single = payload["inputs"], isinstance(payload["inputs"], str)
    texts = [inputs] if single else inputs
    if not isinstance(texts, list) or not texts or not all(isinstance(text, str) for text in texts):
        raise RequestProblem(422, '"inputs" must be a text or a non-empty list of texts')
    if len(texts) > MAX_TEXTS:
        raise RequestProblem(413, f"{len(texts)} texts in one request; the limit is {MAX_TEXTS}")
    parsed = Parsed(texts, _top_k(payload.get("parameters")), single)
    for i, text in enumerate(texts):
        where = parsed.where(i)
        if len(text) > MAX_RAW_CHARS:
            raise RequestProblem(
                413,
                f"{where} has {count(len(text))} characters; the limit is {count(MAX_RAW_CHARS)} "
                f"(the model reads about the first 600, and texts are cut at {count(MAX_CHARS)})",
            )
        if not model_text(text, clean)[0]:
            raise RequestProblem(422, f"{where} is empty once markup and control characters are removed")
    return parsed


def _top_k(parameters: Any) -> int | None:
    """The k best to answer with; None (no `top_k`) answers every class of the model."""
    if parameters is None:
        return None
    if not isinstance(parameters, dict):
        raise RequestProblem(422, '"parameters" must be an object')
    unknown = sorted(set(parameters) - {"top_k", "function_to_apply"})
    if unknown:
        raise RequestProblem(422, f"unknown parameters {unknown}; known: top_k, function_to_apply")
    function = parameters.get("function_to_apply")
    if function not in (None, "softmax"):
        raise RequestProblem(422, f'function_to_apply {function!r}: only "softmax" (probabilities) is served')
    top_k = parameters.get("top_k")
    if top_k is None:
        return None
    if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
        raise RequestProblem(422, f"top_k must be a positive integer, got {top_k!r}")
    return top_k


def answer(
    probabilities: dict[str, float], top_k: int | None, threshold: float | None
) -> list[dict[str, Any]]:
    """One text's answer: its classes with scores, highest first, with `needs_review` where the run
    has a review threshold (the page's rule: the top probability below it)."""
    ranked = sorted(probabilities.items(), key=lambda item: item[1], reverse=True)[:top_k]
    extra = {} if threshold is None else {"needs_review": bool(max(probabilities.values()) < threshold)}
    return [{"label": label, "score": float(score), **extra} for label, score in ranked]


def routes(
    predictor: Predictor,
    review_threshold: Callable[[], float | None],
    auth: Logins | None,
) -> list[Route]:
    """The route's handlers over `predictor`. `review_threshold()` is read per request: a run still
    being completed in the background gains its threshold while the app serves."""
    batcher = Batcher(lambda texts: predictor.probabilities_batch(texts))

    def refuse(status: int, message: str) -> JSONResponse:
        headers = {"WWW-Authenticate": 'Basic realm="agnews"'} if status == 401 else None
        return JSONResponse({"error": message}, status_code=status, headers=headers)

    def refused(request: Request) -> JSONResponse | None:
        """The answer to a request refused before its body is read, if it is."""
        if _cross_origin_with_credentials(request):
            return refuse(
                403, "cross-origin requests with credentials are refused; call from this app's page"
            )
        if not _authorised(request, auth):
            return refuse(401, "this app needs its login: HTTP Basic, or Authorization: Bearer USER:PASSWORD")
        return None

    async def classify(request: Request) -> Response:
        if (refusal := refused(request)) is not None:
            return refusal
        try:
            parsed = await anyio.to_thread.run_sync(parse_request, await _read_body(request), predictor.clean)
        except RequestProblem as problem:
            return refuse(problem.status, problem.message)
        except ClientDisconnect:
            return Response(status_code=499)
        try:
            probabilities = await batcher.submit(parsed.texts)
        except Exception:
            _log.exception("classification failed")
            return refuse(500, "classification failed on the server; its log has the details")
        for i, result in enumerate(probabilities):
            if isinstance(result, Unclassified):
                return refuse(422, f"{parsed.where(i)}: {result.reason}")
        threshold = review_threshold()
        return JSONResponse([answer(p, parsed.top_k, threshold) for p in probabilities])

    async def describe(request: Request) -> Response:
        if (refusal := refused(request)) is not None:
            return refusal
        return JSONResponse(
            {
                "labels": list(predictor.classes),
                "backend": predictor.backend,
                "review_threshold": review_threshold(),
                "limits": {
                    "texts_per_request": MAX_TEXTS,
                    "characters_per_text": MAX_RAW_CHARS,
                    "body_bytes": MAX_BODY_BYTES,
                },
            }
        )

    return [Route(PATH, classify, methods=["POST"]), Route(PATH, describe, methods=["GET"])]
