"""Headers on every file Gradio's file route hands out, so that no file runs as a page of the app.

Gradio serves the files a page offers for download (exports, the report, batch outputs) from
`/gradio_api/file=...`, on the app's own origin. A file whose bytes someone else chose (a text in
an export, an uploaded HTML or SVG that reached Gradio's cache) must not run there with the app's
cookies and login. `sandbox` puts such a document in an opaque origin of its own (its scripts may
run, so the report's figures still draw when it is opened, but they reach nothing of the app), and
`nosniff` stops a browser from taking a CSV for HTML.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

FILE_ROUTE = "/file="
HEADERS = (
    (b"content-security-policy", b"sandbox allow-scripts allow-downloads"),
    (b"x-content-type-options", b"nosniff"),
)

Scope = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[dict[str, Any]], Any]


class FileRouteHeaders:
    """ASGI middleware adding `HEADERS` to the answers of Gradio's file route."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Any]) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or FILE_ROUTE not in scope["path"]:
            await self.app(scope, receive, send)
            return

        async def with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                extra = [header for header in HEADERS if header[0] not in names]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, with_headers)
