"""Text as a reader sees it (`app.as_read`), at the one place in ingest every format passes
through and on every query: ligatures, compatibility forms, invisible characters and line-end
hyphens are what a reader sees; formulas and code are kept byte for byte. Case 20 (a typeset
PDF) and two inputs of our own of the same kind."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from app.as_read import as_read
from app.ingest.loaders import load
from app.search.lexical import LexicalIndex
from app.search.retrieval import Retriever
from tests.conftest import write

CASE = Path(__file__).resolve().parents[2] / "shared" / "cases" / "20-pdf-ligatures-and-hyphens"


def test_ligatures_and_compatibility_forms_read_as_their_letters() -> None:
    assert as_read("Over\ufb01tting \ufb02ows di\ufb00erently, e\ufb03cient") == (
        "Overfitting flows differently, efficient"
    )
    assert (
        as_read("\uff21\uff24\uff21\uff2d and a\u00a0no-break space") == "ADAM and a no-break space"
    )


def test_forms_whose_meaning_is_their_shape_stay() -> None:
    """A superscript, a fraction or a circled number means something else written plainly,
    and a full-width comma is how Chinese is punctuated."""
    for kept in (
        "x\u00b2 + y\u00b2",
        "\u00bd of the batch",
        "step \u2460",
        "10\u207b\u00b3",
        "\u68af\u5ea6\uff0c\u7136\u540e\u3002",
    ):
        assert as_read(kept) == kept


def test_invisible_characters_inside_words_are_removed() -> None:
    noisy = "over\u00adfit\u200bting, \ufeffdrop\u200dout and \u202eattention\u202c"
    assert as_read(noisy) == "overfitting, dropout and attention"


@pytest.mark.parametrize(
    "typeset, read",
    [
        ("is regulariza-\ntion: weight decay", "is regularization: weight decay"),
        ("were over-\n  written by", "were overwritten by"),  # one word: joined
        ("a well-\nknown trick", "a well-known trick"),  # two words, "wellknown" is none
        ("fine-tune a pre-\ntrained model", "fine-tune a pretrained model"),
        ("uses back-\npropagation; backpropagation is", "uses backpropagation; backpropagation is"),
        ("the year 20-\n21", "the year 20-\n21"),  # not a word split
        ("a list:\n-\nitem", "a list:\n-\nitem"),
    ],
)
def test_a_word_hyphenated_at_a_line_end_is_joined_where_it_is_one_word(typeset, read) -> None:
    assert as_read(typeset) == read


def test_formulas_and_code_are_kept_byte_for_byte() -> None:
    formula = "$$\n\\mathcal{L} = -\\sum_i y_i \\log \\hat{y}_i \u00ad \ufb01-\nx\n$$"
    inline = "$a\u200bb$ and `co\ufb01g`"
    fence = "```python\nx = 'e\ufb00ect-\nive'  # \u00ad\n```"
    text = f"Over\ufb01tting:\n\n{formula}\n\n{inline}\n\n{fence}\n"
    read = as_read(text)
    assert read.startswith("Overfitting:")
    for kept in (formula, inline, fence):
        assert kept in read


INVISIBLE = ["\u00ad", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"]
LIGATURES = {"ff": "\ufb00", "fi": "\ufb01", "fl": "\ufb02", "ffi": "\ufb03", "ffl": "\ufb04"}


@st.composite
def typeset(draw) -> tuple[str, str]:
    """(what a reader sees, the same text with ligature glyphs and invisible characters)."""
    words = draw(
        st.lists(st.text("abcdefilorstuw", min_size=1, max_size=12), min_size=1, max_size=30)
    )
    seen = " ".join(words)
    noisy = seen
    for letters, glyph in sorted(LIGATURES.items(), key=lambda kv: -len(kv[0])):
        if draw(st.booleans()):
            noisy = noisy.replace(letters, glyph)
    chars = list(noisy)
    for _ in range(draw(st.integers(0, 20))):
        at = draw(st.integers(0, len(chars)))
        chars.insert(at, draw(st.sampled_from(INVISIBLE)))
    return seen, "".join(chars)


@settings(max_examples=300, deadline=None)
@given(typeset())
def test_what_is_indexed_equals_what_a_reader_sees(pair) -> None:
    seen, noisy = pair
    assert as_read(noisy) == seen
    assert as_read(as_read(noisy)) == as_read(noisy)  # idempotent


# -- through ingest and search -------------------------------------------------------------------


def lexical_sources(ingestor, query: str) -> list[str]:
    index = LexicalIndex(ingestor.store, ingestor.settings.data_dir)
    return [ingestor.store.get([i])[0].metadata["source"] for i, _ in index.search(query, 5)]


def test_case_20_a_typeset_pdf_is_found_by_the_words_a_learner_types(ingestor, embedder) -> None:
    if not (CASE / "notes").is_dir():
        pytest.skip(f"case inputs not found at {CASE / 'notes'}")
    text = load(CASE / "notes" / "lecture-notes.pdf").text
    assert "Overfitting happens when a model fits the noise" in text
    assert "regularization" in text and "\ufb01" not in text
    ingestor.run([str(CASE / "notes")])
    for query in ("overfitting", "regularization", "overwritten", "What is overfitting?"):
        assert lexical_sources(ingestor, query)[0] == "lecture-notes.pdf", query
    index = LexicalIndex(ingestor.store, ingestor.settings.data_dir)
    hybrid = Retriever(ingestor.store, embedder, index)
    assert hybrid.search("What is overfitting?", k=1)[0].source == "lecture-notes.pdf"
    assert hybrid.search("What is overﬁtting?", k=1)[0].source == "lecture-notes.pdf"


def test_a_web_page_with_soft_hyphens_and_zero_width_spaces_is_found_by_its_words(
    ingestor, tmp_path
) -> None:
    page = (
        "<html><body><h1>Regu\u00adlari\u00adzation</h1><p>Drop\u200bout zeroes activations "
        "at random during training, and weight de\u00adcay shrinks the weights.</p>"
        "</body></html>"
    )
    write(tmp_path / "notes" / "regularization.html", page)
    write(tmp_path / "notes" / "other.md", "# Optimizers\n\nAdam keeps moving averages.\n")
    ingestor.run([str(tmp_path / "notes")])
    for query in ("dropout", "weight decay", "regularization"):
        assert lexical_sources(ingestor, query)[0] == "regularization.html", query


def test_a_text_with_other_ligatures_and_wide_letters_meets_a_query_written_either_way(
    ingestor, tmp_path
) -> None:
    write(
        tmp_path / "notes" / "gradients.txt",
        "Gradient \ufb02ow through a deep network su\ufb00ers when e\ufb03cient paths are "
        "missing; \uff32\uff45\uff53\uff4e\uff45\uff54 adds skip connections.\n",
    )
    write(tmp_path / "notes" / "other.md", "# Optimizers\n\nAdam keeps moving averages.\n")
    ingestor.run([str(tmp_path / "notes")])
    for query in ("gradient flow", "suffers", "efficient", "ResNet", "gradient \ufb02ow"):
        assert lexical_sources(ingestor, query)[0] == "gradients.txt", query
