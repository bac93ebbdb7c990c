"""A string a user brought (a text, a label value, a header, a file name) made safe to place in Markdown.

The app's `gr.Markdown` and the report's Markdown render whatever syntax a string carries: a
backtick in a header closes the code span around it, `![x](http://host/x.png)` makes the reader's
browser fetch from that host, `<img src=...>` is raw HTML. Every string from a file or a person is
passed through `literal` before it is placed in Markdown, so it shows as the characters it is.
"""

from __future__ import annotations

import re

# CommonMark lets a backslash escape any ASCII punctuation character, and an escaped character is
# always literal text. Escaped everywhere: those that open emphasis, code, links and images,
# HTML tags and entities, table cells, strikethrough and maths. Escaped at the start only (where an
# indent is dropped): those that open a block there (heading, quote, list, thematic break). Other
# punctuation is left as it is, so that the Markdown stays readable and searchable. Character
# classes with no nested repetition: linear in the string's length.
_INLINE = re.compile(r"[\\`*_\[\]<>&|~$]")
_BLOCK_START = re.compile(r"^[ \t]*(\d*)([#>+=-]|(?<=\d)[.)])?")
_LINE_BREAKS = re.compile(r"[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]+")


def literal(text: object) -> str:
    """`text` as Markdown that renders as exactly its characters, on one line.

    Line breaks become spaces and leading blanks are dropped: inside a paragraph, a list item or a
    quote, a new line or an indent could start a heading, a list or a code block (a rendered
    paragraph drops leading blanks anyway). Every character that could start Markdown or HTML is
    backslash-escaped (`<` too, so no tag or autolink can form; `[`, so no link or image).
    """
    one_line = _LINE_BREAKS.sub(" ", str(text))
    escaped = _INLINE.sub(r"\\\g<0>", one_line)
    return _BLOCK_START.sub(lambda start: start[1] + (f"\\{start[2]}" if start[2] else ""), escaped, count=1)
