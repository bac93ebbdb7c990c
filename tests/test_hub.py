"""Hub deployment up to the wire: the card, the upload folder, push and pull errors, token hygiene.

Nothing here reaches the Hub. huggingface_hub's public API is replaced by a recording fake where a
test needs a successful call, and by a refused local port or offline mode where it needs a failure.
"""

from __future__ import annotations

import logging
import re
import shutil
import socket
from pathlib import Path
from typing import Any

import httpx2
import pytest
from helpers import as_legacy
from huggingface_hub import ModelCard, constants, metadata_load
from huggingface_hub.errors import HfHubHTTPError
from huggingface_hub.repocard_data import model_index_to_eval_results

from agnews.analyses.calibration.schema import PART as CALIBRATION
from agnews.analyses.map.schema import PART as MAP
from agnews.cli import main
from agnews.dataset.ag_news import AG_NEWS_CLASSES as LABELS
from agnews.hub import transfer as hub
from agnews.hub.card import build_model_card, hub_base_model
from agnews.hub.transfer import HubError, load_run_from_folder, push_run
from agnews.rundir import parts
from agnews.rundir.files import RunError, pickle_files
from agnews.rundir.run import Run

REPO_ID = "someone/agnews-quick"
FAKE_TOKEN = "hf_FakeTokenNeverWrittenAnywhere1234"
RUN_FILES = {
    "manifest.json",
    "config.json",
    "metrics.json",
    "predictions.parquet",
    "data_stats.json",
    "train_log.json",
    "embeddings.safetensors",
    "baseline.json",
    "map.parquet",
    "map.json",
    "serving.onnx",
    "serving_int8.onnx",
    "calibration.json",
    "label_issues_test.parquet",
    "label_issues_train.parquet",
    "label_issues_train.json",
    "train_embeddings.parquet",
    "train_embeddings.safetensors",
    "slices.parquet",
    "slices.json",
    "dataset_checks.json",
    "robustness.json",
}


@pytest.fixture(scope="module")
def card_text(synthetic_run: Path) -> str:
    return str(build_model_card(Run.load(synthetic_run), REPO_ID))


@pytest.fixture(scope="module")
def quick_card_text(quick_run: Path) -> str:
    """The real quick run's card: the tests that pin its base model and data files read this one."""
    return str(build_model_card(Run.load(quick_run), REPO_ID))


@pytest.fixture(scope="module")
def upload_dir(synthetic_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The `--dry-run` folder of the synthetic run, written once through the command line."""
    out = tmp_path_factory.mktemp("dry-run") / "upload"
    assert main(["push", str(synthetic_run), "--repo-id", REPO_ID, "--dry-run", "--out", str(out)]) == 0
    return out


@pytest.fixture
def no_login(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No token anywhere huggingface_hub looks: environment, token files."""
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_OIDC_RESOURCE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "no-token"))
    monkeypatch.setattr(constants, "HF_STORED_TOKENS_PATH", str(tmp_path / "no-stored-tokens"))


class RecordingHfApi:
    """Stands in for `HfApi`: records calls and what `upload_folder` would send, bytes included."""

    calls: list[tuple[str, dict[str, Any]]]
    uploaded: dict[str, bytes]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        RecordingHfApi.calls = []
        RecordingHfApi.uploaded = {}

    def create_repo(self, repo_id: str, **kwargs: Any) -> str:
        self.calls.append(("create_repo", {"repo_id": repo_id, **kwargs}))
        return f"https://huggingface.co/{repo_id}"

    def upload_folder(self, **kwargs: Any) -> None:
        self.calls.append(("upload_folder", kwargs))
        folder = Path(kwargs["folder_path"])
        # The same walk upload_folder does: glob, keep what is a file (symlinks followed), read it.
        RecordingHfApi.uploaded = {
            p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.glob("**/*"))
            if p.is_file()
        }


def _card_metrics(text: str) -> dict[str, float]:
    rows = re.findall(r"^\| (accuracy|weighted F1|macro F1) \| ([\d.]+) \|$", text, re.M)
    return {name: float(value) for name, value in rows}


# --------------------------------------------------------------------------------------------------
# The model card
# --------------------------------------------------------------------------------------------------


