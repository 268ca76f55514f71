"""Chunks follow the document's structure and always fit the embedding model's window."""

from __future__ import annotations

from pathlib import Path

from app.ingest.chunking import chunk_markdown
from app.ingest.chunking import parse_blocks


def words(texts: list[str]) -> list[int]:
    """A stand-in token counter for hand-worked examples: one token per word."""
    return [len(t.split()) for t in texts]


def test_hand_worked_example_splits_at_headings_and_keeps_the_path() -> None:
    doc = "# RNNs\n\nIntro words here.\n\n## LSTM\n\nGates control memory.\n\n### Forget gate\n\nIt forgets.\n"
    chunks = chunk_markdown(doc, words, max_tokens=50, title="RNNs", min_tokens=3)
    assert [c.heading for c in chunks] == ["RNNs", "RNNs > LSTM", "RNNs > LSTM > Forget gate"]
    assert chunks[1].text == "## LSTM\n\nGates control memory."
    assert chunks[2].embed_text == "RNNs > LSTM > Forget gate\n### Forget gate\n\nIt forgets."


def test_small_sections_share_a_chunk_until_it_is_big_enough() -> None:
    doc = "## A\n\none\n\n## B\n\ntwo\n\n## C\n\n" + "word " * 30
    chunks = chunk_markdown(doc, words, max_tokens=100, min_tokens=10)
    assert len(chunks) == 1 and chunks[0].heading == "A"


def test_a_sibling_heading_replaces_the_previous_one_in_the_path() -> None:
    blocks = parse_blocks("# T\n## A\ntext\n## B\ntext\n### B1\ntext\n# U\ntext\n")
    assert [b.path for b in blocks if b.kind == "text"] == [
        ("T", "A"),
        ("T", "B"),
        ("T", "B", "B1"),
        ("U",),
    ]


def test_code_fences_are_never_cut_and_may_contain_fake_headings() -> None:
    code = "```python\n# not a heading\nx = 1\n\ny = 2\n```"
    doc = "## Code\n\n" + "intro " * 30 + "\n\n" + code + "\n\n" + "outro " * 30
    chunks = chunk_markdown(doc, words, max_tokens=40, min_tokens=1)
    holding = [c for c in chunks if "x = 1" in c.text]
    assert len(holding) == 1 and code in holding[0].text
    assert all("not a heading" not in c.heading for c in chunks)


def test_display_formulas_are_never_cut() -> None:
    formula = "$$\n\\mathrm{Attention}(Q,K,V) =\n\\mathrm{softmax}(QK^T/\\sqrt{d_k}) V\n$$"
    doc = "para " * 25 + "\n\n" + formula + "\n\n" + "para " * 25
    chunks = chunk_markdown(doc, words, max_tokens=30, min_tokens=1)
    assert sum(formula in c.text for c in chunks) == 1
    assert all(c.text.count("$$") % 2 == 0 for c in chunks)


def test_a_fence_bigger_than_a_chunk_is_split_into_well_formed_fences() -> None:
    code = "```python\n" + "\n".join(f"line_{i} = {i}" for i in range(60)) + "\n```"
    chunks = chunk_markdown(code, words, max_tokens=40, min_tokens=1)
    assert len(chunks) > 1
    for chunk in chunks:
        assert chunk.text.startswith("```python\n") and chunk.text.endswith("\n```")
        assert chunk.tokens <= 40
    body = [line for c in chunks for line in c.text.splitlines() if line.startswith("line_")]
    assert body == [f"line_{i} = {i}" for i in range(60)]  # nothing lost, nothing repeated


def test_a_long_paragraph_is_split_at_sentences() -> None:
    text = " ".join(f"Sentence number {i} ends here." for i in range(40))
    chunks = chunk_markdown(text, words, max_tokens=25, min_tokens=1)
    assert len(chunks) > 1
    assert all(c.text.endswith("ends here.") for c in chunks)
    assert " ".join(c.text for c in chunks) == text


def test_an_unbreakable_token_run_is_split_rather_than_truncated() -> None:
    def chars(texts: list[str]) -> list[int]:
        return [len(t) // 4 + 1 for t in texts]

    blob = "x" * 4000
    chunks = chunk_markdown(blob, chars, max_tokens=100, min_tokens=1)
    assert "".join(c.text for c in chunks) == blob
    assert all(c.tokens <= 100 for c in chunks)


def test_empty_documents_give_no_chunks() -> None:
    assert chunk_markdown("", words, 50) == []
    assert chunk_markdown("\n  \n", words, 50) == []


def test_a_trailing_heading_only_section_stays_in_the_index() -> None:
    doc = "# Optimisers\n\n" + "Adam keeps moment estimates. " * 20 + "\n\n## Further reading\n"
    chunks = chunk_markdown(doc, words, max_tokens=60, min_tokens=10)
    assert chunks[-1].text == "## Further reading"
    assert chunks[-1].heading == "Optimisers > Further reading"


def test_heading_lines_open_the_chunk_of_a_block_too_big_to_share_one() -> None:
    doc = "## Gates\n\n" + " ".join(f"Gate {i} opens." for i in range(30))
    chunks = chunk_markdown(doc, words, max_tokens=40, min_tokens=1)
    assert chunks[0].text.startswith("## Gates\n\nGate 0 opens.")
    assert all(c.tokens <= 40 for c in chunks)


def _assert_no_chunk_is_truncated(embedder, markdown: str, title: str) -> int:
    """Chunked with the encoder's own word-piece counts, no chunk plus [CLS] and [SEP] is
    longer than the window the encoder reads."""
    chunks = chunk_markdown(markdown, embedder.count_tokens, embedder.max_tokens - 2, title)
    for chunk in chunks:
        (real,) = embedder.count_tokens([chunk.embed_text], special=True)
        assert real <= embedder.max_tokens, (title, chunk.heading, real)
    return len(chunks)


def test_no_chunk_of_our_notes_exceeds_the_model_window(embedder) -> None:
    from app.course.notes import read_notes

    for note in read_notes():
        assert _assert_no_chunk_is_truncated(embedder, note.body, note.meta.title) > 0


def test_no_chunk_of_the_public_notes_exceeds_the_model_window(
    embedder, public_notes: Path
) -> None:
    for path in sorted(public_notes.rglob("*.md*"))[::4]:  # a quarter of them keeps this fast
        _assert_no_chunk_is_truncated(embedder, path.read_text(), path.stem)
