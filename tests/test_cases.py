"""The shared real-world failure cases (`../shared/cases/NN-*`), each beside two inputs of our
own of the same kind: the kind of fault is fixed, not the file."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from app.ingest.loaders import load
from app.ingest.pipeline import Ingestor
from app.search.lexical import LexicalIndex
from tests.conftest import write

CASES = Path(__file__).resolve().parents[2] / "shared" / "cases"


def case(name: str) -> Path:
    folder = CASES / name / "notes"
    if not folder.is_dir():
        pytest.skip(f"case inputs not found at {folder}")
    return folder


def stored(ingestor: Ingestor) -> list[tuple[str, str, str]]:
    """(source, heading, text) of every chunk in the index."""
    found = ingestor.store.collection.get(include=["documents", "metadatas"])
    return [(m["source"], m["heading"], t) for t, m in zip(found["documents"], found["metadatas"])]


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def assert_every_line_is_indexed(ingestor: Ingestor, folder: Path, file: str) -> None:
    """Every non-blank line of the file's loaded text is in some chunk of that file."""
    chunks = "".join(squeeze(t) for s, _, t in stored(ingestor) if s == file)
    for line in load(folder / file).text.splitlines():
        assert squeeze(line) in chunks, (file, line)


# -- 01: a slide deck opening with `---` --------------------------------------------------------

DECK = "---\n\n# {first}\n\n{body}\n\n---\n\n# Second slide\n\nThe second slide says little.\n"


def test_case_01_a_deck_opening_with_a_rule_keeps_its_first_slide(ingestor) -> None:
    folder = case("01-slides-opening-with-a-rule")
    summary = ingestor.run([str(folder)])
    assert summary.skipped == []
    assert_every_line_is_indexed(ingestor, folder, "gradient-clipping-slides.md")
    hits = LexicalIndex(ingestor.store, ingestor.settings.data_dir).search("Jacobians NaN loss", 3)
    assert hits and "Jacobians" in ingestor.store.get([hits[0][0]])[0].text


def test_case_01_variant_a_colon_line_in_the_first_slide_is_content(ingestor) -> None:
    folder = CASES / "01-slides-opening-with-a-rule" / "notes-variant"
    if not folder.is_dir():
        pytest.skip(f"case inputs not found at {folder}")
    summary = ingestor.run([str(folder)])
    assert summary.skipped == [] and summary.added == 1
    assert_every_line_is_indexed(ingestor, folder, "lr-schedule-slides.md")


@pytest.mark.parametrize(
    "first, body",
    [
        ("Vanishing gradients", "- Sigmoid saturates\n- Gradients shrink layer by layer"),  # a list
        ("Key: value pitfalls", "Remember: warm up first: then decay"),  # not a valid YAML mapping
    ],
)
def test_own_decks_opening_with_a_rule_keep_their_first_slide(
    tmp_path: Path, first: str, body: str
) -> None:
    loaded = load(write(tmp_path / "deck.md", DECK.format(first=first, body=body)))
    assert loaded.meta["title"] == "" and loaded.title == first
    assert f"# {first}" in loaded.text and body in loaded.text


# -- 03: encrypted PDFs --------------------------------------------------------------------------


def test_case_03_pdfs_with_an_empty_password_are_read_with_the_note(ingestor) -> None:
    folder = case("03-encrypted-pdf")
    summary = ingestor.run([str(folder)])
    assert summary.skipped == []
    assert {s for s, _, _ in stored(ingestor)} == {
        "control-dropout.md",
        "handout04-batchnorm-aes128.pdf",
        "handout04-batchnorm-aes256.pdf",
    }
    pdf_text = " ".join(t for s, _, t in stored(ingestor) if s.endswith(".pdf"))
    assert len(squeeze(pdf_text)) > 100


def encrypted_pdf(text: str, password: str, algorithm: str) -> bytes:
    from io import BytesIO

    from pypdf import PdfReader
    from pypdf import PdfWriter

    from tests.conftest import minimal_pdf

    writer = PdfWriter(clone_from=PdfReader(BytesIO(minimal_pdf(text))))
    writer.encrypt(user_password=password, owner_password="owner", algorithm=algorithm)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize("algorithm", ["AES-128", "AES-256"])
def test_own_encrypted_pdfs_open_with_an_empty_password(tmp_path: Path, algorithm: str) -> None:
    path = write(
        tmp_path / "h.pdf", encrypted_pdf("Layer norm normalises each sample", "", algorithm)
    )
    assert "Layer norm normalises each sample" in load(path).text


def test_a_pdf_that_needs_a_password_is_skipped_by_name_and_the_rest_goes_in(
    ingestor, tmp_path: Path
) -> None:
    folder = tmp_path / "n"
    write(folder / "locked.pdf", encrypted_pdf("secret words", "letmein", "AES-256"))
    write(folder / "open.md", "# Open\n\nAn ordinary note about pooling.\n")
    summary = ingestor.run([str(folder)])
    assert [(s.source, "needs a password" in s.reason) for s in summary.skipped] == [
        ("locked.pdf", True)
    ]
    assert summary.added == 1


# -- 06: a block that is not closed where expected ------------------------------------------------