def test_card_metadata_parses_and_equals_metrics(
    quick_run: Path, quick_card_text: str, tmp_path: Path
) -> None:
    path = tmp_path / "README.md"
    path.write_text(quick_card_text, encoding="utf-8")
    test = Run.load(quick_run).metrics.test

    card = ModelCard.load(path)
    assert card.data.base_model == "sentence-transformers/all-MiniLM-L6-v2"
    assert card.data.datasets == ["fancyzhx/ag_news"]
    assert card.data.license == "apache-2.0"
    assert card.data.pipeline_tag == "text-classification"
    assert card.data.library_name == "transformers"

    metadata = metadata_load(path)
    assert metadata is not None
    name, results = model_index_to_eval_results(metadata["model-index"])
    assert name == "agnews-quick"
    assert {(r.dataset_type, r.dataset_split, r.task_type) for r in results} == {
        ("fancyzhx/ag_news", "test", "text-classification")
    }
    by_kind = {(r.metric_type, (r.metric_args or {}).get("average")): r.metric_value for r in results}
    assert by_kind == {
        ("accuracy", None): test.accuracy,
        ("f1", "weighted"): test.f1_weighted,
        ("f1", "macro"): test.f1_macro,
    }


def test_card_body_numbers_equal_metrics(synthetic_run: Path, card_text: str) -> None:
    run = Run.load(synthetic_run)
    test = run.metrics.test
    assert _card_metrics(card_text) == {
        "accuracy": round(test.accuracy, 4),
        "weighted F1": round(test.f1_weighted, 4),
        "macro F1": round(test.f1_macro, 4),
    }
    for name in LABELS:
        c = test.per_class[name]
        row = f"| {name} | {c.precision:.4f} | {c.recall:.4f} | {c.f1:.4f} | {c.support} |"
        assert row in card_text
    for name, counts in zip(LABELS, test.confusion_matrix, strict=True):
        assert f"| {name} | {' | '.join(str(n) for n in counts)} |" in card_text
    train = run.config.train
    for setting, value in [
        ("epochs", train.epochs),
        ("learning_rate", train.learning_rate),
        ("batch_size", train.batch_size),
        ("max_length", train.max_length),
        ("seed", train.seed),
    ]:
        assert f"| {setting} | `{value}` |" in card_text
    for library, version in run.config.versions.items():
        assert f"| {library} | `{version}` |" in card_text
    assert run.baseline is not None
    assert f"accuracy {run.baseline.accuracy:.4f} and macro F1 {run.baseline.f1_macro:.4f}" in card_text
    assert f"Validation accuracy of the kept epoch: {run.training.validation['accuracy']:.4f}" in card_text
    assert f"Training time: {run.training.seconds:.0f} s on `{run.training.device}`" in card_text


def test_card_is_honest_about_the_small_sample(quick_run: Path, quick_card_text: str) -> None:
    """The quick run saw a slice of the offline 5k sample and a test subset: the card says so, with counts."""
    card_text = quick_card_text
    run = Run.load(quick_run)
    rows = run.config.data.rows
    seen = rows["train"] + rows["validation"]
    assert f"**This model saw {seen:,} of the 120,000 rows of the AG News train split**" in card_text
    assert f"train {rows['train']:,}, validation {rows['validation']:,}, test {rows['test']:,}" in card_text
    assert "`train_sample_5000.csv`" in card_text
    assert f"Accuracy ({rows['test']:,} of 7,600 test rows)" in card_text
    assert f"read from a local copy (`{Path(run.metrics.test_origin).name}`)" in card_text
    assert "/work/" not in card_text and "site-packages" not in card_text  # no local paths


def test_card_renders_when_the_review_threshold_keeps_no_test_row(synthetic_run: Path) -> None:
    """A small model's threshold can sit above every test row's confidence: no accuracy to quote."""
    import dataclasses

    run = Run.load(synthetic_run)
    assert run.get(CALIBRATION) is not None and run.get(CALIBRATION).review_threshold is not None
    above_all = min(1.0, float(run.predictions["confidence"].max()) + 1e-6)  # the card counts the rows
    run.loaded[CALIBRATION.name] = dataclasses.replace(run.get(CALIBRATION), review_threshold=above_all)
    card = str(build_model_card(run, "someone/agnews"))
    assert re.search(r"keeps\s+0\.0% of the rows\.", card)


