"""Every relative link and image in the documentation resolves.

Text moves between pages (an analysis's reference beside its folder, a section shrunk to a link) and
headings get renamed; a link to the old place then breaks without anyone noticing, since nothing
renders the Markdown here. This checks, offline and in milliseconds, that each relative target of
README.md, docs/*.md and the analyses' pages exists in the repository, and that a `#anchor` names a
heading of the Markdown file it points to, by GitHub's rule for heading anchors. Absolute URLs are
not followed; links inside code (fenced blocks, code spans) are text, not links.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import unquote

import pytest
from helpers import ROOT

DOCUMENTS = ("README.md", "docs/*.md", "agnews/analyses/*/README.md")

FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
CODE_SPAN = re.compile(r"(`+)[^`].*?(?<!`)\1(?!`)", re.DOTALL)
HEADING = re.compile(r" {0,3}#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*")
# `](target)` or `](target "title")`: an inline link's or image's target, whatever its text.
LINK = re.compile(r"\]\(\s*(<[^>\n]*>|[^()\s]*)(?:\s+\"[^\"\n]*\")?\s*\)")
REFERENCE = re.compile(r"^ {0,3}\[[^\]\n]+\]:[ \t]*(\S+)", re.MULTILINE)
LINK_TEXT = re.compile(r"!?\[([^\]\n]*)\]\([^)\n]*\)")
SCHEME = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*:")
# Besides letters, what GitHub keeps of a heading in its anchor (github-slugger's rule): marks,
# decimal and letter numbers, connector punctuation (`_`); a space becomes `-`, `-` stays, the
# rest (punctuation, symbols, other separators and controls) is dropped.
KEPT_CATEGORIES = frozenset({"Mn", "Mc", "Me", "Nd", "Nl", "Pc"})


def documents(root: Path) -> list[Path]:
    """The Markdown files whose links are checked, each once."""
    return sorted({path for pattern in DOCUMENTS for path in root.glob(pattern)})


def outside_code(text: str) -> tuple[list[str], str]:
    """The lines outside fenced code blocks (heading candidates), and the whole text with fenced
    blocks and code spans blanked (link candidates; line breaks kept, so positions keep their line)."""
    kept: list[str] = []
    fence = ""
    for line in text.splitlines():
        opening = FENCE.match(line)
        if fence:
            if opening and opening.group(1)[0] == fence[0] and len(opening.group(1)) >= len(fence):
                fence = ""
            kept.append("")
        elif opening:
            fence = opening.group(1)
            kept.append("")
        else:
            kept.append(line)
    prose = CODE_SPAN.sub(lambda span: "\n" * span.group(0).count("\n"), "\n".join(kept))
    return kept, prose


def slug(heading: str) -> str:
    """A heading's anchor before duplicates are numbered: its rendered text (links by their text),
    lower-cased, keeping what GitHub keeps."""
    text = LINK_TEXT.sub(lambda link: link.group(1), heading).lower()
    return "".join(
        "-"
        if char == " "
        else char
        if char == "-" or char.isalpha() or unicodedata.category(char) in KEPT_CATEGORIES
        else ""
        for char in text
    )


def anchors(headings: Iterable[str]) -> list[str]:
    """The anchors of a page's headings, in order: a repeated anchor gets `-1`, `-2`, ... (the first
    suffix not already taken, as GitHub numbers them)."""
    taken: dict[str, int] = {}
    result = []
    for heading in headings:
        base = anchor = slug(heading)
        while anchor in taken:
            taken[base] += 1
            anchor = f"{base}-{taken[base]}"
        taken[anchor] = 0
        result.append(anchor)
    return result


def page_anchors(path: Path) -> set[str]:
    """The heading anchors of the Markdown file at `path`."""
    lines, _ = outside_code(path.read_text(encoding="utf-8"))
    return set(anchors(match.group(1) for line in lines if (match := HEADING.fullmatch(line))))


def targets(prose: str) -> Iterable[tuple[int, str]]:
    """(line number, target) of every inline link, image and link reference definition."""
    for pattern in (LINK, REFERENCE):
        for match in pattern.finditer(prose):
            yield prose.count("\n", 0, match.start()) + 1, match.group(1).removeprefix("<").removesuffix(">")


def broken_links(paths: Iterable[Path], root: Path) -> list[str]:
    """One line per relative link or image of `paths` that does not resolve inside `root`: a missing
    file, a target outside the repository, or an anchor no heading of the target page has."""
    problems = []
    for path in paths:
        _, prose = outside_code(path.read_text(encoding="utf-8"))
        where = path.relative_to(root)
        for line, target in targets(prose):
            if SCHEME.match(target) or target.startswith("//"):
                continue
            file, _, fragment = target.partition("#")
            resolved = (path.parent / unquote(file) if file else path).resolve()
            if not target:
                problems.append(f"{where}:{line}: an empty link target")
            elif not resolved.is_relative_to(root.resolve()):
                problems.append(f"{where}:{line}: {target} points outside the repository")
            elif not resolved.exists():
                problems.append(f"{where}:{line}: {target}: no such file")
            elif fragment and resolved.suffix == ".md" and unquote(fragment) not in page_anchors(resolved):
                problems.append(f"{where}:{line}: {target}: no heading with the anchor #{fragment}")
    return problems


def test_the_checked_documents_are_the_readme_the_docs_and_every_analysis_page() -> None:
    found = {str(path.relative_to(ROOT)) for path in documents(ROOT)}
    assert {"README.md", "docs/app.md", "docs/analyses.md"} <= found
    analysis_pages = {name for name in found if name.startswith("agnews/analyses/")}
    assert {"agnews/analyses/slices/README.md", "agnews/analyses/dataset_checks/README.md"} <= analysis_pages


def test_every_relative_link_and_image_in_the_docs_resolves() -> None:
    assert broken_links(documents(ROOT), ROOT) == []


def test_a_planted_broken_file_image_or_anchor_is_reported(tmp_path: Path) -> None:
    (tmp_path / "docs" / "shots").mkdir(parents=True)
    (tmp_path / "docs" / "shots" / "tab.png").write_bytes(b"")
    (tmp_path / "docs" / "guide.md").write_text(
        "# Guide\n## Classify a big file: `agnews predict`\n## Results\n## Results\n"
        "```bash\n# not a heading\n```\n",
        encoding="utf-8",
    )
    (tmp_path / "README.md").write_text(
        "# Top\n"
        "[guide](docs/guide.md), [predict](docs/guide.md#classify-a-big-file-agnews-predict),\n"
        "[second results](docs/guide.md#results-1), [here](#top), ![tab](docs/shots/tab.png),\n"
        '[titled](docs/guide.md "The guide"), [web](https://example.com/x.md#nowhere).\n'
        "[gone](docs/missing.md) and ![lost](docs/shots/lost.png)\n"
        "[wrong anchor](docs/guide.md#results-2), [comment](docs/guide.md#not-a-heading)\n"
        "[away](../elsewhere.md)\n"
        "`[in a span](docs/missing.md)`\n"
        "```\n[in a fence](docs/missing.md)\n```\n"
        "[ref]: docs/nothing.md\n",
        encoding="utf-8",
    )
    assert broken_links([tmp_path / "README.md"], tmp_path) == [
        "README.md:5: docs/missing.md: no such file",
        "README.md:5: docs/shots/lost.png: no such file",
        "README.md:6: docs/guide.md#results-2: no heading with the anchor #results-2",
        "README.md:6: docs/guide.md#not-a-heading: no heading with the anchor #not-a-heading",
        "README.md:7: ../elsewhere.md points outside the repository",
        "README.md:12: docs/nothing.md: no such file",
    ]


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        ("Classify a big file: `agnews predict`", "classify-a-big-file-agnews-predict"),
        ("Slices (quick preset, seed 42, 89.51%)", "slices-quick-preset-seed-42-8951"),
        ("Is B better than A? `agnews compare`", "is-b-better-than-a-agnews-compare"),
        ("Results: the quick model and the bigger ones", "results-the-quick-model-and-the-bigger-ones"),
        ("heading with a - dash", "heading-with-a---dash"),
        (
            "exchange.bind_headers(exchange, routing [, bindCallback])",
            "exchangebind_headersexchange-routing--bindcallback",
        ),
        ("I ♥ unicode", "i--unicode"),
        ("en\N{EN DASH}dash", "endash"),
        ("Привет non-latin 你好", "привет-non-latin-你好"),
        ("See [the guide](docs/guide.md) first", "see-the-guide-first"),
    ],
)
def test_a_heading_anchor_follows_githubs_rule(heading: str, anchor: str) -> None:
    assert slug(heading) == anchor


def test_repeated_anchors_are_numbered_as_github_numbers_them() -> None:
    headings = ["alpha", "alpha", "echo", "echo", "echo 1", "echo-1", "echo"]
    assert anchors(headings) == ["alpha", "alpha-1", "echo", "echo-1", "echo-1-1", "echo-1-2", "echo-2"]
