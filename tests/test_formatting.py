"""Every number a person reads is written by `agnews.formatting` (issue 31 §2, "one way to say things").

The scan below reads the package, the launcher and the model card's template for precision formats:
the format specs Python applies (f-strings, `str.format`, `format()`, printf `%`) and the card
template's `format`/`round` filters and `.format` calls. A spec counts when it writes a number for
reading: a precision, a thousands separator, a sign or a float/percentage type. Strings that only
*hold* a format for another program (a Plotly `tickformat=".0%"`, a `hovertemplate`) are not
applied by Python, so the scan does not see them; a date's `strftime` spec is not a number format.
"""

from __future__ import annotations

import ast
import math
import re
import string
from collections.abc import Iterator
from dataclasses import dataclass

import jinja2
import pytest
from helpers import ROOT

from agnews import formatting

# The one module that writes numbers; the scan skips it.
FORMATTING = "agnews/formatting.py"
CARD_TEMPLATE = "agnews/hub/card_template.md"

# Where a precision format is not a number a person reads, with the reason. Keep it short: a
# number on a tab, card, report, CLI line or the model card belongs in `agnews.formatting`.
ALLOWED: dict[str, str] = {}

# The standard format-spec mini-language, anchored; a spec it does not match (a `strftime` spec,
# a custom `__format__`) is not a number format.
STANDARD_SPEC = re.compile(
    r"(?:(?P<fill>.)?(?P<align>[<>=^]))?(?P<sign>[-+ ])?z?#?0?(?P<width>\d+)?(?P<grouping>[,_])?"
    r"(?:\.(?P<precision>\d+))?(?P<type>[bcdeEfFgGnosxX%])?",
    re.DOTALL,
)
# One printf conversion: `%(name)+08.3f`, `%%` included so that it is skipped.
PRINTF = re.compile(
    r"%(?:\([^)]*\))?(?P<flags>[-#0 +]*)(?:\*|\d+)?(?:\.(?P<precision>\*|\d*))?[hlL]?"
    r"(?P<type>[diouxXeEfFgGcrsa%])"
)
NUMBER_TYPES = frozenset("eEfFgGn%")
# Jinja filters and methods that write a number with a format of their own.
TEMPLATE_FORMATTERS = frozenset({"format", "format_map", "round"})
# Stands for a nested replacement field (`.{digits}%`) while a spec is parsed.
NESTED_FIELD = re.compile(r"\{[^{}]*\}")


@dataclass(frozen=True)
class Offender:
    """A precision format at `path:line` (`spec` as written there)."""

    path: str
    line: int
    spec: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.spec}"


def writes_number(spec: str) -> bool:
    """Whether a `format()` spec writes a number for reading: a precision, a grouping, a sign or a
    float/percentage type (`:.2%`, `:,`, `:+d`, `:g`); not an alignment or a width alone."""
    match = STANDARD_SPEC.fullmatch(NESTED_FIELD.sub("1", spec))
    if match is None or match["type"] == "s":  # `:.40s` cuts text
        return False
    return bool(
        match["precision"] or match["grouping"] or match["sign"] or (match["type"] or "") in NUMBER_TYPES
    )


def printf_specs(text: str) -> list[str]:
    """The printf conversions in `text` that write a number for reading (`%.3f`, `%+d`, `%g`)."""
    return [
        match[0]
        for match in PRINTF.finditer(text)
        if match["type"] != "%"
        and (match["precision"] is not None or "+" in match["flags"] or match["type"] in "eEfFgG")
    ]


def _format_string_specs(text: str) -> Iterator[str]:
    """The number-writing specs of the replacement fields in a `str.format` string."""
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError:  # not a format string after all (an unmatched brace)
        return
    for _, field, spec, _ in parsed:
        if field is not None and spec and writes_number(spec):
            yield f"{{{field}:{spec}}}"


def _joined_spec(spec: ast.JoinedStr) -> str:
    """An f-string's format spec as written: constant parts, and nested fields as `{expression}`."""
    return "".join(
        str(part.value) if isinstance(part, ast.Constant) else f"{{{ast.unparse(part.value)}}}"
        for part in spec.values
        if isinstance(part, ast.Constant | ast.FormattedValue)
    )


