"""Heading-aware chunking, sized in the embedding model's own tokens.

A document is read as blocks: headings, paragraphs, fenced code, `$$` display formulas.
Blocks are packed into chunks that never exceed the model's window (all-MiniLM-L6-v2 reads
256 word pieces and silently drops the rest), a heading always starts a new chunk unless the
previous one is still small, and a code fence or formula is never cut: one too big for a
chunk on its own is split at line boundaries into smaller, still well-formed fences.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

TokenCounter = Callable[[list[str]], list[int]]

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE_OPEN = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=\S)")
SEPARATOR = " > "


@dataclass(frozen=True)
class Block:
    kind: str  # "heading" | "text" | "fence" | "math"
    text: str
    path: tuple[str, ...]  # heading path this block sits under (for a heading: including it)


@dataclass(frozen=True)
class Chunk:
    text: str
    heading: str
    tokens: int

    @property
    def embed_text(self) -> str:
        """What the encoder reads: the heading path gives a short passage its context."""
        return f"{self.heading}\n{self.text}" if self.heading else self.text


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
        fence = _FENCE_OPEN.match(line)
        if fence:
            flush()
            marker = fence.group(1)
            end = i + 1
            while end < len(lines) and not lines[end].lstrip().startswith(marker):
                end += 1
            blocks.append(Block("fence", "\n".join(lines[i:end + 1]), current()))
            i = end + 1
            continue
        stripped = line.strip()
        if stripped.startswith("$$"):
            flush()
            end = i
            one_line = len(stripped) > 2 and stripped.endswith("$$") and stripped != "$$"
            if not one_line:
                end = i + 1
                while end < len(lines) and "$$" not in lines[end]:
                    end += 1
            blocks.append(Block("math", "\n".join(lines[i:end + 1]), current()))
            i = end + 1
            continue
        heading = _HEADING.match(line)
        if heading:
            flush()
            level, name = len(heading.group(1)), heading.group(2).strip()
            while path and path[-1][0] >= level:
                path.pop()
            if not (path and path[-1][0] == 0 and path[-1][1] == name):  # H1 repeating the title
                path.append((level, name))
            blocks.append(Block("heading", line.strip(), current()))
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

    def emit() -> None:
        nonlocal parts, used, has_content
        if has_content:
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
        # Heading lines may go: the chunk's heading path still carries them.
        heading, budget = path, max_tokens - heading_tokens[path]
        if size <= budget:
            parts, used, has_content = [block.text], size, True
            continue
        parts, used = [], 0
        for piece, piece_size in _split_oversized(block, count_tokens, budget):
            chunks.append(Chunk(piece, path, piece_size + heading_tokens[path]))
    emit()
    return chunks


def _split_oversized(block: Block, count_tokens: TokenCounter, budget: int) -> Iterator[tuple[str, int]]:
    """Split a block larger than a chunk: fences and formulas at line boundaries (re-wrapped so
    each piece is well-formed), prose at sentences, then at words."""
    if block.kind in ("fence", "math"):
        lines = block.text.splitlines()
        opener = lines[0] if block.kind == "fence" else "$$"
        closer = (_FENCE_OPEN.match(lines[0]).group(1) if block.kind == "fence" else "$$")
        body = lines[1:-1] if len(lines) > 2 else lines
        if block.kind == "math" and len(lines) == 1:
            body = [lines[0].strip().strip("$")]
        wrap_cost = sum(count_tokens([opener, closer]))
        yield from _pack([*body], count_tokens, budget - wrap_cost, "\n",
                         wrap=lambda s: f"{opener}\n{s}\n{closer}", extra=wrap_cost)
        return
    sentences = _SENTENCE_END.split(block.text)
    yield from _pack(sentences, count_tokens, budget, " ")


def _pack(units: list[str], count_tokens: TokenCounter, budget: int, joiner: str,
          wrap: Callable[[str], str] = lambda s: s, extra: int = 0) -> Iterator[tuple[str, int]]:
    sizes = count_tokens(units)
    current: list[str] = []
    used = 0
    for unit, size in zip(units, sizes):
        if size > budget:  # a single sentence or line too long: fall back to words
            if current:
                yield wrap(joiner.join(current)), used + extra
                current, used = [], 0
            words = unit.split(" ")
            yield from _pack(words, count_tokens, budget, " ", wrap, extra) if len(words) > 1 \
                else _hard_split(unit, count_tokens, budget, wrap, extra)
            continue
        if current and used + size > budget:
            yield wrap(joiner.join(current)), used + extra
            current, used = [], 0
        current.append(unit)
        used += size
    if current:
        yield wrap(joiner.join(current)), used + extra


def _hard_split(unit: str, count_tokens: TokenCounter, budget: int,
                wrap: Callable[[str], str], extra: int) -> Iterator[tuple[str, int]]:
    """A single unbroken token run (a long URL, base64) bigger than a chunk: cut by characters."""
    step = max(1, len(unit) // (count_tokens([unit])[0] // max(budget, 1) + 1))
    for start in range(0, len(unit), step):
        piece = unit[start:start + step]
        yield wrap(piece), count_tokens([piece])[0] + extra
