"""The served app's attack surface, asserted: which files it serves, how large an upload may be, --share,
the logins (one per person, from a file or the environment, a brake on guessing).

Requests go through `http.client`, which sends a path exactly as written: HTTP libraries that
normalise `../` away before sending would test nothing.
"""

from __future__ import annotations

import base64
import http.client
import json
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType, SimpleNamespace
from urllib.parse import urlsplit

import httpx
import pytest
from helpers import ServedApp

from agnews.serving.csv_batch import MAX_BYTES
from agnews.serving.logins import AUTH_ENV, Logins

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


# --------------------------------------------------------------------------------------------------
# Logins: one per person, kept out of `ps`, a brake on guessing, a warning where they travel in clear
# --------------------------------------------------------------------------------------------------

LOGINS = {"ann": "pw-ann", "bob": "pw-bob"}


@pytest.fixture(scope="module")
def login_url() -> Iterator[str]:
    """A bare page (no run, no model) launched with the app's launch options and two logins."""
    import gradio as gr

    from agnews.serving.predictors import Predictors
    from agnews.ui.app import launch_options

    with gr.Blocks() as demo:
        gr.Markdown("behind a login")
    bare_run = SimpleNamespace(path=Path("bare"), name="bare", fact=lambda fact: None)
    bare_model = SimpleNamespace(backend="none", classes=("a", "b"), clean=str.strip)
    options = launch_options(
        Predictors(bare_run, bare_model, lambda _: bare_model), lambda: bare_run, Logins(LOGINS)
    )
    _, url, _ = demo.launch(prevent_thread_lock=True, quiet=True, **options)
    try:
        yield url.rstrip("/")
    finally:
        demo.close()


def client_at(address: str) -> httpx.Client:
    """An HTTP client whose requests come from `address` (any 127.x.y.z reaches a loopback server)."""
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=30)


def timed_login(
    client: httpx.Client, url: str, user: str, password: str, **headers: str
) -> tuple[int, float]:
    """(status, seconds) of one try at Gradio's login form."""
    started = time.perf_counter()
    response = client.post(f"{url}/login", data={"username": user, "password": password}, headers=headers)
    return response.status_code, time.perf_counter() - started


@pytest.mark.slow
def test_each_person_has_a_login_of_their_own(login_url: str) -> None:
    with client_at("127.0.0.3") as client:
        for user, password in LOGINS.items():
            assert timed_login(client, login_url, user, password)[0] == 200
            basic = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
            assert (
                client.get(f"{login_url}/api/classify", headers={"Authorization": basic}).status_code == 200
            )
        assert timed_login(client, login_url, "ann", LOGINS["bob"])[0] == 400  # bob's password is bob's
        assert timed_login(client, login_url, "zed", LOGINS["ann"])[0] == 400


@pytest.mark.slow
def test_failed_logins_slow_that_client_and_no_other(login_url: str) -> None:
    with client_at("127.0.0.2") as guesser, client_at("127.0.0.4") as other:
        for _ in range(5):
            status, seconds = timed_login(guesser, login_url, "ann", "guess")
            assert status == 400 and seconds < 0.9
        status, seconds = timed_login(guesser, login_url, "ann", "guess")
        assert status == 400 and seconds >= 1.0
        # A forwarded-for header is the sender's word: it does not make the guesser someone else.
        status, seconds = timed_login(guesser, login_url, "ann", "guess", **{"X-Forwarded-For": "10.9.8.7"})
        assert status == 400 and seconds >= 1.0
        wrong = "Basic " + base64.b64encode(b"ann:guess").decode()  # the JSON route's login too
        started = time.perf_counter()
        assert guesser.get(f"{login_url}/api/classify", headers={"Authorization": wrong}).status_code == 401
        assert time.perf_counter() - started >= 1.0

        with ThreadPoolExecutor(1) as pool:
            held = pool.submit(timed_login, guesser, login_url, "ann", LOGINS["ann"])
            time.sleep(0.2)  # the guesser's try is being held
            assert timed_login(other, login_url, "ann", "typo")[1] < 0.5
            status, seconds = timed_login(other, login_url, "ann", LOGINS["ann"])
            assert status == 200 and seconds < 0.5
            assert held.result()[0] == 200 and held.result()[1] >= 1.0  # held, then answered


