"""Heading-aware chunking, sized in the embedding model's own tokens.

A document is read as blocks: headings, paragraphs, fenced code, `$$` display formulas.
Blocks are packed into chunks that never exceed the model's window (all-MiniLM-L6-v2 reads
256 word pieces and silently drops the rest), a heading always starts a new chunk unless the
previous one is still small, and a code fence or formula is never cut: one too big for a
chunk on its own is split at line boundaries into smaller, still well-formed fences.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass

from app.ingest.markdown import HEADING
from app.ingest.markdown import closes
from app.ingest.markdown import fence_opener

TokenCounter = Callable[[list[str]], list[int]]

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=\S)")
SEPARATOR = " > "


@dataclass(frozen=True)
class Block:
    kind: str  # "heading" | "text" | "fence" | "math"
    text: str
    path: tuple[str, ...]  # heading path this block sits under (for a heading: including it)
    closed: bool = True  # a fence or formula whose closing marker was found


@dataclass(frozen=True)
class Chunk:
    text: str
    heading: str
    tokens: int

    @property
    def embed_text(self) -> str:
        """What the encoder reads: the heading path gives a short passage its context."""
        return f"{self.heading}\n{self.text}" if self.heading else self.text


def _block_end(lines: list[str], start: int, marker: str) -> tuple[int, bool]:
    """Index of the last line of the fence or formula opened at `start`, and whether it closed.

    One that never closes (or whose "closer" is really the opener of a later fence, one with
    an info string) ends before the next heading: an unclosed block must not swallow the rest
    of the document, its headings included."""
    for end in range(start + 1, len(lines)):
        line = lines[end]
        if marker == "$$":
            if "$$" in line:
                return end, True
            if HEADING.match(line):  # formulas hold no headings: this one was left open
                break
        elif closes(line, marker):
            return end, True
        elif (
            (opener := fence_opener(line)) and opener[0] == marker[0] and len(opener) >= len(marker)
        ):
            break  # a fence with an info string opens, it cannot close: ours was left open
    end = start + 1
    while end < len(lines) and not HEADING.match(lines[end]):
        end += 1
    return end - 1, False


def parse_blocks(markdown: str, title: str = "") -> list[Block]:
    """Split markdown into headings, paragraphs, fences and display formulas."""
    blocks: list[Block] = []
    path: list[tuple[int, str]] = [(0, title)] if title else []
    lines = markdown.splitlines()
    paragraph: list[str] = []

    def current() -> tuple[str, ...]:
        return tuple(name for _, name in path)

    def flush() -> None:
        if paragraph and "".join(paragraph).strip():
            blocks.append(Block("text", "\n".join(paragraph).strip("\n"), current()))
        paragraph.clear()

    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        marker = fence_opener(line) or ("$$" if stripped.startswith("$$") else None)
        if marker:
            flush()
            if marker == "$$" and "$$" in stripped[2:]:  # `$$ x $$` on one line, maybe with `,`
                end, closed = i, True
            else:
                end, closed = _block_end(lines, i, marker)
            kind = "math" if marker == "$$" else "fence"
            blocks.append(Block(kind, "\n".join(lines[i : end + 1]), current(), closed))
            i = end + 1
            continue
        heading = HEADING.match(line)
        if heading:
            flush()
            level, name = len(heading.group(1)), heading.group(2).strip()
            while path and path[-1][0] >= level:
                path.pop()
            if not (path and path[-1][0] == 0 and path[-1][1] == name):  # H1 repeating the title
                path.append((level, name))
            blocks.append(Block("heading", stripped, current()))
        elif stripped:
            paragraph.append(line)
        else:
            flush()
        i += 1
    flush()
    return blocks


def chunk_markdown(
    markdown: str,
    count_tokens: TokenCounter,
    max_tokens: int,
    title: str = "",
    min_tokens: int = 48,
) -> list[Chunk]:
    """Pack blocks into chunks whose `embed_text` fits in `max_tokens` word pieces."""
    blocks = parse_blocks(markdown, title)
    if not blocks:
        return []
    headings = sorted({SEPARATOR.join(b.path) for b in blocks})
    heading_tokens = dict(zip(headings, count_tokens(headings)))
    sizes = count_tokens([b.text for b in blocks])

    chunks: list[Chunk] = []
    parts: list[str] = []
    used, has_content, heading = 0, False, ""

    def emit(headings_only: bool = False) -> None:
        """Close the chunk being packed; one of heading lines alone only when asked (the end of
        the document, or lines that cannot share a chunk with what follows): a heading is
        words of the document too, and a last-line heading must stay findable."""
        nonlocal parts, used, has_content
        if has_content or (headings_only and parts):
            chunks.append(Chunk("\n\n".join(parts), heading, used + heading_tokens[heading]))
        parts, used, has_content = [], 0, False

    for block, size in zip(blocks, sizes):
        path = SEPARATOR.join(block.path)
        if block.kind == "heading" and has_content and used >= min_tokens:
            emit()
        if has_content and used + size + heading_tokens[heading] > max_tokens:
            emit()
        if not parts:
            heading = path
        if used + size + heading_tokens[heading] <= max_tokens:
            parts.append(block.text)
            used += size
            has_content = has_content or block.kind != "heading"
            continue
        # Only pending heading lines stand in the way, or the block is bigger than any chunk.
        # The heading lines open the block's first chunk, under the block's own heading path.
        heading = path
        budget = max_tokens - heading_tokens[path] - used
        if size <= budget:
            parts.append(block.text)
            used += size
            has_content = True
            continue
        if budget < max_tokens // 4:  # too little room left beside them: they go alone
            emit(headings_only=True)
            heading, budget = path, max_tokens - heading_tokens[path]
        for piece, piece_size in _split_oversized(block, count_tokens, max(budget, 1)):
            chunks.append(
                Chunk("\n\n".join([*parts, piece]), path, used + piece_size + heading_tokens[path])
            )
            parts, used = [], 0
        has_content = False
    emit(headings_only=True)
    return chunks


def _wrapper(block: Block) -> tuple[list[str], str, str] | None:
    """(body lines, opener, closer) of a fence or formula that can be re-wrapped piece by piece
    so each piece stays well-formed; None when its delimiters share lines with content."""
    lines = block.text.splitlines()
    if block.kind == "fence" and len(lines) > 2:
        marker = fence_opener(lines[0]) or "```"
        return (lines[1:-1], lines[0], lines[-1]) if block.closed else (lines[1:], lines[0], marker)
    if len(lines) > 2 and lines[0].strip() == "$$" and lines[-1].strip() == "$$" and block.closed:
        return lines[1:-1], "$$", "$$"
    return None


def _split_oversized(
    block: Block, count_tokens: TokenCounter, budget: int
) -> Iterator[tuple[str, int]]:
    """Split a block larger than a chunk: fences and formulas at line boundaries (re-wrapped so
    each piece is well-formed), prose at sentences, then at words. Every character of the
    block is in some piece."""
    if block.kind in ("fence", "math"):
        wrapper = _wrapper(block)
        if wrapper is None:
            yield from _pack(block.text.splitlines(), count_tokens, budget, "\n")
            return
        body, opener, closer = wrapper
        wrap_cost = sum(count_tokens([opener, closer]))
        yield from _pack(
            body,
            count_tokens,
            max(budget - wrap_cost, 1),
            "\n",
            wrap=lambda s: f"{opener}\n{s}\n{closer}",
            extra=wrap_cost,
        )
        return
    sentences = _SENTENCE_END.split(block.text)
    yield from _pack(sentences, count_tokens, budget, " ")


def _pack(
    units: list[str],
    count_tokens: TokenCounter,
    budget: int,
    joiner: str,
    wrap: Callable[[str], str] = lambda s: s,
    extra: int = 0,
) -> Iterator[tuple[str, int]]:
    sizes = count_tokens(units)
    current: list[str] = []
    used = 0
    for unit, size in zip(units, sizes):
        if size > budget:  # a single sentence or line too long: fall back to words
            if current:
                yield wrap(joiner.join(current)), used + extra
                current, used = [], 0
            words = unit.split(" ")
            yield from (
                _pack(words, count_tokens, budget, " ", wrap, extra)
                if len(words) > 1
                else _hard_split(unit, count_tokens, budget, wrap, extra)
            )
            continue
        if current and used + size > budget:
            yield wrap(joiner.join(current)), used + extra
            current, used = [], 0
        current.append(unit)
        used += size
    if current:
        yield wrap(joiner.join(current)), used + extra


def _hard_split(
    unit: str, count_tokens: TokenCounter, budget: int, wrap: Callable[[str], str], extra: int
) -> Iterator[tuple[str, int]]:
    """A single unbroken token run (a long URL, base64) bigger than a chunk: cut by characters."""
    step = max(1, len(unit) // (count_tokens([unit])[0] // max(budget, 1) + 1))
    for start in range(0, len(unit), step):
        piece = unit[start : start + step]
        yield wrap(piece), count_tokens([piece])[0] + extra
