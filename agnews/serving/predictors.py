"""The models of the runs a server shows: the app's own run always loaded, a few others on demand.

A page may switch to any listed run (`agnews.ui.run_state`), and each switch would otherwise load a
model. `Predictors` keeps the app's run's predictor for good and at most `kept` others, the least
recently used dropped first (each holds its model's weights, or its ONNX graph and tokenizer: the
memory bench, bench/run_switch_memory.py, measures what that costs). A run whose model changed on disk
(retrained in place with `--overwrite`) gets a new predictor.

Programs asking the JSON route for a named run must not churn what the pages use: `for_route` serves
a run the pages have loaded without touching its place in line, and loads any other into a slot of
its own, which a request may take over only once the slot's run has been idle a while.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from agnews.formatting import seconds
from agnews.rundir.run import Run
from agnews.serving.predictor import Predictor

KEPT_OTHER_RUNS = 2  # models of runs other than the app's kept loaded for pages
ROUTE_SLOT_IDLE_SECONDS = 30.0  # how long the route's own run must sit unused before another replaces it


class RouteBusy(Exception):
    """The route's slot serves another run and was used recently: try again in `retry_after` s."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass
class _Loaded:
    predictor: Predictor
    model: str  # the model part's fingerprint the predictor was loaded from
    used: float = 0.0  # time.monotonic() of the last use


def model_fingerprint(run: Run) -> str:
    """What says the run's model changed: the model part's fingerprint in the manifest."""
    record = run.manifest.parts.get("model")
    return record.fingerprint if record is not None else ""


class Predictors:
    """The predictor of each run a page shows; thread-safe."""

    def __init__(
        self,
        run: Run,
        predictor: Predictor,
        load: Callable[[Run], Predictor],
        kept: int = KEPT_OTHER_RUNS,
    ) -> None:
        """`run` is the app's run, served by `predictor` for good; `load(run)` makes another's."""
        self.default = run.path
        self.default_predictor = predictor
        self._load = load
        self._kept = kept
        self._others: OrderedDict[Path, _Loaded] = OrderedDict()
        self._route: tuple[Path, _Loaded] | None = None
        self._lock = threading.Lock()

    def for_run(self, run: Run) -> Predictor:
        """`run`'s predictor, loaded if it is not (dropping the least recently used other)."""
        if run.path == self.default:
            return self.default_predictor
        model = model_fingerprint(run)
        with self._lock:
            loaded = self._others.get(run.path)
            if loaded is None or loaded.model != model:
                loaded = _Loaded(self._load(run), model)
                self._others[run.path] = loaded
            self._others.move_to_end(run.path)
            while len(self._others) > self._kept:
                self._others.popitem(last=False)
            loaded.used = time.monotonic()
            return loaded.predictor

    def for_route(self, run: Run) -> Predictor:
        """`run`'s predictor for a program's request: the app's, a page's (its place in line kept), or
        the route's own slot's; RouteBusy if that slot holds another run used in the last
        `ROUTE_SLOT_IDLE_SECONDS`."""
        if run.path == self.default:
            return self.default_predictor
        model = model_fingerprint(run)
        now = time.monotonic()
        with self._lock:
            shown = self._others.get(run.path)
            if shown is not None and shown.model == model:
                return shown.predictor
            if self._route is not None:
                path, loaded = self._route
                if path == run.path and loaded.model == model:
                    loaded.used = now
                    return loaded.predictor
            self._refuse_if_busy(run.path, now)
            loaded = _Loaded(self._load(run), model, used=now)
            self._route = (run.path, loaded)
            return loaded.predictor

    def check_route(self, path: Path) -> None:
        """RouteBusy if a program's request for the run at `path` would need the route's slot while
        another run holds it: asked before the run itself is read from disk, so that refused requests
        cost nothing and cannot churn the runs the pages read either."""
        if path == self.default:
            return
        with self._lock:
            if path in self._others or (self._route is not None and self._route[0] == path):
                return
            self._refuse_if_busy(path, time.monotonic())

    def _refuse_if_busy(self, path: Path, now: float) -> None:
        """RouteBusy unless the route's slot is free for `path` (call with the lock held)."""
        if self._route is None:
            return
        held, loaded = self._route
        if held != path and now - loaded.used < ROUTE_SLOT_IDLE_SECONDS:
            wait = ROUTE_SLOT_IDLE_SECONDS - (now - loaded.used)
            raise RouteBusy(
                f"the route is serving run {held.name!r}; ask for {path.name!r} again in "
                f"{seconds(wait, 0)}, or without a run",
                wait,
            )

    def loaded(self) -> list[str]:
        """The names of the runs whose models are loaded now (the app's first), for the page's notes
        and the memory bench."""
        with self._lock:
            names = [self.default.name, *(path.name for path in self._others)]
            if self._route is not None and self._route[0].name not in names:
                names.append(self._route[0].name)
            return names
