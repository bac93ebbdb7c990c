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
returns probabilities). `GET /api/classify` describes the route: classes, limits, backend, and the
runs a request may name.

Which run answers: the app's own (the one it was started with), unless a request names another run
listed beside it, by its folder's name only (`agnews.rundir.listing.run_named`, never a path): a
`"run": "NAME"` field in the body or `?run=NAME` in the address (for clients that only take a URL,
as InferenceClient). A named run's model comes from the app's `Predictors.for_route`, which serves a
model a page has loaded and otherwise keeps one slot of its own, so programs never churn the pages'
models: while that slot serves another run used in the last seconds, the request gets 429 with
`Retry-After`. An unknown name gets 404, naming no path of the server.

Why a route beside Gradio's API: Gradio answers a program in two requests (POST, then an event stream
to read), which costs several times the model's own time for one headline (bench/app_latency.py). This
route is served by the same process and the same predictors (same cache), and requests for one run
that arrive while a batch is being computed are answered together by one
`Predictor.probabilities_batch` call, as the page's batched /classify event does; batches run one at
a time on one worker thread, leaving the other core to the server. Reading and cleaning a request's
JSON, and loading a named run, run on a worker thread too: the event loop only moves bytes, so one
large request never delays another client's page.

Errors are JSON `{"error": ...}` naming the limit or the field: 413 for a body, text or batch over its
limit, 422 for anything malformed (not JSON, JSON nested too deep, no `inputs`, an empty text, unknown
parameters, a `run` that is not a name or differs between body and address, a text the model fails
on: `inputs[i]` is named, and the other requests batched with it are answered), 404 for a run name
that names no listed run, 429 while the route's slot serves another run, 403 for a cross-origin
request that carries credentials (a cookie or `Authorization`: another site's page must not use a
visitor's login here; same-origin pages and clients that send no `Origin`, such as curl, are
served), 401 without a login when the app runs with `--auth` (HTTP Basic, or `Authorization: Bearer USER:PASS`
for clients that only send bearer tokens, as InferenceClient's `api_key`).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anyio.to_thread
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from agnews.formatting import count
from agnews.rundir.facts import REVIEW
from agnews.rundir.listing import listed_runs, run_named
from agnews.rundir.parts import FAMILY_NAME
from agnews.rundir.run import Run
from agnews.serving.logins import Logins
from agnews.serving.predictor import MAX_CHARS, MAX_RAW_CHARS, Predictor, Unclassified, model_text
from agnews.serving.predictors import Predictors, RouteBusy

_log = logging.getLogger(__name__)

PATH = "/api/classify"
# Texts in one request. Larger jobs are files: the page's file upload or `agnews` batch tools.
MAX_TEXTS = 64
# Texts per model call when concurrent requests are answered together.
MAX_BATCH_TEXTS = 64
# A full request (MAX_TEXTS texts of MAX_RAW_CHARS characters) fits with room for JSON's escapes.
MAX_BODY_BYTES = 4 * 1024 * 1024
# The body field and the address's query parameter that name the run to answer with.
RUN_FIELD = "run"


class RequestProblem(Exception):
    """A request refused before it reaches the model: its HTTP status and the message for the caller."""

    def __init__(self, status: int, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after  # seconds, for a 429


Answers = list[dict[str, float] | Unclassified]


@dataclass
class _Waiting:
    """A request's texts waiting for the model of its run."""

    predictor: Predictor
    texts: list[str]
    future: asyncio.Future[Answers]


@dataclass
class Batcher:
    """Answers concurrent requests together: texts that arrive while a batch is computed wait for the
    next one, which takes the oldest waiting request and every later one for the same model (up to
    MAX_BATCH_TEXTS); requests for other runs' models wait for their own batch, in arrival order.
    One batch runs at a time, on a worker thread, so the event loop keeps accepting requests
    meanwhile. Lives on the server's event loop."""

    _waiting: list[_Waiting] = field(default_factory=list)
    _draining: bool = False

    async def submit(self, predictor: Predictor, texts: list[str]) -> Answers:
        future: asyncio.Future[Answers] = asyncio.get_running_loop().create_future()
        self._waiting.append(_Waiting(predictor, texts, future))
        if not self._draining:
            self._draining = True
            asyncio.get_running_loop().create_task(self._drain())
        return await future

    def _take(self) -> list[_Waiting]:
        """The next batch, taken out of the waiting requests: the oldest, then the later ones for the
        same model in their order, while they fit in MAX_BATCH_TEXTS (the oldest always goes)."""
        model = self._waiting[0].predictor
        taken: list[_Waiting] = []
        texts = 0
        for waiting in self._waiting:
            if waiting.predictor is not model:
                continue
            if taken and texts + len(waiting.texts) > MAX_BATCH_TEXTS:
                break
            taken.append(waiting)
            texts += len(waiting.texts)
        chosen = {id(waiting) for waiting in taken}
        self._waiting = [waiting for waiting in self._waiting if id(waiting) not in chosen]
        return taken

    async def _drain(self) -> None:
        try:
            while self._waiting:
                taken = self._take()
                texts = [text for waiting in taken for text in waiting.texts]
                try:
                    answers = await anyio.to_thread.run_sync(taken[0].predictor.probabilities_batch, texts)
                except Exception as exc:  # each waiting request gets the failure, none hangs
                    for waiting in taken:
                        if not waiting.future.done():
                            waiting.future.set_exception(exc)
                    continue
                start = 0
                for waiting in taken:
                    if not waiting.future.done():  # a caller that went away has cancelled its future
                        waiting.future.set_result(answers[start : start + len(waiting.texts)])
                    start += len(waiting.texts)
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
    """A request's texts, how many classes to return for each, whether `inputs` was one text, and the
    run its body names (None: none)."""

    texts: list[str]
    top_k: int | None  # None: every class
    single: bool
    run: str | None = None

    def where(self, i: int) -> str:
        """How the request names its text `i`: `inputs`, or `inputs[i]` in a list."""
        return "inputs" if self.single else f"inputs[{i}]"


def parse_request(body: bytes) -> Parsed:
    """The texts of a request body, how many classes to return for each and the run it names.

    Raises RequestProblem naming the field or the limit. Parses JSON of up to MAX_BODY_BYTES (CPU
    work): call it off the event loop. Whether each text survives the run's cleaning is
    `check_texts`'s, once the run is known.
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
    run = payload.get(RUN_FIELD)
    if run is not None and (not isinstance(run, str) or not run):
        raise RequestProblem(422, f'"{RUN_FIELD}" must be the name of one of the runs `GET {PATH}` lists')
    parsed = Parsed(texts, _top_k(payload.get("parameters")), single, run)
    for i, text in enumerate(texts):
        if len(text) > MAX_RAW_CHARS:
            raise RequestProblem(
                413,
                f"{parsed.where(i)} has {count(len(text))} characters; the limit is {count(MAX_RAW_CHARS)} "
                f"(the model reads about the first 600, and texts are cut at {count(MAX_CHARS)})",
            )
    return parsed


def check_texts(parsed: Parsed, clean: Callable[[str], str]) -> None:
    """Refuse a request with a text that `clean` (the run's cleaning) leaves without characters.
    Cleans every text (CPU work): call it off the event loop."""
    for i, text in enumerate(parsed.texts):
        if not model_text(text, clean)[0]:
            raise RequestProblem(
                422, f"{parsed.where(i)} is empty once markup and control characters are removed"
            )


def run_asked(body: str | None, address: str | None) -> str | None:
    """The run a request names, in its body or its address (None: neither); both must agree."""
    if body is not None and address is not None and body != address:
        raise RequestProblem(422, f"the body's \"{RUN_FIELD}\" and the address's ?{RUN_FIELD}= name two runs")
    return body if body is not None else address


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


def review_threshold(run: Run) -> float | None:
    """`run`'s review threshold (None where it has none: no `needs_review` in the answers)."""
    rule = run.fact(REVIEW)
    return None if rule is None else rule.threshold


@dataclass(frozen=True)
class Served:
    """What answers a request: a run as it is now, and its model."""

    run: Run
    predictor: Predictor


def routes(
    predictors: Predictors,
    current: Callable[[], Run],
    auth: Logins | None,
    *,
    runs_root: Path | None,
    on_disk: Callable[[Path], Run],
) -> list[Route]:
    """The route's handlers. A request is answered with the app's run, `current()` (read per request:
    a run still being completed in the background gains its review threshold while the app serves),
    and its model, `predictors.default_predictor`; or, where it names another, with the run of that
    name listed under `runs_root`, read by `on_disk(path)` (the run as it is on disk now), and its
    model from `predictors.for_route`."""
    batcher = Batcher()
    app_path = predictors.default

    def served(name: str | None) -> Served:
        """The run named `name` (None: the app's) and its model. May load both: call it off the event
        loop."""
        path = None if name is None else run_named(runs_root, name)
        # The app's run: no name, its folder under the runs folder, or its name where the runs folder
        # has no run of that name (as a page's `?run=` is read).
        app_run = path.resolve() == app_path.resolve() if path is not None else name in (None, app_path.name)
        if app_run:
            return Served(current(), predictors.default_predictor)
        if path is None:
            said = (
                repr(name)
                if FAMILY_NAME.fullmatch(name)
                else "that (a run is named by its folder's name, never a path)"
            )
            raise RequestProblem(404, f"no run is named {said}; `GET {PATH}` lists the runs to name")
        try:
            predictors.check_route(path)  # before the run is read: a refusal costs nothing
            run = on_disk(path)
            return Served(run, predictors.for_route(run))
        except RouteBusy as busy:
            raise RequestProblem(429, str(busy), retry_after=math.ceil(busy.retry_after)) from busy
        except Exception as exc:  # a run or model that fails to load: its reason (and paths) stay in the log
            _log.exception("run %r could not be loaded for the JSON route", name)
            raise RequestProblem(
                500, f"run {name!r} could not be loaded on the server; its log has the details"
            ) from exc

    def ready(name: str | None, parsed: Parsed) -> Served:
        """The run and model answering `parsed`, once its texts pass that run's cleaning."""
        server = served(name)
        check_texts(parsed, server.predictor.clean)
        return server

    def names() -> list[str]:
        """The runs a request may name: the app's, then those listed under `runs_root`, newest first."""
        return list(dict.fromkeys([app_path.name, *(entry.name for entry in listed_runs(runs_root))]))

    def refuse(status: int, message: str, retry_after: int | None = None) -> JSONResponse:
        headers = {"WWW-Authenticate": 'Basic realm="agnews"'} if status == 401 else {}
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        return JSONResponse({"error": message}, status_code=status, headers=headers or None)

    def refused(request: Request) -> JSONResponse | None:
        """The answer to a request refused before its body is read, if it is."""
        if _cross_origin_with_credentials(request):
            return refuse(
                403, "cross-origin requests with credentials are refused; call from this app's page"
            )
        if not _authorised(request, auth):
            return refuse(401, "this app needs its login: HTTP Basic, or Authorization: Bearer USER:PASSWORD")
        return None

    def address_run(request: Request) -> str | None:
        """The run the request's address names (`?run=NAME`; empty: none)."""
        return request.query_params.get(RUN_FIELD) or None

    async def classify(request: Request) -> Response:
        if (refusal := refused(request)) is not None:
            return refusal
        try:
            parsed = await anyio.to_thread.run_sync(parse_request, await _read_body(request))
            name = run_asked(parsed.run, address_run(request))
            server = await anyio.to_thread.run_sync(ready, name, parsed)
        except RequestProblem as problem:
            return refuse(problem.status, problem.message, problem.retry_after)
        except ClientDisconnect:
            return Response(status_code=499)
        try:
            probabilities = await batcher.submit(server.predictor, parsed.texts)
        except Exception:
            _log.exception("classification failed")
            return refuse(500, "classification failed on the server; its log has the details")
        for i, result in enumerate(probabilities):
            if isinstance(result, Unclassified):
                return refuse(422, f"{parsed.where(i)}: {result.reason}")
        threshold = review_threshold(server.run)
        return JSONResponse([answer(p, parsed.top_k, threshold) for p in probabilities])

    async def describe(request: Request) -> Response:
        if (refusal := refused(request)) is not None:
            return refusal
        try:
            server, runs = await anyio.to_thread.run_sync(lambda: (served(address_run(request)), names()))
        except RequestProblem as problem:
            return refuse(problem.status, problem.message, problem.retry_after)
        return JSONResponse(
            {
                "run": server.run.name,
                "runs": runs,
                "labels": list(server.predictor.classes),
                "backend": server.predictor.backend,
                "review_threshold": review_threshold(server.run),
                "limits": {
                    "texts_per_request": MAX_TEXTS,
                    "characters_per_text": MAX_RAW_CHARS,
                    "body_bytes": MAX_BODY_BYTES,
                },
            }
        )

    return [Route(PATH, classify, methods=["POST"]), Route(PATH, describe, methods=["GET"])]