def test_card_structure(quick_card_text: str) -> None:
    """Pins the card's shape the way setfit does: metadata, then the sections in order."""
    pattern = (
        r"^---\n"
        r"base_model: sentence-transformers/all-MiniLM-L6-v2\n"
        r"datasets:\n- fancyzhx/ag_news\n"
        r".*license: apache-2\.0\n"
        r".*pipeline_tag: text-classification\n"
        r".*model-index:\n- name: agnews-quick\n  results:\n  - task:\n      type: text-classification\n"
        r".*      type: fancyzhx/ag_news\n      split: test\n"
        r".*\n---\n\n"
        r"# agnews-quick\n\n"
        r"A classifier of English news .*\n\n"
        r"## Results on the AG News test split\n\n"
        r"Computed by agnews on [\d,]+ rows of the test split.*"
        r"\| accuracy \| 0\.\d{4} \|\n\| weighted F1 \| 0\.\d{4} \|\n\| macro F1 \| 0\.\d{4} \|\n\n"
        r"### Per class\n\n\| class \| precision \| recall \| F1 \| support \|\n\|---\|.*"
        r"\| World \| [\d.]+ \| [\d.]+ \| [\d.]+ \| \d+ \|\n.*"
        r"### Confusion matrix \(rows: true class, columns: predicted class\)\n\n"
        r"\| true \\ predicted \| World \| Sports \| Business \| Sci/Tech \|\n.*"
        r"For comparison, a .*reaches accuracy 0\.\d{4}.*the gain is what fine-tuning adds\.\n\n"
        r"(?:.*\n\n)?## Calibration\n\n.*percentile-bootstrap 95%.*\| ECE \(15 bins\) \|.*\n\n"
        r"## How to use\n\n```python\nfrom transformers import pipeline\n\n"
        r'classifier = pipeline\("text-classification", model="someone/agnews-quick"\)\n.*```\n.*'
        r"## Training\n\nFine-tuned from \[`sentence-transformers/all-MiniLM-L6-v2`\].*"
        r"### Hyperparameters\n\n\| setting \| value \|\n.*"
        r"### Framework versions\n\n\| library \| version \|\n\|---\|---\|\n\| python \| `3\.[\d.]+` \|\n.*"
        r"## Intended use and limitations\n\n.*non-commercial.*"
        r"## Files\n\n.*`agnews_run/`.*`manifest\.json`.*load_run_from_hub\(\"someone/agnews-quick\"\).*\n$"
    )
    assert re.fullmatch(pattern, quick_card_text, re.DOTALL), quick_card_text


@pytest.mark.parametrize(
    ("base_model", "expected"),
    [
        ("minilm", "sentence-transformers/all-MiniLM-L6-v2"),
        ("distilbert-base-uncased", "distilbert-base-uncased"),
        ("google-bert/bert-base-uncased", "google-bert/bert-base-uncased"),
        ("./models/mine", None),
        ("/home/someone/models/mine", None),
        ("~/models/mine", None),
    ],
)
def test_card_base_model_is_a_hub_id_or_absent(base_model: str, expected: str | None) -> None:
    assert hub_base_model(base_model) == expected


# --------------------------------------------------------------------------------------------------
# The upload folder (--dry-run) and reading it back
# --------------------------------------------------------------------------------------------------


def test_dry_run_folder_has_the_hub_layout(upload_dir: Path, synthetic_run: Path) -> None:
    root = {p.name for p in upload_dir.iterdir() if p.is_file()}
    assert root == {"README.md", "report.html", *(p.name for p in (synthetic_run / "model").iterdir())}
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= root
    assert {p.name for p in (upload_dir / "agnews_run").iterdir()} == RUN_FILES
    assert (upload_dir / "agnews_run" / "config.json").read_bytes() == (
        synthetic_run / "config.json"
    ).read_bytes()
    assert not any(p.is_symlink() for p in upload_dir.rglob("*"))
    assert pickle_files(upload_dir) == []


def test_dry_run_folder_works_with_a_plain_pipeline(upload_dir: Path) -> None:
    from transformers import pipeline

    classifier = pipeline("text-classification", model=str(upload_dir))
    [result] = classifier("The home team won the league title after a late goal.")
    assert result["label"] in LABELS


def test_dry_run_folder_loads_as_a_run(upload_dir: Path, synthetic_run: Path, tmp_path: Path) -> None:
    original = Run.load(synthetic_run)
    run = load_run_from_folder(upload_dir, cache_dir=tmp_path / "cache")
    assert run.name == "upload" and run.warnings == []
    assert (run.path / "manifest.json").is_file()  # a run of today's layout, not a legacy one
    assert run.manifest == original.manifest
    assert run.config == original.config and run.metrics == original.metrics
    assert run.training == original.training and run.data_stats == original.data_stats
    assert run.baseline is not None and run.baseline == original.baseline
    assert run.predictions.equals(original.predictions)
    assert (
        run.embeddings is not None
        and run.get(MAP) is not None
        and run.get(MAP).info == original.get(MAP).info
    )
    assert (run.model_path / "model.safetensors").resolve() == (upload_dir / "model.safetensors").resolve()
    # Loading again rebuilds the links in place rather than piling up copies.
    load_run_from_folder(upload_dir, cache_dir=tmp_path / "cache")
    assert len(list((tmp_path / "cache").iterdir())) == 1


