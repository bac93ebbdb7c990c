"""What the tuning part holds: `tuning.json`, the search that chose a run's settings."""

from __future__ import annotations

from dataclasses import dataclass

from agnews.rundir.parts import JsonFile, Part


@dataclass
class TuningTrial:
    """One trial of `agnews tuning`: its settings, the mean validation accuracy (None: pruned before
    it had one), each seed's score, and whether it scored the preset's settings for the noise."""

    number: int
    state: str
    params: dict[str, float]
    value: float | None
    scores: list[float]
    seconds: float | None
    role: str  # "noise" (the preset's settings) or "search"


@dataclass
class Tuning:
    """`tuning.json`: the search that chose this run's settings (`agnews tuning`). `noise`: the
    difference between two scorings of the preset's own settings with other seeds."""

    objective: str
    seeds: list[int]
    trials: list[TuningTrial]
    best_trial: int
    best_value: float
    noise: float | None
    importances: dict[str, float]
    created: str
    schema_version: int = 1


PART: Part[Tuning] = Part("tuning", ("tuning.json",), False, (JsonFile(Tuning),))