def _is_text(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def python_offenders(path: str, source: str) -> Iterator[Offender]:
    """The precision formats Python applies in `source`: f-string specs, `"...".format(...)`,
    `format(value, "spec")` and `"..." % values`."""
    for node in ast.walk(ast.parse(source, filename=path)):
        # A conversion (`!r`, `!s`) makes the value a string: its precision cuts text, not digits.
        if (
            isinstance(node, ast.FormattedValue)
            and isinstance(node.format_spec, ast.JoinedStr)
            and node.conversion < 0
        ):
            spec = _joined_spec(node.format_spec)
            if writes_number(spec):
                yield Offender(path, node.lineno, f":{spec}")
        elif isinstance(node, ast.Call):
            func = node.func
            if (
                isinstance(func, ast.Attribute)
                and func.attr in {"format", "format_map"}
                and _is_text(func.value)
            ):
                for spec in _format_string_specs(func.value.value):  # type: ignore[attr-defined]
                    yield Offender(path, node.lineno, spec)
            elif isinstance(func, ast.Name) and func.id == "format" and len(node.args) == 2:
                spec_node = node.args[1]
                if _is_text(spec_node) and writes_number(spec_node.value):  # type: ignore[attr-defined]
                    yield Offender(path, node.lineno, f"format(..., {spec_node.value!r})")  # type: ignore[attr-defined]
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and _is_text(node.left):
            for spec in printf_specs(node.left.value):  # type: ignore[attr-defined]
                yield Offender(path, node.lineno, spec)


def template_offenders(path: str, source: str) -> Iterator[Offender]:
    """The numbers a Jinja template writes itself: its `| format`, `| round` and `.format(...)`,
    named with the literal they format (`"%.4f" | format`, `"{:,}".format`)."""
    tokens = [
        (line, kind, value) for line, kind, value in jinja2.Environment().lex(source) if kind != "whitespace"
    ]
    for index, (line, kind, value) in enumerate(tokens):
        if kind != "name" or value not in TEMPLATE_FORMATTERS or index < 1:
            continue
        joiner = tokens[index - 1][2]
        if joiner not in {"|", "."}:
            continue
        _, before, literal = tokens[index - 2] if index >= 2 else (line, "", "")
        written = literal if before == "string" else "..."
        yield Offender(path, line, f"{written} | {value}" if joiner == "|" else f"{written}.{value}")


def scanned_files() -> list[str]:
    """What the scan reads: the package's modules, the launcher and the card template."""
    modules = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "agnews").rglob("*.py"))
    return [*modules, "app.py", CARD_TEMPLATE]


def offenders(paths: list[str]) -> list[Offender]:
    """Every precision format in `paths` (relative to the repository) outside `agnews/formatting.py`."""
    found: list[Offender] = []
    for path in paths:
        if path == FORMATTING:
            continue
        source = (ROOT / path).read_text(encoding="utf-8")
        scan = template_offenders if path.endswith(".md") else python_offenders
        found.extend(scan(path, source))
    return sorted(found, key=lambda o: (o.path, o.line, o.spec))


# --- the rule ---


def test_every_number_a_person_reads_is_written_by_agnews_formatting() -> None:
    found = [o for o in offenders(scanned_files()) if o.path not in ALLOWED]
    assert not found, (
        "precision formats outside agnews/formatting.py (write the number with an agnews.formatting "
        "function, or add the file to ALLOWED with the reason it is not a number a person reads):\n"
        + "\n".join(map(str, found))
    )


def test_every_allowed_file_still_needs_its_place() -> None:
    """An allow-list entry whose file no longer formats a number is removed, so the list stays short."""
    found = {o.path for o in offenders(scanned_files())}
    stale = sorted(set(ALLOWED) - found)
    assert not stale, f"ALLOWED names files without a precision format: {stale}"


# --- the scanner sees what it must and only that ---


