"""Bytes -> text in whatever common encoding a file was saved in, saying which one was used.

Learners' notes come from every editor and OS: UTF-16 from Windows tools, Latin-1 and
cp1252 from old course pages, Shift-JIS or GB18030 from courses in Asia. The order below
trusts what the file says about itself before guessing: a byte order mark, then an encoding
the markup declares (HTML `<meta charset>`, an XML prolog), then strict UTF-8 (valid UTF-8
is almost never an accident), and only then statistical detection (`charset-normalizer`).
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

from bs4.dammit import EncodingDetector
from charset_normalizer import from_bytes

SNIFF_BYTES = 8192
_PLAIN = {"utf-8", "utf_8", "ascii"}


class DecodeError(ValueError):
    """Bytes that are not text in any encoding we can recognise."""


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str
    how: str  # "byte order mark" | "declared in the file" | "utf-8" | "detected"

    @property
    def notice(self) -> str:
        """What the ingest summary says about this file, or "" when it was plain UTF-8."""
        if self.how == "utf-8" or self.encoding.lower() in _PLAIN:
            return ""
        if self.how == "detected":
            return (
                f"read as {self.encoding}, a guess from its bytes: if its text looks wrong "
                "in answers, save the file as UTF-8 and ingest it again"
            )
        return f"read as {self.encoding} ({self.how})"


def _try(data: bytes, encoding: str, how: str) -> Decoded | None:
    try:
        return Decoded(data.decode(encoding), codecs.lookup(encoding).name, how)
    except (UnicodeDecodeError, LookupError):
        return None


def decode(data: bytes, markup: bool = False) -> Decoded:
    """Decode a file's bytes; `markup` lets an HTML/XML file declare its own encoding."""
    body, bom_encoding = EncodingDetector.strip_byte_order_mark(data)
    if bom_encoding:
        found = _try(body, bom_encoding, "byte order mark")
        if found:
            return found
    if b"\x00" in data[:SNIFF_BYTES]:
        raise DecodeError("binary content, not text (wrong file extension?)")
    if markup:
        declared = EncodingDetector.find_declared_encoding(data[:SNIFF_BYTES], is_html=True)
        found = _try(data, declared, "declared in the file") if declared else None
        if found:
            return found
    found = _try(data, "utf-8", "utf-8")
    if found:
        return found
    best = from_bytes(data).best()
    if best is None or best.encoding is None:
        raise DecodeError("not text in any common encoding (binary content?)")
    return Decoded(str(best), codecs.lookup(best.encoding).name, "detected")
