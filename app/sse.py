"""Server-sent events, the wire format of a streamed answer: written by the API
(`POST /ask/stream`), read by the command line's and the UI's clients. One place, so that the
two ends cannot drift apart.

Each event is `event: NAME`, then `data: ` one line of JSON, then a blank line (the format of
the WHATWG HTML standard, "Server-sent events"). Imports nothing but the standard library: the
command line pays nothing for it before the API answers.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any
from typing import ParamSpec

P = ParamSpec("P")

# Line breaks to a line reader that JSON leaves unescaped: httpx's `iter_lines`, like Python's
# `str.splitlines`, ends a line at NEL, LINE SEPARATOR and PARAGRAPH SEPARATOR too, and a note or
# a question holding one would reach the client as a broken `data:` line.
_UNESCAPED_BREAKS = str.maketrans({"\u0085": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def event(name: str, data: Any) -> str:
    """One event as the API sends it: its data one line of JSON, whatever the text holds."""
    line = json.dumps(data, ensure_ascii=False).translate(_UNESCAPED_BREAKS)
    return f"event: {name}\ndata: {line}\n\n"


def events(lines: Iterator[str]) -> Iterator[tuple[str, Any]]:
    """Server-sent events as (name, decoded data), each when the blank line that ends it comes.
    Raises ValueError for data that is not JSON."""
    name, data = "", ""
    for line in lines:
        if line.startswith("event:"):
            name = line.removeprefix("event:").strip()
        elif line.startswith("data:"):
            data = line.removeprefix("data:").strip()
        elif not line and name:
            yield name, json.loads(data)
            name, data = "", ""


def answer_of(stream: Callable[P, Iterator[tuple[str, Any]]]) -> Callable[P, Any]:
    """The call that returns `stream`'s "answer" event alone: the whole answer, without the
    tokens before it. With `stream`'s own parameters, so that asking and streaming cannot drift
    apart (`Tutor.ask`, `AskAs.ask`). Raises StopIteration if the stream ends with no answer."""

    @functools.wraps(stream)
    def ask(*args: P.args, **kwargs: P.kwargs) -> Any:
        return next(data for name, data in stream(*args, **kwargs) if name == "answer")

    return ask
