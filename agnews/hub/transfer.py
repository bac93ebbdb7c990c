"""Push a run to the Hugging Face Hub, save the same upload as a folder, and pull runs back.

What the repository holds is in `agnews.hub.layout`, its model card in `agnews.hub.card`. A push
stages the upload folder out of symlinks to the run's files plus the card, and sends it with one
`upload_folder`; `--dry-run` writes the same folder with copies instead.

Reading an upload back (a Hub snapshot or a `--dry-run` folder) assembles the run directory layout
that `Run.load` knows out of symlinks in a cache folder of our own: `agnews_run/*` (manifest.json
included) at its top and the root model files in `model/`. No bytes are copied, huggingface_hub's
cache stays exactly as it made it, and `Run` keeps a single layout, so the app treats a pulled run
like a local one. A run made by an older agnews (no manifest.json) is uploaded as it is and loads
the same way as it does locally: `Run.load` reads it in memory and says how to migrate it.

Tokens come from the caller, `HF_TOKEN` or the Hub login (`huggingface_hub.get_token`) and are only
ever handed to huggingface_hub: never printed, logged, put in a message or written to a file.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx2
from huggingface_hub import HfApi, constants, get_token, snapshot_download
from huggingface_hub.errors import (
    HfHubHTTPError,
    HFValidationError,
    LocalEntryNotFoundError,
    OfflineModeIsEnabled,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.utils import validate_repo_id

from agnews.hub.card import build_model_card
from agnews.hub.layout import CARD, RUN_SUBFOLDER, upload_files
from agnews.present.report import REPORT_FILE, build_report
from agnews.rundir import parts
from agnews.rundir.files import RunError, building_folder
from agnews.rundir.run import Run

LOGIN_HINT = "run `hf auth login` or set HF_TOKEN to a token with write access"
PUSH_OFFLINE_HINT = "or save the folder with `agnews push RUN --repo-id ... --dry-run --out DIR` for later"
PULL_OFFLINE_HINT = "or load a local run directory instead"


class HubError(RuntimeError):
    """The Hub cannot be used right now (no login, offline, no access); the message says what to do."""


# --------------------------------------------------------------------------------------------------
# The upload folder
# --------------------------------------------------------------------------------------------------


def _link_or_copy(source: Path, target: Path) -> None:
    """Symlink (no bytes copied); copy where the system refuses symlinks (Windows without rights)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        target.symlink_to(source.absolute())
    except OSError:
        shutil.copy2(source, target)


def _fill_upload_folder(run: Run, repo_id: str, folder: Path, *, link: bool) -> None:
    for path_in_repo, source in upload_files(run).items():
        target = folder / path_in_repo
        if link:
            _link_or_copy(source, target)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    build_model_card(run, repo_id).save(folder / CARD)
    (folder / REPORT_FILE).write_text(build_report(run), encoding="utf-8")


def _check_repo_id(repo_id: str) -> None:
    """Checked before any work: a push needs a full USER/NAME id (the card's snippet names it)."""
    with _hub_errors(repo_id, PUSH_OFFLINE_HINT):
        validate_repo_id(repo_id)
    if "/" not in repo_id:
        raise HubError(f"{repo_id!r}: give the namespace too, as USER/NAME (or ORG/NAME)")


def save_upload_folder(run_path: str | Path, out_dir: str | Path, *, repo_id: str) -> Path:
    """Write exactly what `push_run` would upload to `out_dir` (`agnews push --dry-run`).

    The folder is complete on its own (files are copied, not linked), so it can be inspected, loaded
    with `pipeline(model=out_dir)` or `load_run_from_folder`, or uploaded later by any means.
    """
    _check_repo_id(repo_id)
    run = Run.load(run_path)
    out = Path(out_dir).expanduser()
    if out.exists():
        raise RunError(f"{out}: already exists; choose another --out")
    with building_folder(out) as tmp:
        _fill_upload_folder(run, repo_id, tmp, link=False)
    return out.resolve()


