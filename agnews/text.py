"""Undo the escapes AG News carries, the same way for every split and for text typed into the app;
and recognise the news-agency markers its wire copy carries (the slices tag them, stress tests add
and remove them).

The source files mark a line break with a backslash, escape `$` as `\\$`, and carry HTML entities
that often lost their ampersand (`#39;s`, `quot;`, `#151;`) and sometimes follow a stray space.
A model should see the text a reader sees, so we normalise all of it here, once.
"""

import hashlib
import html
import re
import unicodedata

# An apostrophe entity after a stray space, as in "Haiti #39;s": join it back to its word (possessives
# and contractions only; an opening quote such as "the #39;war#39;" keeps its space).
_SPACED_APOSTROPHE = re.compile(r"\s*&?#39;(?=(?:s|t|re|ll|ve|d|m)\b)")
# Backslashes mark line breaks; the data's "\\" (documented as an escaped backslash) also sits
# where a break belongs ("...staggeri ...\\"), so every run of them becomes a space.
_BACKSLASHES = re.compile(r"\\+")
# Entities with or without their ampersand: numeric (#39;, #151;) and the named ones the data uses.
_ENTITY = re.compile(r"&?(#\d{2,5}|#x[0-9a-fA-F]{2,4}|quot|amp|lt|gt|nbsp|apos);")
_HTML_TAG = re.compile(r"<[^<>]{0,300}>")
_WHITESPACE = re.compile(r"\s+")
# C0/C1 control characters other than whitespace; NUL and friends only confuse tokenizers.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _unescape_entity(match: re.Match[str]) -> str:
    return html.unescape(f"&{match.group(1)};")


def clean_text(text: str) -> str:
    """Return `text` as a reader would see it: escapes undone, tags dropped, whitespace collapsed.

    Idempotent on clean text, so applying it to already-clean input (the app, the Hub) is safe.
    """
    text = _BACKSLASHES.sub(" ", text.replace("\\$", "$"))
    text = _SPACED_APOSTROPHE.sub("'", text)
    # Twice: the data holds double-escaped entities such as "&amp;lt;".
    text = _ENTITY.sub(_unescape_entity, _ENTITY.sub(_unescape_entity, text))
    text = _HTML_TAG.sub(" ", text)
    text = _CONTROL.sub(" ", unicodedata.normalize("NFC", text))
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
