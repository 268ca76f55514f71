"""Markdown fences, the one piece of syntax both the loaders and the chunker must agree on.

A fence opens with three or more backticks or tildes (indented at most three spaces) and
closes with a bare run of the same character at least as long (CommonMark). A line such as
```` ```python ```` therefore opens a fence but can never close one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from collections.abc import Iterator

_OPEN = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
_CLOSE = re.compile(r"^ {0,3}(`{3,}|~{3,})[ \t]*$")
HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$")


def fence_opener(line: str) -> str | None:
    """The marker (```` ``` ````, `~~~~`, ...) when `line` opens a fence."""
    match = _OPEN.match(line)
    if not match or (match.group(1)[0] == "`" and "`" in match.group(2)):
        return None  # a backtick info string may not contain backticks: inline code
    return match.group(1)


def closes(line: str, marker: str) -> bool:
    match = _CLOSE.match(line)
    return (
        match is not None and match.group(1)[0] == marker[0] and len(match.group(1)) >= len(marker)
    )


def lines_in_code(text: str) -> Iterator[tuple[str, bool]]:
    """Each line, and whether it belongs to fenced code (its fence lines included)."""
    marker: str | None = None
    for line in text.splitlines():
        if marker:
            marker = None if closes(line, marker) else marker
            yield line, True
        elif opener := fence_opener(line):
            marker = opener
            yield line, True
        else:
            yield line, False


def map_prose_lines(text: str, fn: Callable[[str], str | None]) -> str:
    """Apply `fn` to every line outside fenced code (code stays exactly as written); a line
    for which `fn` returns None is dropped."""
    out = []
    for line, code in lines_in_code(text):
        mapped = line if code else fn(line)
        if mapped is not None:
            out.append(mapped)
    return "\n".join(out)
