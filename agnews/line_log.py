"""Append-only files of JSON lines, shared by the decisions log and the stage event log.

A line is appended with one `write` to the file opened `O_APPEND`, so lines of several writers never
interleave, and the bytes already written never change. Lines end only at "\\n" (records are written
ASCII-only, so no separator can hide inside one). A reader follows a file incrementally (`Tail`): it
parses only the whole lines appended since it last read, leaves an unfinished last line for the next
read, and starts again from the top when the file was replaced or shortened.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO


def encode(record: Mapping[str, Any]) -> bytes:
    """`record` as one line: JSON, ASCII-only (a U+2028 or CR in a text travels escaped), "\\n"-ended."""
    return json.dumps(record, ensure_ascii=True).encode("ascii") + b"\n"


def append(path: Path, line: bytes) -> None:
    """Append `line` (one whole line, from `encode`) to `path` with a single `write`.

    A last line left unfinished (a writer that crashed mid-write) is closed first, so it stays one
    damaged line rather than spoiling this one.
    """
    descriptor = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        end = os.lseek(descriptor, 0, os.SEEK_END)
        if end and os.pread(descriptor, 1, end - 1) != b"\n":
            line = b"\n" + line
        written = os.write(descriptor, line)  # O_APPEND: at the end, whatever else was appended meanwhile
        if written != len(line):
            raise OSError(f"{path}: only {written} of {len(line)} bytes of a line were written (disk full?)")
    finally:
        os.close(descriptor)


@dataclass
class Tail:
    """How far one reader has read a file: which file (by inode), up to which byte, how many lines."""

    inode: int = -1
    offset: int = 0  # just after the last whole line read
    lines: int = 0  # whole lines before `offset`


@dataclass(frozen=True)
class Fresh:
    """What a read found: the whole lines appended since the last read, and what follows them."""

    data: bytes
    first_line: int  # the number of data's first line in the file, from 1
    unfinished: bytes  # after the last "\n": a line still being written, or cut short by a crash
    restarted: bool  # the file was new, replaced or shortened: read from its top; forget what was read

    def lines(self) -> Iterator[tuple[int, bytes]]:
        """(line number, line) for each non-blank line of `data`, split at "\\n" only."""
        for number, line in enumerate(self.data.split(b"\n"), start=self.first_line):
            if line.strip():
                yield number, line


def read_fresh(handle: BinaryIO, tail: Tail) -> Fresh:
    """Read the open file `handle` from where `tail` stopped, and move `tail` past its whole lines."""
    status = os.fstat(handle.fileno())
    restarted = status.st_ino != tail.inode or status.st_size < tail.offset
    if restarted:
        tail.inode, tail.offset, tail.lines = status.st_ino, 0, 0
    handle.seek(tail.offset)
    fresh = handle.read()
    complete = fresh.rfind(b"\n") + 1
    first_line = tail.lines + 1
    tail.offset += complete
    tail.lines += fresh.count(b"\n", 0, complete)
    return Fresh(fresh[:complete], first_line, fresh[complete:], restarted)
