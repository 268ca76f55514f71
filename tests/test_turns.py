"""A question in a conversation either leans on the turn before it or starts a topic of its own
(`app.answering.turns`)."""

from __future__ import annotations

import pytest

from app.answering.turns import continues
from evals.turns import turn_accuracy


@pytest.mark.parametrize(
    "question",
    [
        "and at test time?",
        "Can you show me a small example?",
        "Why does that matter so much for the gradients?",
        "how do I choose k?",
        "So which one should I pick for my comparison assignment?",
        "what about in eval mode?",
        "for relu too?",
        "Can you show me with a tiny corpus?",  # "tiny", like "small", asks how, not what about
        "Could you show me with actual numbers?",
    ],
)
def test_a_follow_up_leans_on_the_turn_before(question: str) -> None:
    assert continues(question)


@pytest.mark.parametrize(
    "question",
    [
        "What's the difference between multi-head and single-head attention?",
        "What is batch normalization?",
        "What is warmup and why do transformers use it?",  # "it" points inside the question
        "How does QLoRA quantize the base model weights?",
    ],
)
def test_a_question_that_names_its_own_subject_starts_a_new_topic(question: str) -> None:
    assert not continues(question)


def test_the_labelled_turn_pairs_are_told_apart() -> None:
    report = turn_accuracy()
    assert report["held_out"]["pairs"] >= 40 and report["dev"]["pairs"] >= 40
    assert report["held_out"]["accuracy"] >= 0.9, report