@pytest.mark.parametrize(
    ("source", "spec"),
    [
        ("f'{share:.2%}'", ":.2%"),
        ("f'{score:.4f}'", ":.4f"),
        ("f'{gain:+.2%}'", ":+.2%"),
        ("f'{rows:,}'", ":,"),
        ("f'{rows:,.1f}'", ":,.1f"),
        ("f'{value:.3g}'", ":.3g"),
        ("f'{value:>10.{digits}f}'", ":>10.{digits}f"),
        ("f'{delta:+d}'", ":+d"),
        ("'{:,}'.format(rows)", "{:,}"),
        ("'{rows:.1%} of {n}'.format(rows=1, n=2)", "{rows:.1%}"),
        ("format(share, '.1%')", "format(..., '.1%')"),
        ("'%.3f s' % seconds", "%.3f"),
        ("'%(n)+d rows' % {'n': 1}", "%(n)+d"),
    ],
)
def test_the_scan_finds_a_precision_format(source: str, spec: str) -> None:
    assert [o.spec for o in python_offenders("x.py", source)] == [spec]


@pytest.mark.parametrize(
    "source",
    [
        "fig.update_yaxes(tickformat='.0%')",  # Plotly's axis format: a string, not applied by Python
        "dict(hovertemplate='%{y:.1%}<extra></extra>')",
        "f'{name:>12}|{label:<8}'",  # alignment only
        "f'{index:03d}'",  # a zero-padded counter in a file name
        "f'{now:%Y%m%d-%H%M%S}'",  # a date
        "f'{value!r}'",
        "f'(got {value!r:.40})'",  # a repr cut to 40 characters
        "f'{name:.40s}'",
        "'%s has %d rows' % (name, rows)",
        "'100%% sure' % ()",
        "'{}: {}'.format(a, b)",
    ],
)
def test_the_scan_leaves_other_formats_alone(source: str) -> None:
    assert list(python_offenders("x.py", source)) == []


def test_the_scan_reads_the_card_template_filters() -> None:
    template = (
        "Rows: {{ rows }}\n"
        "{{ '{:,}'.format(test_rows) }} rows, accuracy {{ \"%.4f\" | format(accuracy) }}\n"
        "{{ seconds | round(1) }} s, {{ labels | join(', ') }}\n"
    )
    assert [str(o) for o in template_offenders("card.md", template)] == [
        "card.md:2: '{:,}'.format",
        'card.md:2: "%.4f" | format',
        "card.md:3: ... | round",
    ]


# --- the functions the rest of the package writes with ---


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        (formatting.percent(0.8961), "89.6%"),
        (formatting.percent(0.8961, 2), "89.61%"),
        (formatting.percent(None), formatting.DASH),
        (formatting.number(0.31852), "0.3185"),
        (formatting.number(math.nan), formatting.DASH),
        (formatting.points(0.0184), "+1.84 pts"),
        (formatting.points_value(-0.0184), "-1.84"),
        (formatting.interval(0.021, 0.014, 0.032), "2.1% (1.4% to 3.2%)"),
        (formatting.interval(0.021, None, 0.032), "2.1%"),
        (formatting.span(0.014, 0.032), "1.4% to 3.2%"),
        (formatting.percent(0.0184, 2, signed=True), "+1.84%"),
        (formatting.percent(-0.004, signed=True), "-0.4%"),
        (formatting.number(-0.00123, signed=True), "-0.0012"),
        (formatting.number(0.5, 2, signed=True), "+0.50"),
        (formatting.count(120000), "120,000"),
        (formatting.count(7), "7"),
        (formatting.count(-3, signed=True), "-3"),
        (formatting.count(1200, signed=True), "+1,200"),
        (formatting.significant(0.000123456), "0.000123"),
        (formatting.significant(123456.0), "1.23e+05"),
        (formatting.significant(None), formatting.DASH),
        (formatting.setting(0.9), "0.9"),
        (formatting.setting(2.0), "2"),
        (formatting.setting(37.5), "37.5"),
        (formatting.ratio(1.2345), "1.23x"),
        (formatting.seconds(12.345), "12.3 s"),
        (formatting.seconds(12.5, 0), "12 s"),
        (formatting.megabytes(1_234_567), "1.2 MB"),
        (formatting.megabytes(5 * 2**20, 0, binary=True), "5 MB"),
    ],
)
def test_each_kind_of_value_reads_one_way(written: str, expected: str) -> None:
    assert written == expected
