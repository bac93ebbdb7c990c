"""The run directory: a folder of typed parts (`parts`), loaded and validated (`run`), changed only
atomically (`edit`). Everything that shows or ships a model reads a run through here."""

from agnews.rundir.files import RunError
from agnews.rundir.run import Run, latest_run

__all__ = ["Run", "RunError", "latest_run"]
