"""The served app's attack surface, asserted: which files it serves, how large an upload may be, --share.

Requests go through `http.client`, which sends a path exactly as written: HTTP libraries that
normalise `../` away before sending would test nothing.
"""

from __future__ import annotations

import http.client
import json
from pathlib import Path
from types import ModuleType
from urllib.parse import urlsplit

import pytest
from helpers import ServedApp

from agnews.serving.csv_batch import MAX_BYTES

APP_PY = Path(__file__).resolve().parents[1] / "app.py"
BOUNDARY = "agnews-test-boundary"


def request(url: str, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    """(status, body) of one raw HTTP request to the served app."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def upload(url: str, content: bytes, name: str = "probe.csv") -> tuple[int, bytes]:
    """POST one file to Gradio's upload route, as the browser does before an event that takes a file."""
    body = (
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )
    headers = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    return request(url, "POST", "/gradio_api/upload", body, headers)


def test_only_uploaded_files_are_served_never_the_machines(served_app: ServedApp, quick_run: Path) -> None:
    # The check is not vacuous: a file the app received is served back.
    status, body = upload(served_app.url, b"text\nprobe-content\n")
    assert status == 200, body
    stored = json.loads(body)[0]
    assert request(served_app.url, "GET", f"/gradio_api/file={stored}") == (200, b"text\nprobe-content\n")

    secrets = {
        "/etc/passwd": b"root:",
        str(APP_PY): b"def main(",
        str(quick_run / "config.json"): b'"train"',  # the run is read by Python, never served
        str(quick_run / "model" / "model.safetensors"): b"",
    }
    paths = []
    for target in secrets:
        paths += [
            f"/gradio_api/file={target}",
            f"/file={target}",
            f"/gradio_api/file={target.replace('/', '%2F')}",
        ]
    paths += [
        "/gradio_api/file=../../app.py",
        "/gradio_api/file=..%2F..%2Fapp.py",
        "/gradio_api/file=app.py",
        "/file=../../../../etc/passwd",
        f"/gradio_api/file={Path(stored).parent}/../../../../../etc/passwd",
        "/static/../../../../etc/passwd",
        "/assets/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
    ]
    for path in paths:
        status, body = request(served_app.url, "GET", path)
        assert status != 200, f"{path} answered 200"
        assert b"root:" not in body and b"def main(" not in body, path


def test_an_event_cannot_be_pointed_at_a_server_file(served_app: ServedApp) -> None:
    """The batch endpoint takes a file: one not uploaded to the app is refused, never read."""
    payload = json.dumps({"data": [{"path": "/etc/passwd", "meta": {"_type": "gradio.FileData"}}]}).encode()
    status, body = request(
        served_app.url,
        "POST",
        "/gradio_api/call/classify_csv",
        payload,
        {"Content-Type": "application/json"},
    )
    assert status == 200, body
    event_id = json.loads(body)["event_id"]
    status, stream = request(served_app.url, "GET", f"/gradio_api/call/classify_csv/{event_id}")
    assert b"event: error" in stream and b"event: complete" not in stream
    assert b"root:" not in stream


def test_uploads_over_the_size_limit_are_refused(served_app: ServedApp) -> None:
    status, config = request(served_app.url, "GET", "/config")
    assert status == 200 and json.loads(config)["max_file_size"] == MAX_BYTES
    status, body = upload(served_app.url, b"x" * (MAX_BYTES + 1))
    assert status == 413, body


def test_share_warns_reaches_launch_and_is_refused_on_a_space(
    launcher: ModuleType, quick_run: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    launched: dict = {}

    class Launchable:
        def launch(self, **options: object) -> None:
            launched.update(options)

    monkeypatch.setattr("agnews.ui.build_app", lambda run, predictor, live=None, **_tabs: Launchable())
    monkeypatch.delenv("SPACE_ID", raising=False)
    assert launcher.main(["--share", "--run", str(quick_run)]) == 0
    assert launched["share"] is True
    assert launched["max_file_size"] == MAX_BYTES and launched["allowed_paths"] == []
    assert "WARNING: --share makes this app public" in capsys.readouterr().out
    assert launcher.main(["--run", str(quick_run)]) == 0
    assert launched["share"] is False and "WARNING" not in capsys.readouterr().out

    monkeypatch.setenv("SPACE_ID", "someone/agnews")
    with pytest.raises(SystemExit, match="not allowed on a Hugging Face Space"):
        launcher.main(["--share", "--run", str(quick_run)])