def test_logins_come_from_flags_a_file_or_the_environment(
    launcher: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(AUTH_ENV, "cy:pw-c,dee:p:w")
    file = tmp_path / "logins.txt"
    file.write_text("# the team\nbob:pw b\r\n\n", encoding="utf-8")
    argv = ["--auth", "ann:s3:cret", "--auth", "eve:1,fay:2", "--auth-file", str(file)]
    logins = launcher.logins(launcher.parse_args(argv))
    assert dict(logins.passwords) == {
        "ann": "s3:cret",
        "eve": "1",
        "fay": "2",
        "bob": "pw b",
        "cy": "pw-c",
        "dee": "p:w",
    }
    assert logins.check("dee", "p:w") and not logins.check("dee", "p:W") and not logins.check("zed", "p:w")
    monkeypatch.delenv(AUTH_ENV)
    assert launcher.logins(launcher.parse_args([])) is None
    refused = {
        ("--auth", "ann"): "--auth, item 1: expected user:password",
        ("--auth", "ann:1,ann:2"): "login 'ann' is given twice",
        ("--auth-file", str(tmp_path / "missing")): "cannot be read",
    }
    for args, message in refused.items():
        with pytest.raises(SystemExit, match=re.escape(message)):
            launcher.logins(launcher.parse_args(list(args)))


@pytest.mark.parametrize(
    ("argv", "warns"),
    [
        (["--host", "0.0.0.0"], True),
        (["--host", "0.0.0.0", "--ssl-certfile", "cert.pem", "--ssl-keyfile", "key.pem"], False),
        ([], False),  # loopback: the password never leaves the machine
    ],
)
def test_a_login_over_plain_http_on_a_reachable_host_warns(
    argv: list[str],
    warns: bool,
    launcher: ModuleType,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    served: dict = {}
    monkeypatch.setattr(launcher, "resolve_run", lambda args: SimpleNamespace())
    monkeypatch.setattr(launcher, "start_background", lambda run, data: None)
    monkeypatch.setattr(launcher, "serve", lambda args, auth, *rest: served.update(auth=auth) or 0)
    for name in ("SPACE_ID", "GRADIO_SERVER_NAME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(AUTH_ENV, "ann:pw")
    assert launcher.main(argv) == 0
    assert served["auth"].check("ann", "pw")  # from the environment: nothing in `ps`
    assert ("WARNING: logins on a reachable --host over plain HTTP" in capsys.readouterr().out) is warns
    monkeypatch.delenv(AUTH_ENV)
    assert launcher.main(argv) == 0
    assert served["auth"] is None and "WARNING" not in capsys.readouterr().out  # no login, no warning


def test_a_served_file_cannot_run_as_a_page_of_the_app(served_app: ServedApp) -> None:
    """An uploaded HTML file is still served back while its upload is fresh: it comes in a sandbox
    of its own origin (scripts reach nothing of the app) and never sniffed as another type."""
    status, body = upload(served_app.url, b"<script>fetch('/api/classify')</script>", "page.html")
    assert status == 200, body
    stored = json.loads(body)[0]
    parts = urlsplit(served_app.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.request("GET", f"/gradio_api/file={stored}")
        response = connection.getresponse()
        response.read()
    finally:
        connection.close()
    assert response.status == 200
    assert "sandbox" in response.getheader("content-security-policy", "")
    assert "allow-same-origin" not in response.getheader("content-security-policy", "")
    assert response.getheader("x-content-type-options") == "nosniff"


def test_a_batch_upload_is_taken_out_of_gradios_reach(served_app: ServedApp) -> None:
    content = b'text\nStocks fall as oil climbs\n=HYPERLINK("http://x")\n'
    status, body = upload(served_app.url, content, "mine.csv")
    assert status == 200, body
    stored = json.loads(body)[0]
    payload = json.dumps({"data": [{"path": stored, "meta": {"_type": "gradio.FileData"}}, False]}).encode()
    headers = {"Content-Type": "application/json"}
    status, body = request(served_app.url, "POST", "/gradio_api/call/classify_csv", payload, headers)
    assert status == 200, body
    event_id = json.loads(body)["event_id"]
    status, stream = request(served_app.url, "GET", f"/gradio_api/call/classify_csv/{event_id}")
    assert b"event: complete" in stream, stream[-500:]
    assert not Path(stored).exists()  # moved into the session's job folder, served to no one
    status, body = request(served_app.url, "GET", f"/gradio_api/file={stored}")
    assert status != 200 and content not in body