# --------------------------------------------------------------------------------------------------
# Push and pull
# --------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _hub_errors(repo_id: str, offline_hint: str) -> Iterator[None]:
    """Turn huggingface_hub's network, auth and lookup failures into a HubError that says what to do.

    Server messages are passed on (they never contain the token); request headers never are.
    """
    try:
        yield
    except OfflineModeIsEnabled as exc:
        raise HubError(
            f"offline mode is on (HF_HUB_OFFLINE), so the Hub is not contacted; unset it, {offline_hint}"
        ) from exc
    except LocalEntryNotFoundError as exc:
        cause = (
            "offline mode is on (HF_HUB_OFFLINE)"
            if constants.is_offline_mode()
            else "the Hub cannot be reached"
        )
        raise HubError(
            f"{repo_id} is not in the local Hugging Face cache and {cause}; connect to the internet, "
            f"{offline_hint}"
        ) from exc
    except HFValidationError as exc:
        raise HubError(f"{repo_id!r} is not a valid repo id ({exc}); use USER/NAME") from exc
    except httpx2.TransportError as exc:
        raise HubError(
            f"cannot reach the Hub at {constants.ENDPOINT} ({type(exc).__name__}: {exc}); "
            f"check the connection, {offline_hint}"
        ) from exc
    except RepositoryNotFoundError as exc:
        raise HubError(
            f"{repo_id}: no such repository, or it is private or gated and this login has no access; "
            f"check the id, or {LOGIN_HINT}"
        ) from exc
    except RevisionNotFoundError as exc:
        raise HubError(f"{repo_id}: no such revision ({exc.server_message or exc})") from exc
    except HfHubHTTPError as exc:
        status = exc.response.status_code if exc.response is not None else None
        detail = exc.server_message or str(exc).partition("\n")[0]
        if status == 401:
            raise HubError(f"the Hub rejected the token (HTTP 401: {detail}); {LOGIN_HINT}") from exc
        if status == 403:
            raise HubError(
                f"no write access to {repo_id} (HTTP 403: {detail}); use a namespace you own and a "
                "token with write permission"
            ) from exc
        raise HubError(f"the Hub answered HTTP {status} for {repo_id}: {detail}") from exc


def _resolve_token(token: str | None) -> str:
    """The caller's token, else HF_TOKEN, else the stored Hub login; a HubError when there is none."""
    resolved = token or get_token()
    if not resolved:
        raise HubError(f"not logged in to the Hugging Face Hub; {LOGIN_HINT}")
    return resolved


def push_run(run_path: str | Path, repo_id: str, private: bool = False, token: str | None = None) -> str:
    """Create `repo_id` if needed and upload the run with one `upload_folder`; return the repo's URL.

    The repository then mirrors this run: remote files the run does not have (an older run's map,
    say) are deleted in the same upload, so analysis files of two runs never sit side by side.
    `private` only applies when the repository is created; an existing one keeps its visibility.
    """
    _check_repo_id(repo_id)
    run = Run.load(run_path)
    secret = _resolve_token(token)
    api = HfApi()
    with tempfile.TemporaryDirectory(prefix="agnews-push-") as staging:
        _fill_upload_folder(run, repo_id, Path(staging), link=True)
        with _hub_errors(repo_id, PUSH_OFFLINE_HINT):
            repo_url = api.create_repo(repo_id, token=secret, private=private, exist_ok=True)
            api.upload_folder(
                repo_id=repo_id,
                folder_path=staging,
                token=secret,
                commit_message=f"Upload agnews run {run.name}",
                delete_patterns="*",
            )
    return str(repo_url)


def default_cache_dir() -> Path:
    """Where pulled runs are assembled: beside huggingface_hub's cache, which holds the bytes."""
    return Path(constants.HF_HOME) / "agnews" / "runs"


def load_run_from_folder(
    folder: str | Path, *, name: str | None = None, cache_dir: str | Path | None = None
) -> Run:
    """Load an upload folder (a Hub snapshot or a `--dry-run` folder) as a Run.

    A run directory of symlinks is (re)built under `cache_dir`, in a subfolder keyed by the upload
    folder's location, and called `name` (default: the folder's name), which the app shows as
    `Run.name`. Rebuilding each time is cheap and never leaves links to files that have since
    changed or gone.
    """
    folder = Path(folder).expanduser().absolute()
    run_part = folder / RUN_SUBFOLDER
    if not run_part.is_dir():
        raise RunError(f"{run_part}: missing; not a folder written by `agnews push`")
    digest = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:16]
    target = Path(cache_dir or default_cache_dir()).expanduser() / digest / (name or folder.name)
    with building_folder(target, overwrite=True) as tmp:
        for source in sorted(run_part.rglob("*")):  # part families' files sit in folders
            if source.is_file():
                _link_or_copy(source, tmp / source.relative_to(run_part))
        for source in folder.iterdir():
            if source.is_file() and source.name != CARD and not source.name.startswith("."):
                _link_or_copy(source, tmp / parts.MODEL_DIR / source.name)
    return Run.load(target)


def load_run_from_hub(
    repo_id: str, revision: str | None = None, *, cache_dir: str | Path | None = None
) -> Run:
    """Download a run pushed with `push_run` into the Hugging Face cache and load it.

    snapshot_download reuses what the cache already holds and, with HF_HUB_OFFLINE=1, loads the cached
    snapshot without contacting the Hub. Private repositories need a login (HF_TOKEN or `hf auth login`).
    """
    with _hub_errors(repo_id, PULL_OFFLINE_HINT):
        snapshot = snapshot_download(repo_id, revision=revision)
    return load_run_from_folder(snapshot, name=repo_id.split("/")[-1], cache_dir=cache_dir)
