"""What a view of a run says while the run lacks a part: its stage failed (the message, and the
command that makes it again), it is being built, or the run never had it (the command that adds it).

One wording for the app's panels and Overview cards and for the static report, all of which show
parts made by stages (`agnews.rundir.catalog`); the text is Markdown.
"""

from __future__ import annotations

from collections.abc import Sequence

from agnews.present.markup import literal
from agnews.present.paths import shown_path, shown_text
from agnews.rundir.declarations import NOT_APPLICABLE
from agnews.rundir.run import Run


def remake_command(run: Run, stages: Sequence[str]) -> str:
    """The command that makes the parts of `stages` for `run`, in backticks."""
    runnable = [name for name in stages if run.catalog.stages[name].runnable]
    if runnable:
        return f"`agnews analyze {shown_path(run.path, run.path.parent)} --stages {','.join(runnable)}`"
    return " or ".join(f"`{run.catalog.stages[name].command}`" for name in stages)


def failures(run: Run, stages: Sequence[str]) -> dict[str, str]:
    """{stage: message} for those of `stages` whose last attempt on `run` failed."""
    return {w.stage: w.message for w in run.manifest.warnings if w.stage in stages}


def part_notice(run: Run, part: str, what: str, *, coming: bool = False) -> str:
    """What a section showing `part` says while `run` lacks it: failed, being built, or absent."""
    return stages_notice(run, (run.catalog.maker(part).name,), what, coming=coming)


def stages_notice(run: Run, stages: Sequence[str], what: str, *, coming: bool) -> str:
    """What a section showing the parts of `stages` says while `run` has none of them (`what` names
    the section: "calibration report"; `coming`: a background `agnews analyze` is making them)."""
    failed = failures(run, stages)
    if failed:
        stage, message = next(iter(failed.items()))
        said = literal(shown_text(message, run.path.parent))  # may quote a file's values or paths
        if NOT_APPLICABLE in message:
            reason = literal(message.partition(f"{NOT_APPLICABLE}: ")[2])
            return f"> **Left out for this data.** The {what} does not apply here: {reason}"
        return (
            f"> **Not available.** The `{stage}` stage failed: {said}\n>\n"
            f"> {remake_command(run, stages)} makes the {what} again."
        )
    if coming:
        named = " and ".join(f"`{name}`" for name in stages)
        return f"> **Being built.** The {what} appears when the {named} stage has made it."
    command = remake_command(run, stages)
    if all(run.catalog.stages[name].runnable for name in stages):
        return f"> **Not available for this run.** It has no {what}; {command} adds it."
    return f"> **Not available for this run.** It has no {what}; a run made by {command} has one."
