"""Undo the escapes AG News carries, the same way for every split and for text typed into the app;
and recognise the news-agency markers its wire copy carries (the slices tag them, stress tests add
and remove them).

The source files mark a line break with a backslash, escape `$` as `\\$`, and carry HTML entities
that often lost their ampersand (`#39;s`, `quot;`, `#151;`) and sometimes follow a stray space.
A model should see the text a reader sees, so we normalise all of it here, once.

Every pattern here sees text a user brings, so none may backtrack on a long run: each is linear in
its input (a 20,000-space text must cost about ten times a 2,000-space one, not a hundred;
bench/clean_text.py measures it). `re` holds the interpreter lock for a whole call, so a slow pattern
stalls every thread of the server, not only its own request.
"""

import hashlib
import html
import re
import unicodedata

# An apostrophe entity after a stray space, as in "Haiti #39;s": join it back to its word (possessives
# and contractions only; an opening quote such as "the #39;war#39;" keeps its space). The lookbehind
# lets a match start only where a whitespace run starts: without it every position inside a long run
# would rescan the rest of the run (quadratic), and a match found from inside a run is found from its
# start anyway, so the output is the same.
_SPACED_APOSTROPHE = re.compile(r"(?<!\s)\s*&?#39;(?=(?:s|t|re|ll|ve|d|m)\b)")
# Backslashes mark line breaks; the data's "\\" (documented as an escaped backslash) also sits
# where a break belongs ("...staggeri ...\\"), so every run of them becomes a space.
_BACKSLASHES = re.compile(r"\\+")
# Entities with or without their ampersand: numeric (#39;, #151;) and the named ones the data uses.
_ENTITY = re.compile(r"&?(#\d{2,5}|#x[0-9a-fA-F]{2,4}|quot|amp|lt|gt|nbsp|apos);")
# A tag of any length: `[^<>]` stops at the next `<`, so every start scans its own stretch once.
_HTML_TAG = re.compile(r"<[^<>]*>")
_WHITESPACE = re.compile(r"\s+")
# C0/C1 control characters other than whitespace (NUL and friends only confuse tokenizers), and
# surrogates: a Python string may hold them (JSON's "\\ud800", `errors="surrogateescape"`), but no
# UTF-8 encoder, tokenizer or hash takes them, so one such text would fail the batch it rides in.
_UNUSABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def _unescape_entity(match: re.Match[str]) -> str:
    return html.unescape(f"&{match.group(1)};")


def clean_text(text: str) -> str:
    """Return `text` as a reader would see it: escapes undone, tags dropped, whitespace collapsed,
    control characters and surrogates replaced by spaces (the result always encodes as UTF-8).

    Idempotent on clean text, so applying it to already-clean input (the app, the Hub) is safe.
    Linear in `len(text)`. Its output on AG News must never change: text hashes, split hashes,
    decision keys and `--corrections` all hash the cleaned text (tests/test_text.py holds it).
    """
    text = _BACKSLASHES.sub(" ", text.replace("\\$", "$"))
    text = _SPACED_APOSTROPHE.sub("'", text)
    # Twice: the data holds double-escaped entities such as "&amp;lt;".
    text = _ENTITY.sub(_unescape_entity, _ENTITY.sub(_unescape_entity, text))
    text = _HTML_TAG.sub(" ", text)
    text = _UNUSABLE.sub(" ", unicodedata.normalize("NFC", text))
    return _WHITESPACE.sub(" ", text).strip()


def normalised_key(text: str) -> str:
    """Key under which two texts count as the same document (cross-split duplicate detection)."""
    return clean_text(text).casefold()


# Hex digits kept of a text's SHA-256: 64 bits, so two distinct training texts sharing a key is
# vanishingly unlikely even across the full 120,000-row split.
TEXT_HASH_DIGITS = 16


def text_hash(text: str) -> str:
    """The key of a training row in label-issue exports and `--drop-label-issues`: a prefix of the
    SHA-256 of `text` exactly as the run stores it (already cleaned), so an export keeps no row
    positions that a different split seed or row cap would shift."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:TEXT_HASH_DIGITS]


# News agencies whose name AG News texts carry as a source marker, "(Reuters)" or "AFP - ". Matched
# case-sensitively as a marker only, never as letters inside a word ("APPLE", "map", "Reutersville").
AGENCIES = (
    "Reuters",
    "AP",
    "AFP",
    "Canadian Press",
    "CP",
    "Sports Network",
    "Dow Jones",
    "Xinhua",
    "DPA",
    "dpa",
    "UPI",
    "PTI",
)
AGENCY_NAMES = "|".join(re.escape(name) for name in AGENCIES)
AGENCY_MARKER = re.compile(rf"\((?:{AGENCY_NAMES})\)|(?:^|(?<=\s))(?:{AGENCY_NAMES})\s+--?\s")
