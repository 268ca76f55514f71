"""A question that asks several things is answered part by part (`app.answering.asks`)."""

from __future__ import annotations

import pytest

from app.answering.asks import asks
from app.answering.compose import compose_asks


@pytest.mark.parametrize(
    ("question", "parts"),
    [
        (
            "why is naive bayes naive, and whats the point of adding 1 to the counts",
            ["why is naive bayes naive", "whats the point of adding 1 to the counts"],
        ),
        (
            "what is perplexity and how is it related to the loss?",
            ["what is perplexity", "how is it related to the loss?"],
        ),
        (
            "Why divide by sqrt(d_k)? What happens without it?",
            ["Why divide by sqrt(d_k)", "What happens without it?"],
        ),
        # one ask: a clause before the question, a comparison, a remark after it
        ("When BERT masks tokens, does every chosen token become [MASK]?", None),
        ("What is the difference between batch norm and layer norm?", None),
        ("Why do I have to subtract the mean before PCA? Without it my plot looks weird.", None),
    ],
)
def test_a_question_splits_into_the_things_it_asks(question: str, parts: list[str] | None) -> None:
    assert [a.words for a in asks(question)] == (parts or [question])


def test_a_later_part_is_searched_with_the_topic_it_leans_on() -> None:
    later = asks("what is perplexity and how is it related to the loss?")[1]
    assert later.search == "how is it related to the loss? perplexity"


DROPOUT = """## Dropout

**Definition.** Dropout zeroes each activation with probability $p$ during training, and does nothing at test time.

**Intuition.** Units cannot rely on specific partners, so they learn redundant features.
"""


def test_each_part_is_answered_and_a_part_the_notes_miss_is_named(embedder) -> None:
    parts = asks("What does dropout do at test time, and how do I pick a learning rate for Adam?")
    composed = compose_asks(parts, [DROPOUT], embedder.embed)
    assert any("test time" in q.text for q in composed.quotes)
    assert composed.uncovered == ("how do I pick a learning rate for Adam?",)
