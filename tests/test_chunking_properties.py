"""Property: whatever the markup, chunking loses no text and every heading heads its section.

Generated documents mix what broke real notes (case 06): fences left open, `$$...$$,` with
trailing punctuation, indented and `~~~` fences, `#` lines inside code, HTML blocks, tables,
very long single lines and a last section that is only a heading.
"""

from __future__ import annotations

import re

from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from app.ingest.chunking import chunk_markdown
from app.ingest.chunking import parse_blocks

WORD = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyz0123456789_.,;:!?()[]*+/'\"é中", min_size=1, max_size=10
)


def count(texts: list[str]) -> list[int]:
    """A stand-in tokenizer: words plus a share of characters, so long words cost more."""
    return [len(t.split()) + len(t) // 40 for t in texts]


BLOCKS = {  # code may hold lines that look like headings; closed fences carry an info string
    "paragraph": "{prose}",
    "long line": "{long}",
    "fence": "{indent}{fence}python\n# {prose}\n\n## not a heading\n{indent}{fence}",
    "math line": "$$ {prose} $${punct}",
    "math block": "$$\n{prose}\n$$",
    "html": '<div class="note">\n<p>{prose}</p>\n</div>',
    "table": "| {marker} | b |\n|---|---|\n| {cells} |",
}
LAST_BLOCKS = {  # left open: they run to the next heading, so only last in a section
    # Longer than any later fence and with an info string: a later ``` would close a ``` left
    # open (CommonMark), and the heading between them would rightly be code.
    "unclosed fence": "{indent}{open_fence}{info}\n{prose}\n\n{prose}",
    "unclosed math": "$$\n{prose}",
}


@st.composite
def body_block(draw: st.DrawFn, marker: str, last: bool) -> str:
    """One block of a section; `marker` is a word only this section's prose contains."""
    words = draw(st.lists(WORD, min_size=1, max_size=12))
    templates = BLOCKS | (LAST_BLOCKS if last else {})
    return templates[draw(st.sampled_from(sorted(templates)))].format(
        marker=marker,
        prose=" ".join([marker, *words]),
        cells=" | ".join(words[:2]),
        long=f"{marker} " + " ".join(words) * draw(st.integers(20, 80)),
        indent=" " * draw(st.integers(0, 3)),
        fence=draw(st.sampled_from(["```", "~~~", "````"])),
        open_fence=draw(st.sampled_from(["`````", "~~~~~"])),
        info=draw(st.sampled_from(["python", "bash"])),
        punct=draw(st.sampled_from(["", ",", ".", ";"])),
    )


@st.composite
def documents(draw: st.DrawFn) -> tuple[str, list[tuple[str, str]]]:
    """(markdown, [(section heading, the marker its prose carries)])."""
    parts, sections = [], []
    count_ = draw(st.integers(1, 6))
    for i in range(count_):
        name, marker = f"Section{i} {draw(WORD.filter(str.isalnum))}", f"mark{i}x"
        parts.append(f"{'#' * draw(st.integers(1, 4))} {name}")
        heading_only = i == count_ - 1 and draw(st.booleans())
        if not heading_only:
            blocks = draw(st.integers(1, 4))
            parts += [draw(body_block(marker, last=b == blocks - 1)) for b in range(blocks)]
            sections.append((name, marker))
    return "\n\n".join(parts) + "\n", sections


def is_subsequence(needle: str, haystack: str) -> bool:
    chars = iter(haystack)
    return all(c in chars for c in needle)


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=documents(), max_tokens=st.integers(16, 90))
def test_no_text_is_lost_and_every_heading_heads_its_section(
    doc: tuple[str, list[tuple[str, str]]], max_tokens: int
) -> None:
    markdown, sections = doc
    chunks = chunk_markdown(markdown, count, max_tokens, min_tokens=8)
    # Every non-space character, in order (split fences add their re-wrapping markers).
    assert is_subsequence(squeeze(markdown), "".join(squeeze(c.text) for c in chunks))
    for name, marker in sections:
        holders = [b for b in parse_blocks(markdown) if b.kind != "heading" and marker in b.text]
        assert holders and all(b.path[-1] == name for b in holders), (name, holders)
        # The encoder reads the section's heading with its text (in the path, or a small
        # section's own heading line inside a chunk it shares).
        assert any(name in c.embed_text for c in chunks if marker in c.text)