def test_dry_run_refuses_an_existing_out_folder(
    synthetic_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "taken").mkdir()
    argv = ["push", str(synthetic_run), "--repo-id", REPO_ID, "--dry-run", "--out", str(tmp_path / "taken")]
    assert main(argv) == 2
    assert "agnews push: error:" in capsys.readouterr().err


def test_dry_run_and_out_go_together(synthetic_run: Path) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["push", str(synthetic_run), "--repo-id", REPO_ID, "--dry-run"])
    assert exited.value.code == 2


def test_a_folder_that_is_not_an_upload_is_refused(synthetic_run: Path, tmp_path: Path) -> None:
    with pytest.raises(RunError, match="agnews_run: missing"):
        load_run_from_folder(synthetic_run, cache_dir=tmp_path)


def test_load_run_from_hub_loads_a_cached_snapshot(
    upload_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A snapshot shaped like huggingface_hub's cache (files are symlinks to blobs) loads as a Run."""
    snapshot = tmp_path / "hub" / "models--someone--agnews-quick" / "snapshots" / "0123abcd"
    for source in upload_dir.rglob("*"):
        if source.is_file():
            link = snapshot / source.relative_to(upload_dir)
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(source)
    before = sorted(str(p) for p in snapshot.rglob("*"))
    requested: list[tuple[str, str | None]] = []

    def fake_snapshot_download(repo_id: str, revision: str | None = None, **kwargs: Any) -> str:
        requested.append((repo_id, revision))
        return str(snapshot)

    monkeypatch.setattr(hub, "snapshot_download", fake_snapshot_download)
    monkeypatch.setattr(hub, "default_cache_dir", lambda: tmp_path / "agnews-cache")

    run = hub.load_run_from_hub(REPO_ID)
    assert requested == [(REPO_ID, None)]
    assert run.name == "agnews-quick" and run.warnings == []
    assert run.path.is_relative_to(tmp_path / "agnews-cache")
    assert run.metrics == parts.read_json_part(parts.Metrics, upload_dir / "agnews_run" / "metrics.json")
    assert run.has("baseline") and run.has("map")
    assert sorted(str(p) for p in snapshot.rglob("*")) == before  # the Hub cache is left as it was


def test_pull_of_an_uncached_repo_offline_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    with pytest.raises(HubError, match=r"not in the local Hugging Face cache and offline mode is on"):
        hub.load_run_from_hub(REPO_ID, cache_dir=tmp_path)


# --------------------------------------------------------------------------------------------------
# Push: errors before and at the wire, and what would be sent
# --------------------------------------------------------------------------------------------------


def test_push_without_a_login_says_how_to_log_in(
    synthetic_run: Path, no_login: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(hub, "HfApi", None)  # any attempt to reach the Hub would fail loudly
    assert main(["push", str(synthetic_run), "--repo-id", REPO_ID]) == 2
    assert (
        "agnews push: error: not logged in to the Hugging Face Hub; run `hf auth login` or set HF_TOKEN"
        in (capsys.readouterr().err)
    )


def test_push_in_offline_mode_says_what_to_do(synthetic_run: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", FAKE_TOKEN)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(HubError, match=r"offline mode is on \(HF_HUB_OFFLINE\).*--dry-run --out DIR"):
        push_run(synthetic_run, REPO_ID)


def test_push_to_an_unreachable_hub_says_so(synthetic_run: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The real huggingface_hub client against a local port nobody listens on: a HubError naming it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("HF_TOKEN", FAKE_TOKEN)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "ENDPOINT", f"http://127.0.0.1:{port}")
    with pytest.raises(HubError, match=rf"cannot reach the Hub at http://127\.0\.0\.1:{port} \(ConnectError"):
        push_run(synthetic_run, REPO_ID)


@pytest.mark.parametrize(
    ("status", "message"),
    [(401, r"the Hub rejected the token \(HTTP 401"), (403, r"no write access to someone/agnews-quick")],
)
def test_push_rejected_by_the_hub_says_why(
    synthetic_run: Path, monkeypatch: pytest.MonkeyPatch, status: int, message: str
) -> None:
    class RejectingHfApi(RecordingHfApi):
        def create_repo(self, repo_id: str, **kwargs: Any) -> str:
            request = httpx2.Request("POST", "https://huggingface.co/api/repos/create")
            raise HfHubHTTPError("rejected", response=httpx2.Response(status, request=request))

    monkeypatch.setattr(hub, "HfApi", RejectingHfApi)
    with pytest.raises(HubError, match=message):
        push_run(synthetic_run, REPO_ID, token=FAKE_TOKEN)


def test_push_sends_the_dry_run_layout_and_never_writes_the_token(
    synthetic_run: Path,
    upload_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("HF_TOKEN", FAKE_TOKEN)
    monkeypatch.setattr(hub, "HfApi", RecordingHfApi)
    caplog.set_level(logging.DEBUG)
    out = tmp_path / "dry"
    assert main(["push", str(synthetic_run), "--repo-id", REPO_ID, "--private"]) == 0
    assert main(["push", str(synthetic_run), "--repo-id", REPO_ID, "--dry-run", "--out", str(out)]) == 0
    load_run_from_folder(out, cache_dir=tmp_path / "cache")

    (create, create_args), (upload, upload_args) = RecordingHfApi.calls
    assert (create, upload) == ("create_repo", "upload_folder")
    assert create_args == {"repo_id": REPO_ID, "token": FAKE_TOKEN, "private": True, "exist_ok": True}
    assert upload_args["repo_id"] == REPO_ID and upload_args["token"] == FAKE_TOKEN
    assert upload_args["delete_patterns"] == "*"
    assert not Path(upload_args["folder_path"]).exists()  # the staging folder is cleaned up

    sent = RecordingHfApi.uploaded
    dry_run = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert sent == dry_run  # the dry run is exactly what a push sends

    secret = FAKE_TOKEN.encode()
    assert not [name for name, data in sent.items() if secret in data]
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert written and not [p for p in written if secret in p.read_bytes()]
    captured = capsys.readouterr()
    assert FAKE_TOKEN not in captured.out + captured.err + caplog.text
    assert f"pushed {synthetic_run} to https://huggingface.co/{REPO_ID}" in captured.out


def test_push_rejects_an_id_without_a_namespace(synthetic_run: Path) -> None:
    with pytest.raises(HubError, match="USER/NAME"):
        push_run(synthetic_run, "agnews-quick", token=FAKE_TOKEN)
    with pytest.raises(HubError, match="not a valid repo id"):
        push_run(synthetic_run, "someone/bad name", token=FAKE_TOKEN)


# --------------------------------------------------------------------------------------------------
# A run made by an older agnews (no manifest.json)
# --------------------------------------------------------------------------------------------------


def test_a_run_made_by_an_older_agnews_pushes_and_loads_back(
    synthetic_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    legacy = tmp_path / "legacy"
    shutil.copytree(synthetic_run, legacy)
    as_legacy(legacy)
    original = Run.load(synthetic_run)
    assert any("agnews migrate" in w for w in Run.load(legacy).warnings)

    out = tmp_path / "upload"
    assert main(["push", str(legacy), "--repo-id", REPO_ID, "--dry-run", "--out", str(out)]) == 0
    assert {p.name for p in (out / "agnews_run").iterdir()} == RUN_FILES - {"manifest.json", "baseline.json"}
    card = (out / "README.md").read_text(encoding="utf-8")
    assert _card_metrics(card) == _card_metrics(str(build_model_card(original, REPO_ID)))
    assert original.baseline is not None
    assert f"accuracy {original.baseline.accuracy:.4f}" in card  # from the old metrics.json
    assert "`manifest.json`" not in card  # the Files section lists what was uploaded

    run = load_run_from_folder(out, cache_dir=tmp_path / "cache")
    assert any("agnews migrate" in w for w in run.warnings)
    assert run.metrics.test == original.metrics.test and run.baseline == original.baseline
    assert run.embeddings is not None and run.get(MAP) is not None

    monkeypatch.setattr(hub, "HfApi", RecordingHfApi)
    push_run(legacy, REPO_ID, token=FAKE_TOKEN)
    dry_run = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert RecordingHfApi.uploaded == dry_run


def test_the_card_renders_strictly_a_misspelt_variable_fails(synthetic_run: Path) -> None:
    """Jinja's default renders an unknown variable as nothing; the card's renderer refuses it."""
    import jinja2

    from agnews.hub.card import TEMPLATE, card_data, render_card, template_variables

    run = Run.load(synthetic_run)
    data, variables = card_data(run, "someone/agnews"), template_variables(run, "someone/agnews")
    text = TEMPLATE.read_text()
    assert str(render_card(data, variables)) == str(build_model_card(run, "someone/agnews"))
    with pytest.raises(jinja2.UndefinedError, match="metrics_tabel"):
        render_card(data, variables, text.replace("{{ metrics_table }}", "{{ metrics_tabel }}"))
