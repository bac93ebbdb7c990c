"""The model table: seed groups of recipes against a baseline group, as docs/training.md shows them.

    .venv/bin/python bench/model_table.py --baseline quick \
        --group quick=runs/quick,runs/quick-s1,runs/quick-s2,runs/quick-s3,runs/quick-s4 \
        --group distilled=runs/distill-s42,runs/distill-s1,...  [--group ...]

Per group: test accuracy (mean, sample sd, range over its runs), mean macro F1, the comparison with
the baseline group (`agnews.comparison.compare_groups`: mean difference, Welch's 95% interval
and p; "better" needs p < 0.05, "not worse" an interval above -0.3 points), ECE and NLL of the
served (calibrated) probabilities on test and what calibration changed in NLL (after - before; mean
over the runs), the shortest training time of the
group's runs (a run that shared the CPU, or was paused, records a longer one), and the model
folder's size. Then the behavioural flip rates of the first run of each group, from its
`robustness` part (made with `agnews robustness RUN --rows all` for the comparison to be fair), with
95% Wilson intervals. Single-text serving cost depends only on the architecture:
`bench/serving_cost.py` measures it.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from machine import cpu_name

from agnews.analyses.calibration.schema import PART as CALIBRATION
from agnews.analyses.robustness.schema import PART as ROBUSTNESS
from agnews.comparison import compare_groups
from agnews.rundir.run import Run

NOT_WORSE_POINTS = -0.3


def folder_megabytes(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def verdict(low: float | None, high: float | None, p: float | None, difference: float) -> str:
    if p is None or low is None or high is None:
        return "—"
    if p < 0.05 and difference > 0:
        return "better"
    if low * 100 > NOT_WORSE_POINTS:
        return "not worse"
    return "worse" if p < 0.05 else "undecided"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--group", action="append", required=True, help="NAME=RUN,RUN,... (first run: flips)")
    parser.add_argument("--baseline", required=True, help="The group the others are compared with.")
    args = parser.parse_args()
    groups: dict[str, list[Run]] = {}
    for spec in args.group:
        name, _, paths = spec.partition("=")
        groups[name] = [Run.load(path) for path in paths.split(",") if path]
    baseline = groups[args.baseline]
    print(f"CPU: {cpu_name()}")
    header = (
        f"{'group':<12}{'runs':>5}{'acc mean':>10}{'sd':>7}{'range':>17}{'macro F1':>10}"
        f"{'vs base':>10}{'95% interval':>20}{'Welch p':>9}  {'verdict':<11}{'ECE':>7}{'NLL':>8}{'dNLL':>8}"
        f"{'train s*':>9}{'model MB':>10}"
    )
    print(header)
    for name, runs in groups.items():
        compared = compare_groups(baseline, runs)
        scores = compared.b
        sd = f"{100 * scores.std_accuracy:.2f}" if scores.std_accuracy is not None else "—"
        span = f"{scores.min_accuracy:.2%}-{scores.max_accuracy:.2%}"
        if name == args.baseline:
            versus, interval, p, judged = "", "", "", ""
        else:
            versus = f"{100 * compared.mean_difference:+.2f}"
            interval = (
                f"[{100 * compared.difference_low:+.2f}, {100 * compared.difference_high:+.2f}]"
                if compared.difference_low is not None and compared.difference_high is not None
                else "—"
            )
            p = f"{compared.welch_p:.3g}" if compared.welch_p is not None else "—"
            judged = verdict(
                compared.difference_low, compared.difference_high, compared.welch_p, compared.mean_difference
            )
        calibrated = [run.get(CALIBRATION) for run in runs if run.get(CALIBRATION) is not None]
        ece = f"{statistics.mean(c.after.ece.value for c in calibrated):.2%}" if calibrated else "—"
        nll = f"{statistics.mean(c.after.nll.value for c in calibrated):.4f}" if calibrated else "—"
        change = f"{statistics.mean(c.change['nll'].value for c in calibrated):+.4f}" if calibrated else "—"
        seconds = min(run.training.seconds for run in runs)
        print(
            f"{name:<12}{len(runs):>5}{scores.mean_accuracy:>10.2%}{sd:>7}{span:>17}{scores.mean_f1_macro:>10.4f}"
            f"{versus:>10}{interval:>20}{p:>9}  {judged:<11}{ece:>7}{nll:>8}{change:>8}{seconds:>9.0f}"
            f"{folder_megabytes(runs[0].model_path):>10.0f}"
        )
    print("* the shortest of the group's runs")
    print()
    first = {name: runs[0] for name, runs in groups.items()}
    reports = {name: run.get(ROBUSTNESS) for name, run in first.items() if run.get(ROBUSTNESS) is not None}
    if not reports:
        return
    print("Flip rates (first run of each group; rows: the test rows perturbed)")
    print(f"{'test':<20}" + "".join(f"{name + ' (' + first[name].name + ')':>34}" for name in reports))
    print(f"{'rows perturbed':<20}" + "".join(f"{report.rows:>34,}" for report in reports.values()))
    names = [t.name for t in next(iter(reports.values())).tests]
    for test in names:
        cells = []
        for report in reports.values():
            found = next((t for t in report.tests if t.name == test), None)
            if found is None or found.flip_rate is None:
                cells.append(f"{'—':>34}")
                continue
            taught = " (trained)" if report.trained_for and test in report.trained_for else ""
            cell = f"{found.flip_rate:.2%} [{found.low:.2%}, {found.high:.2%}]{taught}"
            cells.append(f"{cell:>34}")
        print(f"{test:<20}" + "".join(cells))


if __name__ == "__main__":
    main()
