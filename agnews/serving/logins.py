"""Who may use the app: named logins, where they are given, and a brake on guessing passwords.

Each person gets a login of their own (`--auth ann:pw --auth bob:pw`, a comma list, `--auth-file`,
or `$AGNEWS_AUTH`), because the page records decisions under the name people log in with: one shared
login would make everyone the same person. A file or the environment keeps passwords out of `ps`.

`Logins.check` is the one password check, for Gradio's login form (as its `auth` callable) and for
the JSON route's Basic/Bearer header alike; it compares in constant time, for unknown names too.

`LoginThrottle` is an ASGI middleware around the whole app: after `MAX_FAILURES` failed logins from
one client within `WINDOW_S`, each further try from that client is held `DELAY_S` before it is
answered, one at a time, so guessing runs at one try a second; other clients are not slowed. Gradio's
`auth` callable never sees the client, hence the middleware. The client is the address the server
sees (`scope["client"]`): an `X-Forwarded-For` header is whatever the sender writes, so it is not
read here (a proxy the server trusts is uvicorn's business, `forwarded_allow_ips`).
"""

from __future__ import annotations

import asyncio
import hmac
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

AUTH_ENV = "AGNEWS_AUTH"
MAX_FAILURES = 5
WINDOW_S = 60.0
DELAY_S = 1.0
FAILED = (400, 401)  # Gradio's /login answers a wrong password 400, the JSON route 401
SWEEP_AT = 1024  # clients on record before the ones with no recent failure are dropped


class LoginError(ValueError):
    """A login given in a form the app cannot use; the message names where and how to fix it."""


@dataclass(frozen=True)
class Logins:
    """The people who may log in, by name, with their passwords."""

    passwords: Mapping[str, str]

    def check(self, user: str, password: str) -> bool:
        """Whether `password` is `user`'s, in time that does not depend on where a guess goes wrong
        (an unknown name is compared against itself, so it costs what a known one does)."""
        expected = self.passwords.get(user)
        given = password.encode()
        matches = hmac.compare_digest(given, given if expected is None else expected.encode())
        return expected is not None and matches


def parse_pairs(pairs: Iterable[str], where: str) -> list[tuple[str, str]]:
    """(user, password) for each `user:password` of `pairs` (the password may hold ':');
    LoginError naming `where` for an item without a name or a password."""
    parsed = []
    for number, pair in enumerate(pairs, start=1):
        user, sep, password = pair.partition(":")
        user = user.strip()
        if not (user and sep and password):
            raise LoginError(f"{where}, item {number}: expected user:password")
        parsed.append((user, password))
    return parsed


def read_logins(flags: Iterable[str] = (), file: Path | None = None, env: str | None = None) -> Logins | None:
    """The logins given on the command line (each flag a `user:pass` or a comma list of them), in
    `file` (one `user:pass` a line; blank lines and `#` comments skipped) and in `env` (a comma
    list, as `$AGNEWS_AUTH`); None when none is given. A name given twice is refused."""
    pairs = parse_pairs((item for flag in flags for item in flag.split(",")), "--auth")
    if file is not None:
        try:
            lines = [line.removesuffix("\r") for line in file.read_text(encoding="utf-8").split("\n")]
        except (OSError, UnicodeDecodeError) as exc:
            raise LoginError(f"--auth-file {file}: cannot be read ({exc})") from exc
        items = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
        pairs += parse_pairs(items, f"--auth-file {file}")
    if env:
        pairs += parse_pairs(env.split(","), f"${AUTH_ENV}")
    if not pairs:
        return None
    users = [user for user, _ in pairs]
    twice = sorted({user for user in users if users.count(user) > 1})
    if twice:
        raise LoginError(f"login {twice[0]!r} is given twice; give each person one login")
    return Logins(dict(pairs))


Scope = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[dict[str, Any]], Any]


class LoginThrottle:
    """ASGI middleware slowing one client's password guessing (see the module's docstring).

    A login try is a POST to `.../login` (Gradio's form) or any request with an `Authorization`
    header (the JSON route); it failed when answered 400 or 401.
    """

    def __init__(
        self,
        app: Callable[[Scope, Receive, Send], Any],
        *,
        failures: int = MAX_FAILURES,
        window_s: float = WINDOW_S,
        delay_s: float = DELAY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app, self.clock = app, clock
        self.failures, self.window_s, self.delay_s = failures, window_s, delay_s
        self._failed: dict[str, deque[float]] = {}
        self._turns: dict[str, asyncio.Lock] = {}
        self._sweep_at = SWEEP_AT

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _login_try(scope):
            await self.app(scope, receive, send)
            return
        client = scope["client"][0] if scope.get("client") else ""
        if self._recent_failures(client) < self.failures:
            await self._answer(client, scope, receive, send)
            return
        async with self._turns.setdefault(client, asyncio.Lock()):  # one held try at a time
            await asyncio.sleep(self.delay_s)
            await self._answer(client, scope, receive, send)

    async def _answer(self, client: str, scope: Scope, receive: Receive, send: Send) -> None:
        status = 0

        async def watched(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, receive, watched)
        if status in FAILED:
            self._failed.setdefault(client, deque()).append(self.clock())

    def _recent_failures(self, client: str) -> int:
        """Failures of `client` within the window. Once many clients are on record, those with no
        recent failure are forgotten (the record stays about as large as the set failing now, at a
        cost spread over the tries that grew it)."""
        since = self.clock() - self.window_s
        names = list(self._failed) if len(self._failed) >= self._sweep_at else [client]
        for name in names:
            times = self._failed.get(name, deque())
            while times and times[0] < since:
                times.popleft()
            if not times:
                self._failed.pop(name, None)
                if name in self._turns and not self._turns[name].locked():
                    del self._turns[name]
        self._sweep_at = max(SWEEP_AT, 2 * len(self._failed))
        return len(self._failed.get(client, ()))


def _login_try(scope: Scope) -> bool:
    posted_to_login = scope["method"] == "POST" and scope["path"].rstrip("/").endswith("/login")
    return posted_to_login or any(name == b"authorization" for name, _ in scope["headers"])
