"""What a run can hold: the core's parts and stages (`agnews.rundir.core`) and those of a list of
analyses (`agnews.analyses.ANALYSES` by default), put together once and never changed.

Everything that asks "which part is this", "which stage makes it", "what does a run still lack",
"which analyses are there" asks a `Catalog`: `Run.load` (the parts to read), `RunEditor` (the part
and maker of what it writes), the runner, the CLI (`--stages` choices, the analyses' commands), the
page (tabs, Overview cards), the report and the model card. A test that adds an analysis builds its
own `Catalog((*ANALYSES, toy))` and passes it; nothing global is mutated.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from types import MappingProxyType
from typing import Any, Protocol

from agnews.analyses import ANALYSES
from agnews.rundir.core import CORE_PARTS, CORE_STAGES
from agnews.rundir.declarations import Analysis, Fact, Provides, Stage
from agnews.rundir.files import RunError
from agnews.rundir.parts import Part, PartFamily
from agnews.rundir.renames import RENAMED_STAGES


class HasParts(Protocol):
    """A loaded run, as far as a catalog needs one (`agnews.rundir.run.Run`)."""

    def has(self, part: str) -> bool: ...


@cache
def load_attribute(path: str) -> Any:
    """What a declaration names by "module:attribute", imported now (declarations stay import-free)."""
    module, _, attribute = path.partition(":")
    return getattr(importlib.import_module(module), attribute)


class Catalog:
    """The parts, part families and stages of the core and of `analyses`, checked once: every name
    declared once, every part a stage names declared, each part made by exactly one stage."""

    def __init__(self, analyses: Iterable[Analysis]) -> None:
        self.analyses: tuple[Analysis, ...] = tuple(analyses)
        parts: dict[str, Part] = {}
        families: dict[str, PartFamily] = {}
        stages: dict[str, Stage] = {}
        names = [analysis.name for analysis in self.analyses]
        if len(set(names)) != len(names):
            raise RunError(f"an analysis is declared twice in {names}")
        for part in (*CORE_PARTS, *(part for analysis in self.analyses for part in analysis.parts)):
            name = part.prefix if isinstance(part, PartFamily) else part.name
            if name in parts or name in families:
                raise RunError(f"part {name!r} is declared twice")
            if len(part.files) != len(part.formats):
                raise RunError(f"part {name!r}: one reader per file")
            if isinstance(part, PartFamily):
                families[name] = part
            else:
                parts[name] = part
        for stage in (*CORE_STAGES, *(stage for analysis in self.analyses for stage in analysis.stages)):
            _check_stage(stage, stages, parts, families)
            stages[stage.name] = stage
        self.parts: Mapping[str, Part] = MappingProxyType(parts)
        self.families: Mapping[str, PartFamily] = MappingProxyType(families)
        self.stages: Mapping[str, Stage] = MappingProxyType(stages)

    def part(self, name: str) -> Part:
        """The part called `name`: a declared part, or a member `PREFIX/NAME` of a family."""
        if name in self.parts:
            return self.parts[name]
        prefix, slash, member = name.partition("/")
        if slash and prefix in self.families:
            return self.families[prefix].member(member)
        raise RunError(f"unknown part {name!r}")

    def maker(self, part: str) -> Stage:
        """The stage that makes `part` (a family member `PREFIX/NAME`: the family's maker)."""
        key = part if part in self.parts else part.partition("/")[0]
        for stage in self.stages.values():
            if key in stage.makes:
                return stage
        raise RunError(f"no stage makes the part {part!r}")

    def default_stages(self) -> tuple[str, ...]:
        """The stages every run gets, in the order they run (`Stage.order`)."""
        chosen = [stage for stage in self.stages.values() if stage.default]
        return tuple(stage.name for stage in sorted(chosen, key=lambda stage: stage.order))

    def pending_stages(self, run: HasParts) -> tuple[str, ...]:
        """The default stages whose parts `run` lacks (absent, or dropped by `Run.load` as damaged or
        stale): what `agnews analyze RUN` makes, and what the launcher completes in the background."""
        return tuple(
            name
            for name in self.default_stages()
            if not all(run.has(part) for part in self.stages[name].makes)
        )

    def runnable(self, name: str) -> Stage:
        """The stage `name` (or its name in older agnews), refused unless `agnews analyze` can run it."""
        stage = self.stages.get(RENAMED_STAGES.get(name, name))
        if stage is None or not stage.runnable:
            choices = sorted(n for n, s in self.stages.items() if s.runnable)
            raise RunError(f"unknown stage {name!r}; choose from {choices}")
        return stage

    def owner(self, stage: str) -> Analysis | None:
        """The analysis that declares `stage` (None: a core stage)."""
        return next((a for a in self.analyses if any(s.name == stage for s in a.stages)), None)

    def providers(self, fact: Fact[Any]) -> tuple[Provides, ...]:
        """The analyses' answers to `fact`, in the list's order."""
        return tuple(p for analysis in self.analyses for p in analysis.provides if p.fact == fact)

    def answer(self, fact: Fact[Any], has: Callable[[str], bool], read: Callable[[str], Any]) -> Any:
        """`fact` as the first analysis that answers it from a part the run `has` says (its value as
        `read` gives it); None when none can. `Run.fact` and a stage's `StageContext.fact` differ only
        in what counts as having a part."""
        for provider in self.providers(fact):
            if has(provider.part):
                value = read(provider.part)
                return value if provider.read is None else load_attribute(provider.read)(value)
        return None

    def source(self, fact: Fact[Any]) -> str | None:
        """The part `fact` is made from where the run lacks it: the first provider that `agnews
        analyze` makes (a part a person sets, such as a chosen review threshold, answers first where
        it exists, but is not what a missing fact asks to run), else the first (None: no analysis
        can answer it)."""
        providers = self.providers(fact)
        made = [p for p in providers if self.maker(p.part).runnable] or providers
        return made[0].part if made else None

    @staticmethod
    def unanswered(fact: Fact[Any]) -> str:
        """What is said where no analysis of this list answers `fact`."""
        return f"no analysis of this agnews answers the {fact.name}"

    def reads(self, stage: Stage) -> tuple[str, ...]:
        """The parts `stage` reads when the run has them: those it names and those answering its facts."""
        answering = (p.part for fact in stage.uses for p in self.providers(fact))
        return tuple(dict.fromkeys((*stage.reads_if_present, *answering)))


def _check_stage(
    stage: Stage, stages: Mapping[str, Stage], parts: Mapping[str, Part], families: Mapping[str, PartFamily]
) -> None:
    if stage.name in stages:
        raise RunError(f"stage {stage.name!r} is declared twice")
    unknown = [
        name
        for name in (*stage.makes, *stage.needs, *stage.reads_if_present)
        if name not in parts and name not in families
    ]
    if unknown:
        raise RunError(f"stage {stage.name!r} names undeclared part(s) {unknown}")
    taken = {name: other.name for other in stages.values() for name in other.makes if name in stage.makes}
    if taken:
        raise RunError(f"stage {stage.name!r}: part(s) {taken} already have a maker")
    if (stage.function is None) == (stage.command is None):
        raise RunError(f"stage {stage.name!r}: give exactly one of `function` and `command`")


CATALOG = Catalog(ANALYSES)