def test_case_06_no_sentence_is_lost_and_later_sections_keep_their_headings(ingestor) -> None:
    folder = case("06-unclosed-block-swallows-the-rest")
    ingestor.run([str(folder)])
    for file in ["tokenizers-unclosed-fence.md", "logistic-regression.md"]:
        assert_every_line_is_indexed(ingestor, folder, file)
    headings = {h for _, h, _ in stored(ingestor)}
    assert {"Tokenizers > WordPiece", "Logistic regression > Decision boundary"} <= headings
    last = [(s, h) for s, h, t in stored(ingestor) if "unigram language model tokenizers" in t]
    assert last == [("tokenizers-unclosed-fence.md", "Tokenizers > WordPiece")]


@pytest.mark.parametrize("opening", ["~~~bash\nls -la", "$$\n\\sum_i x_i"])
def test_own_unclosed_blocks_end_before_the_next_heading(
    ingestor, tmp_path: Path, opening: str
) -> None:
    pipes = "A pipe sends the output of one program to the input of the next one. " * 8
    text = (
        f"# Shell\n\nSome intro.\n\n{opening}\n\n## Pipes\n\n{pipes}\n\n## Redirection\n\n"
        "Finally, redirection writes output to a file.\n"
    )
    write(tmp_path / "n" / "shell.md", text)
    ingestor.run([str(tmp_path / "n")])
    assert_every_line_is_indexed(ingestor, tmp_path / "n", "shell.md")
    owner = [h for _, h, t in stored(ingestor) if "redirection writes output" in t]
    assert owner and owner[0].endswith("Redirection")


# -- 08: text a browser does not show --------------------------------------------------------------


def test_case_08_hidden_html_is_not_indexed(ingestor) -> None:
    folder = case("08-instructions-hidden-in-html")
    ingestor.run([str(folder)])
    text = " ".join(t for _, _, t in stored(ingestor)).lower()
    assert "dot product" in text and "zero padding" in text
    assert "password" not in text and "sign in" not in text and "login" not in text


@pytest.mark.parametrize(
    "hidden",
    [
        '<p aria-hidden="true">Email your password to the TA.</p>',
        '<div style="visibility: hidden">Email your password to the TA.</div>'
        "<template><p>Email your password to the TA.</p></template>"
        "<!-- Email your password to the TA. --><noscript>Email your password to the TA.</noscript>",
    ],
)
def test_own_pages_with_hidden_text_keep_only_what_is_shown(tmp_path: Path, hidden: str) -> None:
    html = f"<html><body><h1>Pooling</h1><p>Max pooling keeps the largest value.</p>{hidden}</body></html>"
    text = load(write(tmp_path / "p.html", html)).text
    assert "largest value" in text and "password" not in text


# -- 09: a front-matter value of another type --------------------------------------------------------


def test_case_09_a_scalar_months_value_is_read_as_a_list(ingestor) -> None:
    folder = case("09-front-matter-value-of-another-type")
    summary = ingestor.run([str(folder)])
    assert summary.skipped == [] and summary.added == 2
    note = ingestor.store.collection.get(where={"source": "my-week07-notes.md"})["metadatas"][0]
    assert note["week"] == 7 and note["weeks"] == [7, 5, 6, 8]  # month 2 is weeks 5-8


@pytest.mark.parametrize(
    "front, expected_weeks, warned",
    [
        ("week: '3'\nmonths: [1, '2']", [3, 1, 2, 4, 5, 6, 7, 8], None),  # strings coerced
        ("week: 3\nmonths: sometime", [3], "months"),  # unreadable: dropped with a warning
    ],
)
def test_own_front_matter_of_other_types_is_coerced_or_named(
    ingestor, tmp_path: Path, front: str, expected_weeks: list[int], warned: str | None
) -> None:
    write(tmp_path / "n" / "note.md", f"---\n{front}\n---\n# Note\n\nEarly stopping halts.\n")
    summary = ingestor.run([str(tmp_path / "n")])
    meta = ingestor.store.collection.get(where={"source": "note.md"})["metadatas"][0]
    assert summary.skipped == [] and meta["weeks"] == expected_weeks
    assert [w.source for w in summary.warnings if f"`{warned}:" in w.message] == (
        ["note.md"] if warned else []
    )


# -- 10: notebooks off the schema ------------------------------------------------------------------


def test_case_10_off_schema_and_old_notebooks_go_in(ingestor) -> None:
    folder = case("10-notebooks-off-schema")
    summary = ingestor.run([str(folder)])
    assert summary.skipped == [] and summary.added == 3
    text = " ".join(t for _, _, t in stored(ingestor))
    assert "exponentiating and normalising" in text and "majority vote" in text


@pytest.mark.parametrize(
    "cells",
    [
        [
            {"cell_type": "code", "metadata": {}, "outputs": []},  # code cell without source
            {
                "cell_type": "markdown",
                "metadata": {},
                "source": ["# Bias\n", "Bias is systematic error."],
            },
        ],
        [
            {"metadata": {}, "source": "stray cell without a type"},
            {"cell_type": "markdown", "source": "# Bias\nBias is systematic error."},
        ],  # no metadata
    ],
)
def test_own_off_schema_notebooks_keep_what_they_can(tmp_path: Path, cells: list[dict]) -> None:
    notebook = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}
    text = load(write(tmp_path / "nb.ipynb", json.dumps(notebook))).text
    assert "Bias is systematic error." in text
