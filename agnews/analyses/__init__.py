"""The analyses of a run, one folder each (`agnews/analyses/<name>/`), and the one list of them.

Each folder holds its schema, numbers, stage, presentation, tab and command, and a torch-free
`declaration.py` that names them (`agnews.rundir.declarations.Analysis`). The page, the report, the
model card, the CLI and the runner iterate `ANALYSES` (through `agnews.rundir.catalog`); nothing
else imports an analysis's folder. To add an analysis: a folder like these and its line below.
"""

from agnews.analyses.calibration.declaration import CALIBRATION
from agnews.analyses.cross_domain.declaration import CROSS_DOMAIN
from agnews.analyses.dataset_checks.declaration import DATASET_CHECKS
from agnews.analyses.label_issues.declaration import LABEL_ISSUES
from agnews.analyses.map.declaration import MAP
from agnews.analyses.neighbours.declaration import NEIGHBOURS
from agnews.analyses.robustness.declaration import ROBUSTNESS
from agnews.analyses.slices.declaration import SLICES
from agnews.analyses.tuning.declaration import TUNING

# A tab placed after another is drawn in this list's order among those placed there.
ANALYSES = (
    MAP,
    NEIGHBOURS,
    CALIBRATION,
    LABEL_ISSUES,
    SLICES,
    ROBUSTNESS,
    CROSS_DOMAIN,
    DATASET_CHECKS,
    TUNING,
)
