"""The page's temporary files, each with an owner and a lifetime.

Everything the page writes for a download (a CSV export, a classified batch file, the HTML report)
or for a child process (the cross-domain evaluation's log and result) lives in one folder per
server process, made under the system's temporary folder on first use and removed when the process
exits. Inside it:

- `sessions/<session>/<kind>/`: one browser session's files of one kind (an export, a batch
  output). A new file of a kind replaces the session's previous one, a job that fails leaves
  nothing, and the whole session folder goes when Gradio ends the session (`Blocks.unload`,
  wired by `agnews.ui.app`) or, for a client that never ends it, a day after its last file.
- `shared/<kind>/<version>/`: files every session may be handed, such as the report of a run at
  one version: written once, reused, replaced by the next version's.

Gradio copies each file it hands out into its own cache; `GRADIO_CACHE_SWEEP` (the app's
`delete_cache`) bounds that copy's life, and Gradio empties its cache when the server stops.
"""

from __future__ import annotations

import atexit
import contextlib
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from agnews.rundir.files import write_atomically

# Gradio's `delete_cache=(every, age)`: every hour, its cached copies older than an hour go.
GRADIO_CACHE_SWEEP = (3600, 3600)
# Where an event outside a browser session (a test, a direct call) keeps its files.
NO_SESSION = "no-session"
# A session that never says goodbye (an API client has no heartbeat, so no `unload`) loses its files
# this long after it last wrote one; the check runs when any session writes, at most this often.
STALE_SESSION_SECONDS = 24 * 3600
SWEEP_EVERY_SECONDS = 600


def _session_key() -> str:
    """The Gradio session of the event being handled. Gradio's own per-session cache reads the same
    context variable: the tabs' handlers then need no `gr.Request` parameter to own their files."""
    from gradio.context import LocalContext

    request = LocalContext.request.get(None)
    session = getattr(request, "session_hash", None)
    return _safe_name(session) if session else NO_SESSION


def take_upload(source: str | Path, folder: Path) -> Path:
    """The uploaded file `source` moved into `folder` (under its own name), out of Gradio's upload
    folder, so that Gradio's file route, which serves any file there to anyone who names its path,
    even after a restart, cannot hand it to another session; a file from anywhere else (a direct
    call, a test) is copied, never moved."""
    from gradio.utils import get_upload_folder

    source = Path(source)
    kept = folder / source.name
    if source.resolve().is_relative_to(Path(get_upload_folder()).resolve()):
        shutil.move(source, kept)
        with contextlib.suppress(OSError):  # not empty: another upload of the same bytes
            source.parent.rmdir()
    else:
        shutil.copyfile(source, kept)
    return kept


def _safe_name(name: str) -> str:
    """`name` as one path component (names can come from the user or the network)."""
    kept = "".join(c if c.isalnum() or c in "-_." else "_" for c in name[:120]).strip("._")
    return kept or "_"


class Scratch:
    """One server process's temporary folder (see the module's docstring)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._shared_lock = threading.Lock()
        self._swept = 0.0

    @classmethod
    def create(cls) -> Scratch:
        """A new folder under the system's temporary folder, removed when the process exits."""
        scratch = cls(Path(tempfile.mkdtemp(prefix="agnews-app-")))
        atexit.register(scratch.close)
        return scratch

    def session_folder(self, session: str | None = None) -> Path:
        """The folder of `session` (default: the session of the event being handled)."""
        return self.root / "sessions" / (_safe_name(session) if session else _session_key())

    def _kind_folder(self, kind: str) -> Path:
        """The current session's folder of `kind`, created; stale sessions are swept on the way."""
        self._sweep_stale_sessions()
        folder = self.session_folder() / _safe_name(kind)
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def _sweep_stale_sessions(self) -> None:
        now = time.time()
        if now - self._swept < SWEEP_EVERY_SECONDS:
            return
        self._swept = now
        sessions = self.root / "sessions"
        for session in sessions.iterdir() if sessions.is_dir() else []:
            try:  # a session's own events may be changing its folder meanwhile
                used = max([session.stat().st_mtime, *(kind.stat().st_mtime for kind in session.iterdir())])
            except FileNotFoundError:
                continue
            if now - used > STALE_SESSION_SECONDS:
                _remove(session)

    def replace(self, kind: str, name: str, write: Callable[[Path], None]) -> Path:
        """Write the current session's file of `kind` as `name` (atomically, through `write(tmp)`)
        and drop the session's previous file of that kind; returns its path."""
        folder = self._kind_folder(kind)
        path = folder / _safe_name(name)
        write_atomically(path, write)
        for other in folder.iterdir():
            if other != path and not other.name.startswith("."):  # "." : another's write in flight
                _remove(other)
        return path

    def temporary_folder(self, kind: str) -> Path:
        """A new, empty folder of `kind` in the current session. Its caller removes it when done;
        the session's end and the process's exit remove it if the caller never gets to."""
        return Path(tempfile.mkdtemp(dir=self._kind_folder(kind)))

    @contextlib.contextmanager
    def job(self, kind: str) -> Iterator[Path]:
        """An empty folder for one job of `kind` in the current session. When the job succeeds, the
        session's earlier jobs of that kind go; when it raises, its own folder goes."""
        folder = self.temporary_folder(kind)
        try:
            yield folder
        except BaseException:
            _remove(folder)
            self._prune(folder.parent)
            raise
        for other in folder.parent.iterdir():
            if other != folder:
                _remove(other)

    def shared_file(self, kind: str, version: str, name: str, write: Callable[[Path], None]) -> Path:
        """The file `name` of `kind` at `version`, one for every session: written (through
        `write(tmp)`) on the first call, handed out again after; writing a new version drops the
        older ones. A second caller waits for the first's write instead of making its own."""
        folder = self.root / "shared" / _safe_name(kind)
        path = folder / _safe_name(version) / _safe_name(name)
        with self._shared_lock:
            if not path.is_file():
                path.parent.mkdir(parents=True, exist_ok=True)
                write_atomically(path, write)
                for other in folder.iterdir():
                    if other != path.parent:
                        _remove(other)
        return path

    def _prune(self, folder: Path) -> None:
        """Remove `folder` and its parents up to the root while they are empty."""
        while folder != self.root and folder.is_relative_to(self.root):
            try:
                folder.rmdir()
            except OSError:  # not empty (or already gone with its session)
                return
            folder = folder.parent

    def end_session(self, session: str | None = None) -> None:
        """Remove the files of `session` (default: the current one): `Blocks.unload`'s handler."""
        folder = self.session_folder(session)
        _remove(folder)
        self._prune(folder.parent)

    def close(self) -> None:
        """Remove the whole folder (at exit; also safe to call twice)."""
        _remove(self.root)


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


_current: Scratch | None = None
_current_lock = threading.Lock()


def scratch() -> Scratch:
    """This process's `Scratch`, made on first use."""
    global _current
    with _current_lock:
        if _current is None:
            _current = Scratch.create()
        return _current
