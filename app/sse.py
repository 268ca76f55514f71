"""Server-sent events, the wire format of a streamed answer: written by the API
(`POST /ask/stream`), read by the command line's and the UI's clients. One place, so that the
two ends cannot drift apart.

Each event is `event: NAME`, then `data: ` one line of JSON, then a blank line (the format of
the WHATWG HTML standard, "Server-sent events"). Imports nothing but the standard library: the
command line pays nothing for it before the API answers.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any


def event(name: str, data: Any) -> str:
    """One event as the API sends it."""
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


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
